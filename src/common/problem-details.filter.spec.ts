import { BadRequestException, HttpException, type ArgumentsHost } from '@nestjs/common';
import { ForbiddenError, UnauthenticatedError } from '../auth/auth.errors.js';
import { EntryBundleError } from '../domain/merkle/entry-bundle.js';
import { MerkleProofError } from '../domain/merkle/errors.js';
import { TilePathError } from '../domain/merkle/tiles.js';
import { ExportQueryError } from '../export/bundle-writer.js';
import { ExportNotFoundError, ExportNotReadyError } from '../export/export.service.js';
import { BodySplitError } from '../ingest/bridges/json-split.js';
import { IngestRejected } from '../ingest/http-ingest.service.js';
import { ShardForkError } from '../ledger/ledger-append.repository.js';
import { LedgerNotFoundError, LedgerQueryError } from '../ledger/ledger.service.js';
import { BadCursorError, BadQueryError, QueryNotFoundError } from '../query/common/query.errors.js';
import { TlogIntegrityError } from '../tlog/tlog.service.js';
import { AppError } from './app-error.js';
import { ProblemDetailsFilter, toProblem } from './problem-details.filter.js';

class TeapotError extends AppError {
  readonly code = 'SHORT_AND_STOUT';
  override readonly status = 418;
}

class SecretError extends AppError {
  readonly code = 'SECRET_LEAK';
}

const INTERNAL = { type: 'about:blank', title: 'internal server error', status: 500 };

describe('toProblem', () => {
  it('answers an AppError with the status its class declares, its code as type and title, its message as detail', () => {
    expect(toProblem(new TeapotError('here is my handle'))).toEqual({
      type: 'urn:routing-ledger:error:short_and_stout',
      title: 'short and stout',
      status: 418,
      detail: 'here is my handle',
    });
  });

  it.each([
    [new IngestRejected([{ index: 0, errors: ['x'] }]), 400, 'ingest_rejected'],
    [new BodySplitError('not JSON'), 400, 'ingest_rejected'],
    [new QueryNotFoundError('no record'), 404, 'not_found'],
    [new LedgerNotFoundError('no record'), 404, 'not_found'],
    [new ExportNotFoundError('no export'), 404, 'not_found'],
    [new BadQueryError('bad'), 400, 'bad_query'],
    [new LedgerQueryError('bad'), 400, 'bad_query'],
    [new ExportQueryError('bad'), 400, 'bad_query'],
    [new BadCursorError('bad'), 400, 'bad_cursor'],
    [new TilePathError('bad'), 400, 'bad_tile_path'],
    [new EntryBundleError('ENTRY_TOO_LARGE', 'too large'), 501, 'entry_too_large'],
    [new UnauthenticatedError('no token'), 401, 'unauthenticated'],
    [new ForbiddenError('not yours'), 403, 'forbidden'],
    [new ExportNotReadyError('export x is running'), 409, 'export_not_ready'],
  ])('answers %p with %i and its code', (error, status, code) => {
    expect(toProblem(error)).toMatchObject({ type: `urn:routing-ledger:error:${code}`, status, detail: error.message });
  });

  it.each([
    new SecretError('password=hunter2'),
    new TlogIntegrityError('leaf 7 of shard 0 does not match'),
    new ShardForkError(0, 7),
    new EntryBundleError('MALFORMED_BUNDLE', 'bad length'),
    new MerkleProofError('ROOT_MISMATCH', 'root differs'),
  ])('answers %p, an internal error, with a bare 500', (error) => {
    expect(toProblem(error)).toEqual(INTERNAL);
  });

  it('answers an unknown error with a bare 500 that leaks neither message, code nor stack', () => {
    const pg = Object.assign(
      new Error('duplicate key value violates unique constraint "records_pkey" (password=hunter2)'),
      { code: '23505' },
    );
    const problem = JSON.stringify(toProblem(pg));
    expect(JSON.parse(problem)).toEqual(INTERNAL);
    expect(problem).not.toMatch(/hunter2|23505|records_pkey|at /);
    expect(toProblem('a thrown string')).toEqual(INTERNAL);
    expect(toProblem(undefined)).toEqual(INTERNAL);
  });

  it('lists the events of a rejected ingest request with their reasons', () => {
    const errors = [{ index: 2, errors: ['no tenant'] }];
    expect(toProblem(new IngestRejected(errors))).toMatchObject({ status: 400, errors });
    expect(toProblem(new BodySplitError('not JSON'))).toMatchObject({
      status: 400,
      errors: [{ index: 0, errors: ['not JSON'] }],
    });
  });

  it('keeps the status and messages of Nest HttpExceptions (validation pipes), the HTTP status over a body status', () => {
    expect(toProblem(new BadRequestException(['limit must be a number', 'tenant should not be empty']))).toEqual({
      type: 'about:blank',
      title: 'bad request',
      status: 400,
      detail: 'limit must be a number; tenant should not be empty',
    });
    expect(toProblem(new HttpException({ status: 'not ready', checks: { db: 'down' } }, 503))).toMatchObject({
      status: 503,
      checks: { db: 'down' },
    });
  });

  it('keeps the 4xx status of body-parser errors', () => {
    const tooLarge = Object.assign(new Error('request entity too large'), { status: 413, type: 'entity.too.large' });
    expect(toProblem(tooLarge)).toEqual({
      type: 'about:blank',
      title: 'entity.too.large',
      status: 413,
      detail: 'request entity too large',
    });
  });
});

describe('ProblemDetailsFilter', () => {
  it('sends application/problem+json with the request path as instance', () => {
    const sent: { status?: number; type?: string; body?: string } = {};
    const res = {
      status: (s: number) => ((sent.status = s), res),
      type: (t: string) => ((sent.type = t), res),
      send: (b: string) => ((sent.body = b), res),
    };
    const req = { method: 'GET', path: '/v1/exports/42/bundle' };
    const host = {
      switchToHttp: () => ({ getResponse: () => res, getRequest: () => req }),
    } as unknown as ArgumentsHost;
    new ProblemDetailsFilter().catch(new ExportNotReadyError('export 42 is running'), host);
    expect(sent.status).toBe(409);
    expect(sent.type).toBe('application/problem+json');
    expect(JSON.parse(sent.body!)).toEqual({
      type: 'urn:routing-ledger:error:export_not_ready',
      title: 'export not ready',
      status: 409,
      detail: 'export 42 is running',
      instance: '/v1/exports/42/bundle',
    });
  });
});
