import { InitialSchema1764086400000 } from './1764086400000-initial-schema.js';

/** Every migration, in order. Listed explicitly so that ts-jest and compiled builds load the same classes. */
export const MIGRATIONS = [InitialSchema1764086400000];
