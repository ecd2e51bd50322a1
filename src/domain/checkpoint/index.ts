/** Signed checkpoints: Ed25519 keys, compact JWS, checkpoint payloads. */
export * from './checkpoint.js';
export * from './ed25519.js';
export * from './signing-key.js';
export * from './checkpoint-jws.js';
