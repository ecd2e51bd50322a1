import { sampleRecord } from '../../../test/fixtures/sample-record.js';
import { deriveSignals } from './derive-signals.js';

describe('deriveSignals', () => {
  it('flags a fallback that nobody was told about', () => {
    expect(deriveSignals(sampleRecord())).toEqual(expect.arrayContaining(['fallback', 'silent_substitution']));
  });
  it('does not call a disclosed fallback silent', () => {
    const s = deriveSignals(sampleRecord({ disclosure: { model_substituted_notice: true } }));
    expect(s).toContain('fallback');
    expect(s).not.toContain('silent_substitution');
  });
  it('does not call a request whose every target failed a substitution: no target answered', () => {
    const s = deriveSignals(
      sampleRecord({ outcome: { status: 'error', http_status: 429, error_class: 'rate_limit' } }),
    );
    expect(s).toEqual(expect.arrayContaining(['fallback', 'error']));
    expect(s).not.toContain('silent_substitution');
  });
  it('flags an OTel span whose response model is another model, not a dated snapshot of the requested one', () => {
    const span = (reported: string) =>
      deriveSignals(
        sampleRecord({
          fallback_used: 'unknown',
          attempts: { completeness: 'none' },
          resolved_model: undefined,
          requested_model: 'gpt-4o',
          reported_model: { value: reported, asserted_by: 'provider' },
          source: { format: 'otel', raw_sha256: 'a'.repeat(64) },
        }),
      );
    expect(span('gpt-4o-mini')).toContain('silent_substitution');
    expect(span('gpt-4o-2024-08-06')).not.toContain('silent_substitution');
  });
  it('treats unknown fallback as neither fallback nor substitution', () => {
    const s = deriveSignals(sampleRecord({ fallback_used: 'unknown', attempts: { completeness: 'none' } }));
    expect(s).not.toContain('fallback');
    expect(s).toContain('unknown_attempts');
  });
  it.each([
    [{ served: 'us-east-1', required: ['eu'] }, true],
    [{ served: 'eu-west-1', required: ['eu'] }, false],
    [{ served: 'eu', required: ['eu'] }, false],
    [{ served: 'europe-west4', required: ['eu'] }, true],
    [{ served: 'us-east-1' }, false],
  ])('residency %j → violation %s', (region, expected) => {
    expect(deriveSignals(sampleRecord({ region })).includes('residency_violation')).toBe(expected);
  });
  it('flags a required guardrail skipped, not an optional one', () => {
    expect(
      deriveSignals(sampleRecord({ policy_checks: [{ name: 'pii', result: 'skipped', required: true }] })),
    ).toContain('policy_bypass');
    expect(deriveSignals(sampleRecord({ policy_checks: [{ name: 'pii', result: 'skipped' }] }))).not.toContain(
      'policy_bypass',
    );
  });
});
