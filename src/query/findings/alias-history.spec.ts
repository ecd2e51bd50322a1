import { aliasHistories, type AliasTargetRow } from './alias-history.js';

const row = (over: Partial<AliasTargetRow>): AliasTargetRow => ({
  tenant_id: 'globex',
  alias: 'fast-chat',
  provider: 'openai',
  model: 'gpt-4o-mini',
  version: 'v1',
  requests: 10,
  first_seen: '2026-11-20T09:00:00.000000Z',
  last_seen: '2026-11-20T10:05:00.000000Z',
  first_event_id: 'e1',
  ...over,
});

describe('aliasHistories', () => {
  it('finds the repoint of an alias to a new version', () => {
    const [h] = aliasHistories([
      row({}),
      row({
        version: 'v2',
        first_seen: '2026-11-20T10:05:00.000000Z',
        last_seen: '2026-11-20T10:10:00.000000Z',
        first_event_id: 'e9',
      }),
    ]);
    expect(h.change_points).toHaveLength(1);
    expect(h.change_points[0]).toMatchObject({
      at: '2026-11-20T10:05:00.000000Z',
      from: { version: 'v1' },
      to: { version: 'v2' },
      first_event_id: 'e9',
      previous_still_served: false,
    });
    expect(h.change_points[0].summary).toBe(
      'Alias "fast-chat" of tenant globex started resolving to openai gpt-4o-mini (v2) at 2026-11-20T10:05:00.000000Z, replacing openai gpt-4o-mini (v1).',
    );
  });

  it('reports a load-balanced alias once per target, not per flip', () => {
    const [h] = aliasHistories([
      row({ provider: 'openai' }),
      row({ provider: 'azure', first_seen: '2026-11-20T09:00:01.000000Z' }),
    ]);
    expect(h.change_points).toHaveLength(1);
    expect(h.change_points[0].previous_still_served).toBe(true);
  });

  it('does not call weighted routing (strategy loadbalance, both targets served) a change', () => {
    const [h] = aliasHistories([
      row({ model: 'model-a', load_balanced: true }),
      row({ model: 'model-b', load_balanced: true, first_seen: '2026-11-20T09:00:01.000000Z' }),
    ]);
    expect(h.targets).toHaveLength(2);
    expect(h.change_points).toEqual([]);
  });

  it('still finds a repoint of a load-balanced alias once the old target is no longer served', () => {
    const [h] = aliasHistories([
      row({ model: 'model-a', load_balanced: true, last_seen: '2026-11-20T09:30:00.000000Z' }),
      row({ model: 'model-b', load_balanced: true, first_seen: '2026-11-20T10:00:00.000000Z' }),
    ]);
    expect(h.change_points).toHaveLength(1);
  });

  it('does not call a missing version a change', () => {
    const [h] = aliasHistories([
      row({ version: null }),
      row({ version: 'v1', first_seen: '2026-11-20T10:00:00.000000Z' }),
    ]);
    expect(h.change_points).toEqual([]);
  });

  it('keeps tenants apart', () => {
    const hs = aliasHistories([
      row({}),
      row({ tenant_id: 'acme', version: 'v2', first_seen: '2026-11-20T10:00:00.000000Z' }),
    ]);
    expect(hs.map((h) => [h.tenant_id, h.change_points.length])).toEqual([
      ['acme', 0],
      ['globex', 0],
    ]);
  });
});
