import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * {name, version} of this build, read from the nearest package.json above this module (the
 * sources under ts-jest/tsx and the compiled dist/ tree sit at different depths). Written into
 * every bundle's manifest so an auditor knows which generator produced it.
 */
export function generatorInfo(): { name: string; version: string } {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // not here: keep climbing
    }
    const parent = dirname(dir);
    if (parent === dir) return { name: 'routing-ledger', version: 'unknown' };
    dir = parent;
  }
}
