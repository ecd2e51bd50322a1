import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { redactForDeadLetter } from '../../domain/privacy/redact.js';
import { decodeEvent } from './format-detection.js';
import { PLANTED, fixtureBytes, invalidRecords, plantedFound, rawEvent } from './fixtures/fixture-kit.js';

/** Every fixture through the public entry point: detected, adapted, valid, and nothing planted kept. */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), 'fixtures');
const ALL = readdirSync(ROOT, { withFileTypes: true })
  .filter((d) => d.isDirectory())
  .flatMap((d) =>
    readdirSync(join(ROOT, d.name))
      .filter((f) => f.endsWith('.json'))
      .map((f): [string, string] => [d.name, f]),
  );

describe('every fixture through decodeEvent', () => {
  it('covers each gateway', () => {
    expect(new Set(ALL.map(([g]) => g))).toEqual(new Set(['litellm', 'portkey', 'openrouter', 'otel', 'native']));
  });

  it.each(ALL)('%s/%s: sniffed, adapted, valid, no planted secret or content', (gateway, file) => {
    const out = decodeEvent(rawEvent(fixtureBytes(gateway, file), { 'x-routing-tenant': 'acme' }));
    expect(out.length).toBeGreaterThan(0);
    expect(invalidRecords(out)).toEqual([]);
    expect(out.every((o) => o.record.source.format === gateway)).toBe(true);
    expect(plantedFound(out)).toEqual([]);
  });

  it.each(ALL.filter(([, f]) => f.includes('secrets')))(
    '%s/%s: the dead-letter copy keeps none of the planted values',
    (gateway, file) => {
      const bytes = fixtureBytes(gateway, file);
      const before = PLANTED.filter((p) => bytes.toString('utf8').includes(p));
      expect(before.length).toBeGreaterThan(2);
      expect(plantedFound(redactForDeadLetter(bytes).toString('utf8'))).toEqual([]);
    },
  );

  it('invalidRecords reports what the schema rejects', () => {
    const [ok] = decodeEvent(rawEvent(fixtureBytes('native', 'record-full.json')));
    const broken = { ...ok, record: { ...ok.record, occurred_at: 'later' } };
    expect(invalidRecords([broken])[0]).toContain('record 0: occurred_at');
  });
});
