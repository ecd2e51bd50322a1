import { DecodeError } from './adapter.js';
import { adapterFor, decodeEvent, detectFormat } from './format-detection.js';
import { fixtureBytes, fixtureJson, rawEvent } from './fixtures/fixture-kit.js';

describe('detectFormat', () => {
  it.each<[string, string, string, string]>([
    ['native record', 'native', 'record-full.json', 'native'],
    ['LiteLLM StandardLoggingPayload', 'litellm', 'slp-fallback-served.json', 'litellm'],
    ['LiteLLM generic_api JSON array', 'litellm', 'generic-api-batch.json', 'litellm'],
    ['LiteLLM spend-log row', 'litellm', 'spendlogs-row.json', 'litellm'],
    ['OpenRouter generation', 'openrouter', 'generation-provider-fallback.json', 'openrouter'],
    ['OpenRouter legacy generation', 'openrouter', 'generation-legacy.json', 'openrouter'],
    ['OTLP/JSON', 'otel', 'otlp-current.json', 'otel'],
    ['Portkey capture', 'portkey', 'capture-fallback.json', 'portkey'],
    ['Portkey export row', 'portkey', 'export-row.json', 'portkey'],
    ['Portkey log stream', 'portkey', 'logstream-fallback.json', 'portkey'],
  ])('sniffs a %s', (_n, dir, file, format) => {
    expect(detectFormat(rawEvent(fixtureBytes(dir, file)))).toBe(format);
  });

  it('sniffs NDJSON by its first line', () => {
    const events = fixtureJson<unknown[]>('litellm', 'generic-api-batch.json');
    expect(detectFormat(rawEvent(events.map((e) => JSON.stringify(e)).join('\n')))).toBe('litellm');
  });

  it('the header wins over sniffing, in any case', () => {
    expect(detectFormat(rawEvent(fixtureBytes('otel', 'otlp-current.json'), { 'X-Routing-Format': 'OTEL' }))).toBe(
      'otel',
    );
    expect(detectFormat(rawEvent('{"anything":1}', { 'x-routing-format': 'litellm' }))).toBe('litellm');
  });

  it('reads the vendor content type', () => {
    expect(detectFormat(rawEvent('{}', {}, 'application/vnd.routing-ledger.portkey+json; charset=utf-8'))).toBe(
      'portkey',
    );
    expect(detectFormat(rawEvent('{}', { 'content-type': 'application/vnd.routing-ledger.litellm+x-ndjson' }))).toBe(
      'litellm',
    );
  });

  it.each<[string, Record<string, string>, string | undefined, string, string]>([
    [
      'unknown header value',
      { 'x-routing-format': 'helicone' },
      undefined,
      'UNKNOWN_FORMAT',
      'names an unknown format "helicone"',
    ],
    [
      'unknown vendor type',
      {},
      'application/vnd.routing-ledger.kong+json',
      'UNKNOWN_FORMAT',
      'content type names an unknown format "kong"',
    ],
    [
      'header and type disagree',
      { 'x-routing-format': 'otel' },
      'application/vnd.routing-ledger.litellm+json',
      'FORMAT_CONFLICT',
      'says "otel"',
    ],
  ])('%s → %s', (_n, headers, contentType, code, message) => {
    const raw = rawEvent('{}', headers, contentType);
    expect(() => detectFormat(raw)).toThrow(
      expect.objectContaining({ code, message: expect.stringContaining(message) }),
    );
  });

  it('unknown payloads go to the DLQ with what was looked for', () => {
    const run = () => detectFormat(rawEvent({ model: 'gpt-4o', tokens: 12 }));
    expect(run).toThrow(DecodeError);
    expect(run).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_FORMAT',
        message: expect.stringContaining('matches no known format (looked for: native:'),
      }),
    );
  });

  it('ambiguous payloads are refused, not guessed', () => {
    const both = {
      ...fixtureJson<object>('otel', 'otlp-current.json'),
      ...fixtureJson<{ data: object }>('openrouter', 'generation-retry.json').data,
    };
    expect(() => detectFormat(rawEvent(both))).toThrow(
      expect.objectContaining({
        code: 'UNKNOWN_FORMAT',
        message: expect.stringContaining('ambiguous: it looks like otel and openrouter'),
      }),
    );
  });

  it('non-JSON bytes without a header are UNKNOWN_FORMAT', () => {
    expect(() => detectFormat(rawEvent('sk-live-PLANTEDx9f8e7d6c5b4a3 not json'))).toThrow(
      expect.objectContaining({ code: 'UNKNOWN_FORMAT', message: expect.not.stringContaining('PLANTED') }),
    );
  });
});

describe('adapterFor and decodeEvent', () => {
  it('has one versioned adapter per format', () => {
    for (const f of ['native', 'litellm', 'portkey', 'openrouter', 'otel'] as const) {
      expect(adapterFor(f).format).toBe(f);
      expect(adapterFor(f).version).toBe(`${f}/1`);
    }
  });

  it('detects then adapts', () => {
    const out = decodeEvent(rawEvent(fixtureBytes('litellm', 'slp-fallback-served.json')));
    expect(out[0].record).toMatchObject({
      requested_model: 'gpt-smart',
      fallback_used: true,
      source: { format: 'litellm' },
    });
  });
});
