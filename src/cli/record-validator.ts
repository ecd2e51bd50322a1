import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { recordValidatorSource } from '../domain/record/record-validator-source.js';

/** `node dist/src/cli/record-validator.js`: rewrites src/domain/record/record-validator.generated.ts. */
writeFileSync(process.argv[2] ?? 'src/domain/record/record-validator.generated.ts', recordValidatorSource());
