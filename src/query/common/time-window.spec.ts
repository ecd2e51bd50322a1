import { resolveWindow } from './time-window.js';

const now = new Date('2026-11-20T12:00:00.000Z');
const opts = { now, defaultMs: 3_600_000, maxMs: 86_400_000 };

describe('resolveWindow', () => {
  it('defaults to the last defaultMs before now', () => {
    expect(resolveWindow({}, opts)).toEqual({ from: new Date('2026-11-20T11:00:00.000Z'), to: now });
  });

  it('counts a default from back from an explicit to', () => {
    expect(resolveWindow({ to: '2026-11-19T00:00:00Z' }, opts).from).toEqual(new Date('2026-11-18T23:00:00.000Z'));
  });

  it('refuses inverted, empty and over-long windows', () => {
    expect(() => resolveWindow({ from: '2026-11-20T12:00:00Z', to: '2026-11-20T11:00:00Z' }, opts)).toThrow(
      expect.objectContaining({ code: 'BAD_QUERY' }),
    );
    expect(() => resolveWindow({ from: '2026-11-20T12:00:00Z', to: '2026-11-20T12:00:00Z' }, opts)).toThrow(/before/);
    expect(() => resolveWindow({ from: '2026-11-18T00:00:00Z', to: '2026-11-20T00:00:00Z' }, opts)).toThrow(
      'the window may span at most 1 day(s)',
    );
  });
});
