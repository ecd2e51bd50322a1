import { isConnectionLevelError, ReplicaBreaker } from './replica-breaker.js';

const withCode = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isConnectionLevelError', () => {
  it.each([
    ['refused', withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5433')],
    ['reset', withCode('ECONNRESET')],
    ['unresolvable host', withCode('ENOTFOUND')],
    ['admin shutdown (pg_ctl stop)', withCode('57P01', 'terminating connection due to administrator command')],
    ['crash shutdown', withCode('57P02')],
    ['starting up', withCode('57P03', 'the database system is starting up')],
    ['too many connections', withCode('53300')],
    ['connection exception class', withCode('08006')],
    ['dropped connection', new Error('Connection terminated unexpectedly')],
    ['pool connect timeout', new Error('timeout exceeded when trying to connect')],
    [
      'wrapped by TypeORM',
      Object.assign(new Error('QueryFailedError'), { driverError: new Error('Connection terminated unexpectedly') }),
    ],
  ])('%s: yes', (_, e) => {
    expect(isConnectionLevelError(e)).toBe(true);
  });

  it.each([
    ['syntax error', withCode('42601', 'syntax error at or near "SELEC"')],
    ['missing table', withCode('42P01')],
    ['statement timeout', withCode('57014', 'canceling statement due to statement timeout')],
    ['bad input', withCode('22P02')],
    ['serialization failure', withCode('40001')],
    ['TypeORM around a query error', Object.assign(new Error('QueryFailedError'), { driverError: withCode('42703') })],
    ['not an error', 'ECONNREFUSED'],
    ['nothing', undefined],
  ])('%s: no', (_, e) => {
    expect(isConnectionLevelError(e)).toBe(false);
  });
});

describe('ReplicaBreaker', () => {
  let now = 1_000;
  const breaker = () => new ReplicaBreaker(5000, () => now);
  beforeEach(() => {
    now = 1_000;
  });

  it('lets every read use the replica while closed', () => {
    const b = breaker();
    expect([b.tryReplica(), b.tryReplica(), b.isOpen, b.retryDue]).toEqual([true, true, false, false]);
  });

  it('keeps reads off the replica for retryMs after a failure, then lets one read try it', () => {
    const b = breaker();
    expect(b.failed(new Error('connect ECONNREFUSED'))).toBe(true);
    expect(b.lastError).toBe('connect ECONNREFUSED');
    expect(b.failed(new Error('again'))).toBe(false);
    now += 4_999;
    expect([b.tryReplica(), b.retryDue]).toEqual([false, false]);
    now += 1;
    expect(b.retryDue).toBe(true);
    expect(b.tryReplica()).toBe(true);
    // The others wait for the one trying.
    expect([b.tryReplica(), b.retryDue, b.isOpen]).toEqual([false, false, true]);
  });

  it('closes when the trial succeeds, reopens for retryMs when it fails', () => {
    const b = breaker();
    b.failed(new Error('down'));
    now += 5_000;
    expect(b.tryReplica()).toBe(true);
    b.failed(new Error('still down'));
    expect(b.tryReplica()).toBe(false);
    now += 5_000;
    expect(b.tryReplica()).toBe(true);
    expect(b.succeeded()).toBe(true);
    expect([b.isOpen, b.tryReplica(), b.lastError]).toEqual([false, true, undefined]);
    expect(b.succeeded()).toBe(false);
  });

  it('lets the next read try again when a trial ended in a query error', () => {
    const b = breaker();
    b.failed(new Error('down'));
    now += 5_000;
    expect(b.tryReplica()).toBe(true);
    b.release();
    expect([b.isOpen, b.tryReplica()]).toEqual([true, true]);
  });
});
