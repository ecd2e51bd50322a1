import { endUserHash } from '../privacy/redact.js';
import {
  assertedValue,
  cachedInputTokens,
  endpointOfUrl,
  hashedEndUser,
  httpStatus,
  reasoningTokens,
  safeText,
} from './record-fields.js';

describe('record fields from gateway values', () => {
  it('asserts a model only when there is one', () => {
    expect(assertedValue('gpt-4o', 'provider')).toEqual({ value: 'gpt-4o', asserted_by: 'provider' });
    expect(assertedValue(undefined, 'gateway')).toBeUndefined();
  });

  it('keeps HTTP statuses 100 to 599 only', () => {
    expect([99, 100, 446, 599, 600, -1, undefined].map(httpStatus)).toEqual([
      undefined,
      100,
      446,
      599,
      undefined,
      undefined,
      undefined,
    ]);
  });

  it('keeps host and path of a URL, never its credentials or query', () => {
    expect(endpointOfUrl('https://user:pw@api.example.com/v1/chat?key=sk-123')).toEqual({
      host: 'api.example.com',
      path: '/v1/chat',
    });
    expect(endpointOfUrl('  ')).toBeUndefined();
    expect(endpointOfUrl(42.5)).toBeUndefined();
  });

  it('hashes the end user and masks free text', () => {
    expect(hashedEndUser('alice')).toBe(endUserHash('alice'));
    expect(hashedEndUser(undefined)).toBeUndefined();
    expect(safeText('x'.repeat(300))).toHaveLength(256);
    expect(safeText('ping someone@example.com')).not.toContain('someone@example.com');
  });

  it('reads cached and reasoning tokens from an OpenAI-style usage object', () => {
    const usage = {
      prompt_tokens_details: { cached_tokens: 12 },
      completion_tokens_details: { reasoning_tokens: '7' },
    };
    expect(cachedInputTokens(usage)).toBe(12);
    expect(reasoningTokens(usage)).toBe(7);
    expect(cachedInputTokens({ prompt_tokens_details: { cached_tokens: -1 } })).toBeUndefined();
    expect(reasoningTokens(undefined)).toBeUndefined();
  });
});
