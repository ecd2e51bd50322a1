import { readFileSync } from 'node:fs';
import { recordJsonSchema } from './record-json-schema.js';

describe('recordJsonSchema', () => {
  const schema = recordJsonSchema() as {
    $defs: Record<string, { properties: Record<string, unknown>; required?: string[] }>;
  };

  it('describes every top-level field, with the required ones required', () => {
    const root = schema.$defs.CanonicalRecordSchema;
    expect(root.required?.sort()).toEqual(
      [
        'event_id',
        'gateway',
        'occurred_at',
        'outcome',
        'request_id',
        'requested_model',
        'schema_version',
        'source',
        'tenant_id',
      ].sort(),
    );
    expect(Object.keys(root.properties)).toEqual(
      expect.arrayContaining(['attempts', 'cost', 'fallback_used', 'policy_checks', 'region']),
    );
    expect(JSON.stringify(root.properties.attempts)).toContain('#/$defs/AttemptsSchema');
  });

  it('matches the published docs/record.schema.json (regenerate: node dist/src/cli/record-schema.js docs/record.schema.json)', () => {
    const published = JSON.parse(readFileSync('docs/record.schema.json', 'utf8'));
    expect(published).toEqual(JSON.parse(JSON.stringify(schema)));
  });
});
