import 'reflect-metadata';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import './canonical-record.schema.js';

/**
 * The canonical record v1 as JSON Schema (draft 2020-12 compatible subset), generated from
 * the class-validator schema so the published document cannot drift from the validator.
 * Checked into docs/record.schema.json; a spec fails when they differ.
 */
export function recordJsonSchema(): Record<string, unknown> {
  const definitions = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    classValidatorMetadataStorage: getMetadataStorage(),
    refPointerPrefix: '#/$defs/',
  });
  // Sorted so the document does not depend on decorator evaluation order (tsc vs ts-jest).
  const schemaDefs = Object.fromEntries(
    Object.entries(definitions)
      .filter(([name]) => name.endsWith('Schema'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, def]) => [name, { ...def, ...(def.required ? { required: [...def.required].sort() } : {}) }]),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://routing-ledger.dev/schemas/canonical-record/v1.json',
    title: 'routing-ledger canonical routing record, schema v1',
    $ref: '#/$defs/CanonicalRecordSchema',
    $defs: schemaDefs,
  };
}
