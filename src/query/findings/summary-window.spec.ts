import { mergeAliasTargets, mergeSignalGroups, samplesOf, splitAtHours } from './summary-window.js';

const w = (from: string, to: string) => ({ from: new Date(from), to: new Date(to) });

describe('splitAtHours', () => {
  it('reads whole hours from summaries and the partial hours at the ends from records', () => {
    expect(splitAtHours(w('2026-11-20T08:10:00Z', '2026-11-20T11:05:00Z'))).toEqual({
      head: w('2026-11-20T08:10:00Z', '2026-11-20T09:00:00Z'),
      hours: w('2026-11-20T09:00:00Z', '2026-11-20T11:00:00Z'),
      tail: w('2026-11-20T11:00:00Z', '2026-11-20T11:05:00Z'),
    });
    expect(splitAtHours(w('2026-11-20T08:00:00Z', '2026-11-20T10:00:00Z'))).toEqual({
      head: null,
      hours: w('2026-11-20T08:00:00Z', '2026-11-20T10:00:00Z'),
      tail: null,
    });
  });

  it('reads a window without a whole hour from records alone', () => {
    const x = w('2026-11-20T08:10:00Z', '2026-11-20T09:05:00Z');
    expect(splitAtHours(x)).toEqual({ head: x, hours: null, tail: null });
  });
});

describe('merging the parts of a window', () => {
  const row = (requests: number, first: string, last: string, ids: string[], provider = 'openai') => ({
    tenant_id: 't',
    alias: 'a',
    provider,
    requests,
    first_seen: first,
    last_seen: last,
    sample_event_ids: ids,
  });

  it('adds counts, keeps the earliest part first and its samples first', () => {
    const merged = mergeSignalGroups([
      [row(2, '2026-11-20T08:50:00.000000Z', '2026-11-20T08:55:00.000000Z', ['h1', 'h2'])],
      [
        row(9, '2026-11-20T09:00:00.000000Z', '2026-11-20T10:59:00.000000Z', ['s1', 's2', 's3', 's4', 's5']),
        row(1, 'x', 'x', ['o'], 'azure'),
      ],
      [row(1, '2026-11-20T11:01:00.000000Z', '2026-11-20T11:01:00.000000Z', ['t1'])],
    ]);
    expect(merged).toEqual([
      row(12, '2026-11-20T08:50:00.000000Z', '2026-11-20T11:01:00.000000Z', ['h1', 'h2', 's1', 's2', 's3']),
      row(1, 'x', 'x', ['o'], 'azure'),
    ]);
  });

  it('keeps the first event id of the earliest part and ors load_balanced like bool_or', () => {
    const t = (first_event_id: string, load_balanced: boolean | null) => ({
      tenant_id: 't',
      alias: 'a',
      provider: 'p',
      model: 'm',
      version: null,
      requests: 1,
      first_seen: first_event_id,
      last_seen: first_event_id,
      first_event_id,
      load_balanced,
    });
    const [merged] = mergeAliasTargets([[t('1', null)], [t('2', false)], [t('3', null)]]);
    expect(merged).toMatchObject({ requests: 3, first_event_id: '1', last_seen: '3', load_balanced: false });
    expect(mergeAliasTargets([[t('1', false)], [t('2', true)]])[0].load_balanced).toBe(true);
    expect(mergeAliasTargets([[t('1', null)]])[0].load_balanced).toBeNull();
  });

  it('takes the five earliest samples of a summary group', () => {
    expect(
      samplesOf([
        ['2026-01-01T00:00:02.000000Z c', '2026-01-01T00:00:05.000000Z f'],
        [
          '2026-01-01T00:00:01.000000Z b',
          '2026-01-01T00:00:03.000000Z d',
          '2026-01-01T00:00:04.000000Z e',
          '2026-01-01T00:00:00.000000Z a',
        ],
      ]),
    ).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
