// Bundles the incident console (web/console) into dist/console: one ES module for the browser,
// its stylesheet and index.html. The ledger's verification code (src/domain) is bundled with it;
// `node:crypto` resolves to a small browser module (SHA-256 from @noble/hashes) and `Buffer` to
// the `buffer` package, so the page runs the same verifier as the CLIs. Prints the gzipped size.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';

const out = 'dist/console';
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ['web/console/main.ts'],
  outfile: `${out}/console.js`,
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome120', 'firefox128', 'safari17'],
  minify: true,
  sourcemap: 'linked',
  legalComments: 'eof',
  alias: { 'node:crypto': './web/console/shims/node-crypto.ts' },
  inject: ['./web/console/shims/buffer-global.ts'],
  logLevel: 'warning',
});
copyFileSync('web/console/index.html', `${out}/index.html`);
copyFileSync('web/console/console.css', `${out}/console.css`);
const gz = (f) => gzipSync(readFileSync(`${out}/${f}`)).length;
if (process.env.npm_lifecycle_event === 'build:console')
  console.log(
    `console: console.js ${(gz('console.js') / 1024).toFixed(1)} KiB gzipped, console.css ${(gz('console.css') / 1024).toFixed(1)} KiB gzipped`,
  );
