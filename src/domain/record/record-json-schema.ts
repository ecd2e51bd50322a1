import 'reflect-metadata';
import { defaultMetadataStorage } from 'class-transformer/cjs/storage.js';
import { getMetadataStorage, MAX, MIN, ValidationTypes } from 'class-validator';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
import { defaultConverters, type SchemaConverter } from 'class-validator-jsonschema/build/defaultConverters.js';
import { RFC3339_UTC_MS } from './canonical-record.schema.js';

/**
 * The canonical record v1 as JSON Schema (draft 2020-12), generated from the class-validator
 * schema so the published document cannot drift from the validator. Checked into
 * docs/record.schema.json; a spec fails when they differ.
 *
 * Exact, not merely descriptive: the ingest hot path validates with a validator compiled from
 * this document (record-validator.generated.ts), proven to give class-validator's verdict.
 * So every object forbids unknown members (the class-validator gate runs with whitelist and
 * forbidNonWhitelisted), IsInt stays "integer" next to Min/Max, and the two custom
 * constraints get their JSON Schema form. One rule has none: a timestamp must also round-trip
 * through Date (2026-02-30T00:00:00.000Z matches the pattern but is no date); the validator
 * checks that after the schema (validate-record.ts).
 */
export function recordJsonSchema(): Record<string, unknown> {
  const definitions = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    classValidatorMetadataStorage: getMetadataStorage(),
    refPointerPrefix: '#/$defs/',
    additionalConverters: {
      [ValidationTypes.CUSTOM_VALIDATION]: ((meta, options) =>
        customConstraint(meta.name) ?? convertDefault(meta, options)) satisfies SchemaConverter,
      // Without "type": merged after IsInt's "integer", the defaults' "number" would win.
      [MIN]: ((meta) => ({ minimum: meta.constraints[0] as number })) satisfies SchemaConverter,
      [MAX]: ((meta) => ({ maximum: meta.constraints[0] as number })) satisfies SchemaConverter,
    },
  });
  // Sorted so the document does not depend on decorator evaluation order (tsc vs ts-jest).
  const schemaDefs = Object.fromEntries(
    Object.entries(definitions)
      .filter(([name]) => name.endsWith('Schema'))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, def]) => [
        name,
        { ...def, additionalProperties: false, ...(def.required ? { required: [...def.required].sort() } : {}) },
      ]),
  );
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: 'https://routing-ledger.dev/schemas/canonical-record/v1.json',
    title: 'routing-ledger canonical routing record, schema v1',
    $ref: '#/$defs/CanonicalRecordSchema',
    $defs: schemaDefs,
  };
}

/** Timestamps: RFC 3339 UTC with milliseconds, never year 0000 (PostgreSQL has no year 0). */
export const TIMESTAMP_PATTERN = `^(?!0000)${RFC3339_UTC_MS.source.slice(1)}`;

function customConstraint(name: string | undefined): ReturnType<SchemaConverter> {
  switch (name) {
    case 'isTimestamp':
      return {
        type: 'string',
        pattern: TIMESTAMP_PATTERN,
        description: 'RFC 3339 UTC with milliseconds; must also be a real date (round-trips through Date)',
      };
    case 'isTriState':
      return { enum: [true, false, 'unknown'] };
    default:
      return undefined;
  }
}

const convertDefault: SchemaConverter = (meta, options) => {
  const fallback = defaultConverters[ValidationTypes.CUSTOM_VALIDATION];
  return typeof fallback === 'function' ? fallback(meta, options) : fallback;
};
