import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { recordJsonSchema } from '../domain/record/record-json-schema.js';

/** `node dist/src/cli/record-schema.js [out.json]`: prints (or writes) the record's JSON Schema. */
const text = `${JSON.stringify(recordJsonSchema(), null, 2)}\n`;
if (process.argv[2]) writeFileSync(process.argv[2], text);
else process.stdout.write(text);
