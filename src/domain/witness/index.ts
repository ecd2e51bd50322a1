/** Witnessing: cosignatures, witness policies, the add-checkpoint exchange, tlog-proofs. */
export * from './witness-error.js';
export * from './cosignature.js';
export * from './witness-policy.js';
export * from './add-checkpoint.js';
export * from './tlog-proof.js';
