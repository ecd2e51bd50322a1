import { lsnToBigInt, replicaLag } from './replica-lag.js';

describe('lsnToBigInt', () => {
  it('reads both hex halves of a pg_lsn', () => {
    expect(lsnToBigInt('0/0')).toBe(0n);
    expect(lsnToBigInt('0/3000148')).toBe(0x3000148n);
    expect(lsnToBigInt('16/B374D848')).toBe((0x16n << 32n) + 0xb374d848n);
  });

  it.each(['', '16', '16/', 'G/1', '1/123456789', ' 0/1'])('refuses %j', (text) => {
    expect(() => lsnToBigInt(text)).toThrow(/not a pg_lsn/);
  });
});

describe('replicaLag', () => {
  const now = new Date('2026-12-05T20:00:10.000Z');
  const replayedCommitAt = new Date('2026-12-05T20:00:07.500Z');

  it('is zero once the replica replayed what the primary had written, whatever the last commit time', () => {
    expect(replicaLag({ primaryLsn: '1/10', replayLsn: '1/10', replayedCommitAt, now })).toEqual({ bytes: 0, ms: 0 });
    // The replica was probed after the primary and may already be further on.
    expect(replicaLag({ primaryLsn: '1/10', replayLsn: '1/20', replayedCommitAt, now })).toEqual({ bytes: 0, ms: 0 });
  });

  it('counts the bytes not yet replayed, across the 4 GiB boundary, and the time since the last replayed commit', () => {
    expect(replicaLag({ primaryLsn: '2/00000010', replayLsn: '1/FFFFFFF0', replayedCommitAt, now })).toEqual({
      bytes: 0x20,
      ms: 2500,
    });
  });

  it('has no time to report when the replica never replayed a commit', () => {
    expect(replicaLag({ primaryLsn: '0/100', replayLsn: null, replayedCommitAt: null, now })).toEqual({
      bytes: 0x100,
      ms: null,
    });
  });

  it('never reports a negative time when the clocks disagree', () => {
    const ahead = new Date(now.getTime() + 1000);
    expect(replicaLag({ primaryLsn: '0/200', replayLsn: '0/100', replayedCommitAt: ahead, now }).ms).toBe(0);
  });
});
