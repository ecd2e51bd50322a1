import kafkajs from 'kafkajs';
import { DecodeError } from './adapters/adapter.js';
import { isRetriableAppendError } from './ledger-consumer.service.js';
import { ShardForkError } from '../ledger/ledger-append.repository.js';
import { OffsetGapError } from '../ledger/ledger-append.service.js';

const pgError = (code: string) => Object.assign(new Error(`pg ${code}`), { code });

describe('isRetriableAppendError', () => {
  it('retries an AppError that says it is retriable (a shard head moved by another writer)', () => {
    expect(isRetriableAppendError(new ShardForkError(0, 7))).toBe(true);
  });

  it('does not retry an AppError that is not', () => {
    expect(isRetriableAppendError(new OffsetGapError(0, '10', '12'))).toBe(false);
    expect(isRetriableAppendError(new DecodeError('NO_TENANT', 'no tenant'))).toBe(false);
  });

  it('retries the PostgreSQL races (unique violation, serialization failure, deadlock) and nothing else', () => {
    for (const code of ['23505', '40001', '40P01']) expect(isRetriableAppendError(pgError(code))).toBe(true);
    for (const code of ['23503', '57P01', '']) expect(isRetriableAppendError(pgError(code))).toBe(false);
    expect(isRetriableAppendError(new Error('boom'))).toBe(false);
    expect(isRetriableAppendError(undefined)).toBe(false);
  });

  it('retries a kafkajs error from the dead-letter send when kafkajs says it is retriable', () => {
    expect(isRetriableAppendError(new kafkajs.KafkaJSConnectionError('broker went away'))).toBe(true);
    expect(isRetriableAppendError(new kafkajs.KafkaJSNonRetriableError('message too large'))).toBe(false);
  });

  it('does not trust a retriable property on an error of unknown kind', () => {
    expect(isRetriableAppendError(Object.assign(new Error('duck'), { retriable: true }))).toBe(false);
  });
});
