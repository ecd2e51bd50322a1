/**
 * Node's `Buffer`, which the domain code uses as a global, for the browser bundle (esbuild
 * injects this module: every free `Buffer` in the bundle resolves to this export).
 */
export { Buffer } from './buffer.js';
