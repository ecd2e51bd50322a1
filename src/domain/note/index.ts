/** C2SP signed notes, Ed25519 note keys and tlog-checkpoint bodies. */
export * from './note-error.js';
export * from './note-keys.js';
export * from './signed-note.js';
export * from './tlog-checkpoint.js';
