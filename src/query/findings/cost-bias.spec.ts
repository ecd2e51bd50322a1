import { concentrationFinding, difficultMinorityFinding, type CohortRow, type ConcentrationRow } from './cost-bias.js';

const seen = {
  first_seen: '2026-11-20T10:00:00.000000Z',
  last_seen: '2026-11-20T10:10:00.000000Z',
  sample_event_ids: ['e1'],
};

describe('difficultMinorityFinding', () => {
  const cohort: CohortRow = {
    ...seen,
    tenant_id: 'umbrella',
    alias: 'smart-router',
    category: 'legal',
    requests: 40,
    bad: 16,
    cheap_requests: 36,
    cheap_bad: 16,
    alias_requests: 200,
    alias_bad: 20,
  };

  it('fires for a category kept cheap while failing far more than the rest', () => {
    const f = difficultMinorityFinding(cohort)!;
    expect(f).toMatchObject({ kind: 'difficult_minority', tenant_id: 'umbrella', alias: 'smart-router', requests: 36 });
    expect(f.evidence).toMatchObject({ task_category: 'legal', cheap_path_share: 0.9, rest_bad_rate: 4 / 160 });
  });

  it('stays quiet when the category is mostly on the premium path', () => {
    expect(difficultMinorityFinding({ ...cohort, cheap_requests: 10, cheap_bad: 8 })).toBeNull();
  });

  it('stays quiet when the cheap path does about as well as the rest', () => {
    expect(difficultMinorityFinding({ ...cohort, bad: 2, cheap_bad: 2, alias_bad: 6 })).toBeNull();
  });

  it('stays quiet on small samples', () => {
    expect(difficultMinorityFinding({ ...cohort, alias_requests: 50 })).toBeNull();
  });
});

describe('concentrationFinding', () => {
  const row: ConcentrationRow = {
    ...seen,
    tenant_id: 'initech',
    alias: 'fast-chat',
    top_provider: 'groq',
    top_requests: 48,
    price_driven_requests: 50,
    providers_available: 3,
  };

  it('fires when price-driven choices pile onto one provider among several', () => {
    expect(concentrationFinding(row)).toMatchObject({
      kind: 'price_driven_concentration',
      evidence: { top_provider: 'groq', share: 0.96 },
    });
  });

  it('stays quiet without alternatives or with a spread', () => {
    expect(concentrationFinding({ ...row, providers_available: 1 })).toBeNull();
    expect(concentrationFinding({ ...row, top_requests: 30 })).toBeNull();
    expect(concentrationFinding({ ...row, price_driven_requests: 10, top_requests: 10 })).toBeNull();
  });
});
