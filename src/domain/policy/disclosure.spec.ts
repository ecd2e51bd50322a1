import { generateSigningKey, jwksEntry, type SigningKey } from '../checkpoint/signing-key.js';
import type { CanonicalRecord } from '../record/canonical-record.js';
import { disclosureStatement, modelDisplayName, regionArea, signDisclosure } from './disclosure.js';
import { verifyDisclosure } from './disclosure-verifier.js';

const POSITION = { shard: 2, leaf_index: 41, leaf_hash: 'ab'.repeat(32) };
const ISSUED = '2026-11-20T12:00:00.000Z';

/** A fallback record carrying everything a disclosure must leave out. */
const record: CanonicalRecord = {
  schema_version: '1',
  event_id: 'evt-1',
  occurred_at: '2026-11-20T10:03:00.000Z',
  received_at: '2026-11-20T10:03:00.100Z',
  gateway: { id: 'gw-internal-7', kind: 'litellm', version: '1.2.3' },
  tenant_id: 'eu-bank',
  request_id: 'req-1',
  trace_id: '0af7651916cd43dd8448eb211c80319c',
  session_id: 'sess-secret',
  end_user_hash: 'user-hash-secret',
  requested_model: 'gpt-smart',
  resolved_model: { value: 'claude-sonnet-4', asserted_by: 'gateway' },
  provider: 'anthropic',
  model_version: { version: 'claude-sonnet-4-20250514' },
  endpoint: { host: 'internal.example', path: '/v1/messages' },
  region: { served: 'us-east-1', required: ['eu'] },
  routing: { strategy: 'fallback', reason: 'primary 503', rule_id: 'internal-rule', objective: 'quality' },
  attempts: {
    completeness: 'full',
    items: [
      {
        index: 0,
        provider: 'openai',
        model: 'gpt-4o',
        status: 'error',
        error_class: 'ServiceUnavailable',
        http_status: 503,
      },
      { index: 1, provider: 'anthropic', model: 'claude-sonnet-4', status: 'success' },
    ],
  },
  fallback_used: true,
  usage: { input_tokens: 1000, output_tokens: 200 },
  cost: { amount: '0.00720000', currency: 'USD', source: 'gateway' },
  policy_checks: [{ name: 'pii-guard', result: 'skipped', required: true }],
  outcome: { status: 'success', http_status: 200 },
  content: { prompt_sha256: 'cd'.repeat(32), response_sha256: 'ef'.repeat(32) },
  source: { format: 'litellm', raw_sha256: '01'.repeat(32) },
};

/** Every member name at any depth, and every string value. */
function walk(v: unknown, names: string[] = [], values: string[] = []): { names: string[]; values: string[] } {
  if (typeof v === 'string') values.push(v);
  else if (Array.isArray(v)) v.forEach((x) => walk(x, names, values));
  else if (v && typeof v === 'object')
    for (const [k, x] of Object.entries(v)) {
      names.push(k);
      walk(x, names, values);
    }
  return { names, values };
}

