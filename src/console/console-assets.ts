import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';

/**
 * The console's built files (`npm run build` bundles web/console into dist/console), read once at
 * start-up: a handful of small files, served from memory with their content type.
 */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface ConsoleAsset {
  body: Buffer;
  type: string;
}

export const CONSOLE_ASSET_NAMES = ['console.js', 'console.js.map', 'console.css'] as const;

/** index.html and the assets, or null for each file the build did not produce (a service built without the console). */
export function loadConsoleAssets(dir = CONSOLE_DIR): {
  index: ConsoleAsset | null;
  assets: Map<string, ConsoleAsset>;
} {
  const read = (name: string): ConsoleAsset | null => {
    try {
      return { body: readFileSync(join(dir, name)), type: TYPES[extname(name)] ?? 'application/octet-stream' };
    } catch {
      return null;
    }
  };
  const assets = new Map<string, ConsoleAsset>();
  for (const name of CONSOLE_ASSET_NAMES) {
    const asset = read(name);
    if (asset) assets.set(name, asset);
  }
  return { index: read('index.html'), assets };
}

/**
 * The page's Content-Security-Policy: scripts and styles from this origin only (no inline script,
 * no eval), API calls to this origin only, nothing framed, no plugins. The page fetches nothing
 * from anywhere else: the proofs are checked with what it has bundled.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');
