import { evaluationDriftFindings, type EvaluationRow, type ServedVersionRow } from './evaluation-drift.js';

const END = new Date('2026-11-20T11:00:00Z');
const evaluation = (over: Partial<EvaluationRow>): EvaluationRow => ({
  id: 'ev1',
  tenant_id: 'globex',
  alias: 'fast-chat',
  task_category: 'chat',
  model_versions: ['gpt-4o-mini-2024-07-18'],
  test_set: 'chat-v3',
  accuracy_target: 0.9,
  accuracy_result: 0.93,
  traffic_share: null,
  evaluated_at: '2026-11-19T00:00:00.000Z',
  ...over,
});
const served = (over: Partial<ServedVersionRow>): ServedVersionRow => ({
  tenant_id: 'globex',
  alias: 'fast-chat',
  category: 'chat',
  provider: 'openai',
  model: 'gpt-4o-mini',
  version: 'gpt-4o-mini-2024-07-18',
  requests: 30,
  first_seen_ever: '2026-11-20T09:00:00.000000Z',
  first_seen: '2026-11-20T10:00:00.000000Z',
  last_seen: '2026-11-20T10:04:00.000000Z',
  sample_event_ids: ['e1'],
  ...over,
});

const kinds = (rows: ServedVersionRow[], evals: EvaluationRow[]) =>
  evaluationDriftFindings(rows, evals, END).map((f) => f.kind);

describe('evaluationDriftFindings', () => {
  it('is quiet when every served version of every category was evaluated', () => {
    expect(kinds([served({})], [evaluation({})])).toEqual([]);
  });

  it('ignores aliases without any evaluation for the tenant', () => {
    expect(kinds([served({ version: 'new' })], [evaluation({ tenant_id: 'acme' })])).toEqual([]);
    expect(kinds([served({ version: 'new' })], [evaluation({ evaluated_at: '2026-11-21T00:00:00Z' })])).toEqual([]);
  });

  it('applies evaluations registered for every tenant', () => {
    expect(kinds([served({ version: 'new' })], [evaluation({ tenant_id: null })])).toEqual(['unevaluated_version']);
  });

  it('flags a version the category was never evaluated on', () => {
    const [f] = evaluationDriftFindings(
      [served({}), served({ version: 'gpt-4o-mini-2025-01-31', first_seen_ever: '2026-11-20T10:05:00.000000Z' })],
      [evaluation({})],
      END,
    );
    expect(f).toMatchObject({
      kind: 'unevaluated_version',
      requests: 30,
      evidence: { served: { version: 'gpt-4o-mini-2025-01-31' } },
    });
  });

  it('flags a category no evaluation covers', () => {
    expect(kinds([served({}), served({ category: 'extraction' })], [evaluation({})])).toEqual(['unevaluated_category']);
  });

  it('flags an evaluation by model name that predates the version change', () => {
    const evals = [evaluation({ model_versions: ['gpt-4o-mini'] })];
    const rows = [served({}), served({ version: 'v2', first_seen_ever: '2026-11-20T10:05:00.000000Z' })];
    expect(kinds(rows, evals)).toEqual(['stale_evaluation']);
    expect(
      kinds(rows, [evaluation({ model_versions: ['gpt-4o-mini'], evaluated_at: '2026-11-20T10:30:00Z' })]),
    ).toEqual([]);
  });

  it('flags a shift of the task mix away from the evaluated mix', () => {
    const evals = [
      evaluation({ traffic_share: 0.9 }),
      evaluation({ id: 'ev2', task_category: 'extraction', traffic_share: 0.1 }),
    ];
    expect(kinds([served({ requests: 50 }), served({ category: 'extraction', requests: 50 })], evals)).toEqual([
      'task_mix_shift',
    ]);
    expect(kinds([served({ requests: 85 }), served({ category: 'extraction', requests: 15 })], evals)).toEqual([]);
  });
});