describe('disclosures', () => {
  let key: SigningKey;
  beforeAll(async () => {
    key = await generateSigningKey();
  });
  const jwks = () => ({ keys: [jwksEntry(key, '2026-01-01T00:00:00.000Z')] });

  it('says in one sentence what answered and why', () => {
    const s = disclosureStatement(record, POSITION, ISSUED);
    expect(s.sentence).toBe(
      'Answered by a fallback model, Claude Sonnet 4 (Anthropic, US), because the primary provider was unavailable. A required safety check was skipped.',
    );
    expect(s).toMatchObject({
      route: 'fallback',
      fallback_reason: 'outage',
      cached: false,
      region_area: 'US',
      required_check_skipped: true,
      model: { name: 'claude-sonnet-4', display_name: 'Claude Sonnet 4' },
      provider: { name: 'anthropic', display_name: 'Anthropic', third_party: false },
      ledger: { event_id: 'evt-1', ...POSITION },
    });
  });

  it('never carries cost, tokens, prompt or tenant internals (every member walked)', () => {
    const { names, values } = walk(disclosureStatement(record, POSITION, ISSUED));
    for (const banned of [
      'cost',
      'amount',
      'currency',
      'usage',
      'input_tokens',
      'content',
      'prompt_sha256',
      'response_sha256',
      'tenant_id',
      'gateway',
      'endpoint',
      'session_id',
      'end_user_hash',
      'trace_id',
      'routing',
      'rule_id',
    ])
      expect(names).not.toContain(banned);
    for (const secret of [
      '0.00720000',
      'USD',
      'cd'.repeat(32),
      'eu-bank',
      'gw-internal-7',
      'internal.example',
      'sess-secret',
      'user-hash-secret',
      'internal-rule',
      'gpt-smart',
      'primary 503',
    ])
      expect(values).not.toContain(secret);
  });

  it.each<[string, Partial<CanonicalRecord>, string]>([
    [
      'a cached answer',
      { cache: { status: 'hit' }, fallback_used: false, policy_checks: [] },
      'Answered from a stored answer to an earlier identical request (cached).',
    ],
    [
      'the requested model',
      {
        fallback_used: false,
        provider: 'openai',
        resolved_model: { value: 'gpt-4o', asserted_by: 'gateway' },
        region: { served: 'eu-west-1' },
        policy_checks: [],
      },
      'Answered by the requested model, GPT-4o (OpenAI, EU).',
    ],
    [
      'a third-party host after a rate limit',
      {
        provider: 'bedrock',
        policy_checks: [],
        region: { served: 'eu-central-1' },
        attempts: {
          completeness: 'full',
          items: [{ index: 0, provider: 'anthropic', status: 'error', http_status: 429 }],
        },
      },
      'Answered by a fallback model, Claude Sonnet 4 (AWS Bedrock, a third-party host, EU), because the primary provider was at its rate limit.',
    ],
  ])('words %s', (_name, change, sentence) => {
    expect(disclosureStatement({ ...record, ...change }, POSITION, ISSUED).sentence).toBe(sentence);
  });

  it('counts a check the policy requires but the event no longer reports as skipped', () => {
    const quiet = { ...record, policy_checks: [] };
    expect(disclosureStatement(quiet, POSITION, ISSUED).required_check_skipped).toBe(false);
    expect(disclosureStatement(quiet, POSITION, ISSUED, ['pii-guard']).required_check_skipped).toBe(true);
  });

  it('verifies with the JWKS alone, and fails when any one byte is altered', async () => {
    const statement = disclosureStatement(record, POSITION, ISSUED);
    const jws = await signDisclosure(statement, key);
    await expect(verifyDisclosure(jws, jwks())).resolves.toEqual(statement);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // Every position of the payload and signature, and a sample of the header.
    for (let i = 0; i < jws.length; i++) {
      if (jws[i] === '.') continue;
      const c = alphabet[(alphabet.indexOf(jws[i]) + 1) % 64];
      await expect(verifyDisclosure(jws.slice(0, i) + c + jws.slice(i + 1), jwks())).rejects.toThrow();
    }
  });

  it('refuses another key and a key not valid at issued_at', async () => {
    const jws = await signDisclosure(disclosureStatement(record, POSITION, ISSUED), key);
    const other = await generateSigningKey();
    await expect(verifyDisclosure(jws, { keys: [jwksEntry(other, '2026-01-01T00:00:00.000Z')] })).rejects.toThrow(
      /no single key/,
    );
    await expect(verifyDisclosure(jws, { keys: [jwksEntry(key, '2027-01-01T00:00:00.000Z')] })).rejects.toThrow(
      /validity/,
    );
  });

  it('names models and region areas plainly', () => {
    expect(modelDisplayName('gpt-4o-mini')).toBe('GPT-4o-mini');
    expect(modelDisplayName('meta-llama/llama-3.3-70b')).toBe('Llama 3.3 70b');
    expect(regionArea('westeurope')).toBe('EU');
    expect(regionArea('ap-southeast-2')).toBe('Asia-Pacific');
    expect(regionArea('mars-1')).toBeNull();
  });
});
