/** RFC 6962 Merkle logs: hashing, appending, proving from stored nodes, verifying. */
export * from './errors.js';
export * from './hasher.js';
export * from './range.js';
export * from './preconditions.js';
export * from './append.js';
export * from './prover.js';
export * from './verifier.js';
export * from './tiles.js';
export * from './entry-bundle.js';
