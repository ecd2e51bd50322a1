import canonicalize from 'canonicalize';
import { createHash } from 'node:crypto';
import {
  REDACTED,
  contentSha256,
  endUserHash,
  isSecretName,
  redactForDeadLetter,
  redactHeaders,
  redactText,
  redactValue,
  stripUrl,
} from './redact.js';

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

describe('redactText', () => {
  it.each<[string, string, string]>([
    ['OpenAI project key', 'key sk-proj-AbC123dEf456GhI789', `key ${REDACTED}`],
    ['Anthropic key', 'x sk-ant-api03-Zz9Yy8Xx7Ww6', `x ${REDACTED}`],
    ['Bearer token', 'Authorization: Bearer abcDEF123456.xyz', `Authorization: ${REDACTED} ${REDACTED}`],
    ['bare Bearer in prose', 'sent Bearer abcDEF123456 upstream', `sent Bearer ${REDACTED} upstream`],
    ['Google key', 'AIzaSyD36taFUaT7sv0iKwzLyuFeqZiZPoQtSnA', REDACTED],
    ['AWS access key id', 'AKIAIOSFODNN7EXAMPLE', REDACTED],
    ['JWT', 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTYifQ.SflKxwRJSMeKKF2QT4fwpM', REDACTED],
    [
      'URL query string, whole',
      'https://h.example.com/a/b?api-version=1&api_key=s3cret#frag',
      `https://h.example.com/a/b?${REDACTED}#frag`,
    ],
    ['URL userinfo', 'https://user:pa55@h.example.com/x', `https://${REDACTED}@h.example.com/x`],
    [
      'JSON secret pair',
      '{"x-api-key": "abc123", "model": "gpt-4o"}',
      `{"x-api-key": "${REDACTED}", "model": "gpt-4o"}`,
    ],
    ['key=value', 'api_key=abc123&x=1', `api_key=${REDACTED}&x=1`],
    ['loose query parameter', 'path?sig=abcdef&x=1', `path?sig=${REDACTED}&x=1`],
    ['e-mail', 'contact Jane.Doe+x@mail.example.co.uk now', 'contact [EMAIL] now'],
  ])('%s', (_n, input, expected) => {
    expect(redactText(input)).toBe(expected);
  });

  it('leaves ordinary text and token counts alone', () => {
    const s = 'prompt_tokens=12 model gpt-4o-2024-08-06 finished: stop';
    expect(redactText(s)).toBe(s);
  });
});

describe('isSecretName', () => {
  it.each([
    'Authorization',
    'x-api-key',
    'api_key',
    'X-Portkey-Api-Key',
    'openai_api_key',
    'refresh_token',
    'client_secret',
    'Cookie',
    'x-portkey-virtual-key',
  ])('%s is secret', (n) => {
    expect(isSecretName(n)).toBe(true);
  });
  it.each(['prompt_tokens', 'completion_tokens', 'user_api_key_hash', 'model', 'cache_key'])('%s is not', (n) => {
    expect(isSecretName(n)).toBe(false);
  });
});

describe('stripUrl', () => {
  it('keeps host and path, drops query, fragment and userinfo', () => {
    expect(stripUrl('https://u:p@Api.Example.com:8443/v1/chat?key=s3cret#x')).toEqual({
      host: 'api.example.com:8443',
      path: '/v1/chat',
    });
    expect(stripUrl('https://api.openai.com/')).toEqual({ host: 'api.openai.com' });
    expect(stripUrl('not a url')).toBeUndefined();
  });

  it('masks a key embedded in the path', () => {
    expect(stripUrl('https://mcp.example.com/sk-live-abcdef123456/sse')).toEqual({
      host: 'mcp.example.com',
      path: `/${REDACTED}/sse`,
    });
  });
});

describe('content and user hashes', () => {
  it('hashes a string as its UTF-8 bytes', () => {
    expect(contentSha256('héllo')).toBe(sha('héllo'));
  });

  it('hashes structured content as RFC 8785 canonical JSON, independent of key order', () => {
    const a = [{ role: 'user', content: 'hi' }];
    const b = JSON.parse('[{"content":"hi","role":"user"}]') as unknown;
    expect(contentSha256(a)).toBe(sha(canonicalize(a) as string));
    expect(contentSha256(b)).toBe(contentSha256(a));
  });

  it('gives nothing for absent content', () => {
    expect(contentSha256(undefined)).toBeUndefined();
    expect(contentSha256(null)).toBeUndefined();
  });

  it('lower-cases e-mails before hashing end users', () => {
    expect(endUserHash(' Jane.Doe@Example.com ')).toBe(sha('jane.doe@example.com'));
    expect(endUserHash('User-42')).toBe(sha('User-42'));
  });
});

describe('redactValue and redactHeaders', () => {
  it('masks secret fields, hashes content, masks text, handles OTLP attributes', () => {
    const input = {
      headers: { Authorization: 'Bearer abc123456789', 'content-type': 'application/json' },
      body: { model: 'gpt-4o', messages: [{ role: 'user', content: 'secret plan' }], api_key: 'sk-live-abcdef123456' },
      note: 'mail jane@example.com',
      attributes: [
        { key: 'gen_ai.input.messages', value: { stringValue: 'secret plan' } },
        {
          key: 'http.request.header.authorization',
          value: { arrayValue: { values: [{ stringValue: 'Bearer abc123456789' }] } },
        },
        { key: 'gen_ai.request.model', value: { stringValue: 'gpt-4o' } },
      ],
    };
    const out = JSON.stringify(redactValue(input));
    expect(out).not.toMatch(/abc123456789|secret plan|sk-live|jane@example\.com/);
    expect(out).toContain('"model":"gpt-4o"');
    expect(out).toContain(`[CONTENT sha256:${contentSha256([{ role: 'user', content: 'secret plan' }])}]`);
    expect(out).toContain('{"key":"gen_ai.request.model","value":{"stringValue":"gpt-4o"}}');
  });

  it('masks credential headers by name', () => {
    expect(redactHeaders({ authorization: 'Bearer x', 'x-routing-tenant': 'acme', 'x-api-key': 'k' })).toEqual({
      authorization: REDACTED,
      'x-routing-tenant': 'acme',
      'x-api-key': REDACTED,
    });
  });
});

describe('redactForDeadLetter', () => {
  const planted = [
    'sk-live-PLANTEDx9f8e7d6c5b4a3',
    'PLANTEDbearerTOKEN1234567890',
    'jane.doe@example.com',
    'PLANTEDQUERYSECRET42',
    'PLANTED-PROMPT-TEXT',
  ];
  const doc = {
    api_key: 'sk-live-PLANTEDx9f8e7d6c5b4a3',
    headers: { authorization: 'Bearer PLANTEDbearerTOKEN1234567890' },
    end_user: 'jane.doe@example.com',
    api_base: 'https://x.example.com/v1?api_key=PLANTEDQUERYSECRET42',
    messages: [{ role: 'user', content: 'PLANTED-PROMPT-TEXT' }],
    model: 'gpt-4o',
  };

  it.each<[string, Buffer]>([
    ['JSON', Buffer.from(JSON.stringify(doc))],
    ['NDJSON', Buffer.from(`${JSON.stringify(doc)}\n${JSON.stringify(doc)}\n`)],
    ['truncated JSON', Buffer.from(JSON.stringify(doc).slice(0, -20))],
    [
      'plain text',
      Buffer.from(
        `curl -H "Authorization: Bearer PLANTEDbearerTOKEN1234567890" -H "x-api-key: sk-live-PLANTEDx9f8e7d6c5b4a3" https://x.example.com/v1?api_key=PLANTEDQUERYSECRET42 # jane.doe@example.com`,
      ),
    ],
  ])('%s: nothing planted survives, the rest stays readable', (_n, payload) => {
    const out = redactForDeadLetter(payload).toString('utf8');
    for (const p of planted) expect(out).not.toContain(p);
    expect(out).toMatch(/x\.example\.com\/v1/);
  });

  it('keeps parseable JSON as JSON', () => {
    expect(JSON.parse(redactForDeadLetter(Buffer.from(JSON.stringify(doc))).toString('utf8'))).toMatchObject({
      model: 'gpt-4o',
      api_key: REDACTED,
    });
  });
});

describe('redaction cost', () => {
  // No clock here (speed is the bench's business): a quadratic e-mail scan of 2M word characters
  // takes hours, so it fails by the test's timeout, which is generous for a loaded machine.
  it('finishes on a long run of word characters (no quadratic e-mail scan)', () => {
    const big = 'a'.repeat(2_000_000);
    expect(redactText(big)).toBe(big);
  }, 60_000);
});
