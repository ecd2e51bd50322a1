import { UnauthenticatedError } from '../auth/auth.errors.js';
import { ConfigError } from '../config/app-config.js';
import { CanonicalizationError } from '../domain/canonical/canonical-json.js';
import { ExportQueryError } from '../export/bundle-writer.js';
import { DecodeError } from '../ingest/adapters/adapter.js';
import { OffsetMovedError, ShardForkError } from '../ledger/ledger-append.repository.js';
import { OffsetGapError, OwnershipLeaseExpiredError } from '../ledger/ledger-append.service.js';
import { AppError } from './app-error.js';

describe('AppError', () => {
  it('is an Error, and its subclasses stay instances of themselves with their names', () => {
    const e = new ExportQueryError('bad filter');
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(AppError);
    expect(e).toBeInstanceOf(ExportQueryError);
    expect(e.name).toBe('ExportQueryError');
    expect(new DecodeError('NO_TENANT', 'no tenant').name).toBe('DecodeError');
    expect(new CanonicalizationError('LONE_SURROGATE', '/a', 'lone surrogate').name).toBe('CanonicalizationError');
    expect(e.stack).toContain('bad filter');
  });

  it('is internal (500) and not retriable unless its class says otherwise', () => {
    const config = new ConfigError('PORT must be a number');
    expect([config.code, config.status, config.retriable]).toEqual(['CONFIG_INVALID', 500, false]);
    const auth = new UnauthenticatedError('no bearer token');
    expect([auth.code, auth.status, auth.retriable]).toEqual(['UNAUTHENTICATED', 401, false]);
  });

  it('lets the consumer retry a lost append race and nothing else it knows', () => {
    expect(new ShardForkError(0, 7)).toMatchObject({ code: 'SHARD_FORK', retriable: true });
    const moved = { groupId: 'g', topic: 't', partition: 0, expected: '10', nextOffset: '12' };
    expect(new OffsetMovedError(moved)).toMatchObject({ code: 'OFFSET_MOVED', retriable: true });
    expect(new OffsetGapError(0, '10', '12')).toMatchObject({ code: 'OFFSET_GAP', retriable: false });
    expect(new OwnershipLeaseExpiredError(0, 6000)).toMatchObject({
      code: 'OWNERSHIP_LEASE_EXPIRED',
      retriable: false,
    });
    expect(new DecodeError('NO_TENANT', 'no tenant')).toMatchObject({ code: 'NO_TENANT', retriable: false });
  });
});
