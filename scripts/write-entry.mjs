// `node dist/main.js` is the conventional entry point; the compiled tree keeps src/ and
// migrations/ side by side under dist/, so dist/main.js forwards to dist/src/main.js.
import { writeFileSync } from 'node:fs';
writeFileSync('dist/main.js', "import './src/main.js';\n");
