import { validateRecord } from './validate-record.js';
import { sampleRecord } from '../../../test/fixtures/sample-record.js';

describe('validateRecord', () => {
  it('accepts a complete record and returns the same object', () => {
    const r = sampleRecord();
    const v = validateRecord(r);
    expect(v).toEqual({ ok: true, record: r });
  });

  it.each<[string, unknown, string]>([
    ['bad timestamp', { occurred_at: 'yesterday' }, 'occurred_at: must be an RFC 3339 UTC timestamp'],
    ['missing tenant', { tenant_id: undefined }, 'tenant_id:'],
    ['float cost', { cost: { amount: 0.0042, currency: 'USD' } }, 'cost.amount: numbers must be safe integers'],
    ['float anywhere', { retries: 1.5 }, 'retries: numbers must be safe integers'],
    ['null field', { provider: null }, 'provider: must be absent rather than null'],
    ['bad tri-state', { fallback_used: 'maybe' }, 'fallback_used: must be true, false or "unknown"'],
    ['unknown member', { prompt: 'hello' }, 'prompt: property prompt should not exist'],
    ['nested attempt error', { attempts: { completeness: 'full', items: [{ index: -1 }] } }, 'attempts.items[0].index'],
    ['lone surrogate', { request_id: 'x\ud800' }, 'request_id: contains a lone UTF-16 surrogate'],
    ['wrong schema version', { schema_version: '2' }, 'schema_version: must be "1"'],
    ['bad currency', { cost: { amount: '1', currency: 'usd' } }, 'cost.currency'],
  ])('rejects %s with a readable reason', (_name, override, expected) => {
    const r = { ...sampleRecord(), ...(override as object) };
    // A JSON round trip drops the undefined members, as a real payload would not have them.
    const v = validateRecord(JSON.parse(JSON.stringify(r)) as unknown);
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors.join('\n')).toContain(expected);
  });

  it('rejects non-objects', () => {
    expect(validateRecord([1])).toEqual({ ok: false, errors: ['record: must be a JSON object'] });
    expect(validateRecord('x').ok).toBe(false);
  });

  it('rejects deep nesting', () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 20; i++) deep = { d: deep };
    const v = validateRecord({ ...sampleRecord(), task: deep });
    expect(v.ok).toBe(false);
    if (!v.ok) expect(v.errors[0]).toContain('nested too deeply');
  });
});
