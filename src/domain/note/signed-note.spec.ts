import { createHash, generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSigningKey } from '../checkpoint/signing-key.js';
import { NoteError } from './note-error.js';
import {
  ed25519KeyId,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  ed25519PublicKeyBytes,
  formatVerifierKey,
  parseVerifierKey,
} from './note-keys.js';
import { formatNote, parseNote, signNote, verifyNote } from './signed-note.js';
import { formatCheckpoint, parseCheckpoint, shardOrigin } from './tlog-checkpoint.js';

// C2SP signed-note and tlog-checkpoint examples (test/vectors/c2sp, see test/vectors/PROVENANCE.md).
const VECTORS = join(process.cwd(), 'test/vectors/c2sp');
const examples = JSON.parse(readFileSync(join(VECTORS, 'c2sp-examples.json'), 'utf8')) as {
  signed_note_example: { vkey: string; note_file: string; signed_text: string };
  checkpoint_format_sample: string;
  cosignature_v1_signed_message_format_sample: string;
};
const exampleNote = readFileSync(join(VECTORS, examples.signed_note_example.note_file));

function code(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as { code?: string }).code ?? `no code: ${String(e)}`;
  }
  return 'accepted';
}

const freshSigner = (name: string) => ed25519NoteSigner(name, generateKeyPairSync('ed25519').privateKey);
const freshVerifier = (name: string) =>
  ed25519NoteVerifier(name, ed25519PublicKeyBytes(generateKeyPairSync('ed25519').publicKey));

describe('the published signed-note example', () => {
  const { vkey, signed_text } = examples.signed_note_example;

  it('its verifier key parses, and the key ID is SHA-256(name || 0x0A || 0x01 || key)[:4]', () => {
    const v = parseVerifierKey(vkey);
    expect(v.name).toBe('example.com/foo');
    const recomputed = createHash('sha256')
      .update(Buffer.concat([Buffer.from(v.name), Buffer.of(0x0a, 0x01), v.publicKey]))
      .digest()
      .readUInt32BE(0);
    expect(v.keyId).toBe(recomputed);
    expect(ed25519KeyId(v.name, v.publicKey)).toBe(Number.parseInt(vkey.split('+')[1], 16));
    expect(formatVerifierKey(v.name, v.publicKey)).toBe(vkey);
  });

  it('verifies with its key: text, key ID and signature', () => {
    const verified = verifyNote(exampleNote, [parseVerifierKey(vkey)]);
    expect(verified.text).toBe(signed_text);
    expect(verified.verified).toHaveLength(1);
    expect(verified.verified[0].keyId).toBe(parseVerifierKey(vkey).keyId);
    expect(verified.verified[0].signature).toHaveLength(64);
  });

  it('re-formats to the same bytes', () => {
    expect(formatNote(parseNote(exampleNote))).toBe(exampleNote.toString('utf8'));
  });

  it('is rejected when its text is changed (BAD_SIGNATURE)', () => {
    const tampered = exampleNote.toString('utf8').replace('example message', 'exemplary message');
    expect(code(() => verifyNote(tampered, [parseVerifierKey(vkey)]))).toBe('BAD_SIGNATURE');
  });

  it('is rejected when a signature bit flips or S is malleated (BAD_SIGNATURE)', () => {
    const parsed = parseNote(exampleNote);
    const flipped = Buffer.from(parsed.signatures[0].signature);
    flipped[10] ^= 1;
    expect(
      code(() =>
        verifyNote(formatNote({ text: parsed.text, signatures: [{ ...parsed.signatures[0], signature: flipped }] }), [
          parseVerifierKey(vkey),
        ]),
      ),
    ).toBe('BAD_SIGNATURE');
    const L = 2n ** 252n + 27742317777372353535851937790883648493n;
    const malleated = Buffer.from(parsed.signatures[0].signature);
    let s = 0n;
    for (let i = 63; i >= 32; i--) s = (s << 8n) | BigInt(malleated[i]);
    s += L;
    for (let i = 32; i < 64; i++, s >>= 8n) malleated[i] = Number(s & 0xffn);
    expect(
      code(() =>
        verifyNote(formatNote({ text: parsed.text, signatures: [{ ...parsed.signatures[0], signature: malleated }] }), [
          parseVerifierKey(vkey),
        ]),
      ),
    ).toBe('BAD_SIGNATURE');
  });

  it('is unverified for a verifier of another name or key (unknown signatures are ignored)', () => {
    const v = parseVerifierKey(vkey);
    expect(code(() => verifyNote(exampleNote, [ed25519NoteVerifier('example.com/bar', v.publicKey)]))).toBe(
      'UNVERIFIED_NOTE',
    );
    expect(code(() => verifyNote(exampleNote, [freshVerifier('example.com/foo')]))).toBe('UNVERIFIED_NOTE');
  });
});

describe('the published checkpoint and cosignature samples (format only: their keys are not published)', () => {
  it('the tlog-checkpoint example parses as a note and as a checkpoint, and re-formats byte for byte', () => {
    const note = parseNote(examples.checkpoint_format_sample);
    expect(note.signatures.map((s) => s.name)).toEqual(['example.com/behind-the-sofa']);
    const cp = parseCheckpoint(note.text);
    expect(cp).toEqual({
      origin: 'example.com/behind-the-sofa',
      treeSize: 20852163,
      rootHash: Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64'),
    });
    expect(formatCheckpoint(cp)).toBe(note.text);
    expect(formatNote(note)).toBe(examples.checkpoint_format_sample);
    expect(
      code(() => verifyNote(examples.checkpoint_format_sample, [freshVerifier('example.com/behind-the-sofa')])),
    ).toBe('UNVERIFIED_NOTE');
  });

  it('the cosignature/v1 signed message ends with the same checkpoint body', () => {
    const lines = examples.cosignature_v1_signed_message_format_sample.split('\n');
    expect(lines.slice(0, 2)).toEqual(['cosignature/v1', 'time 1679315147']);
    const body = lines.slice(2).join('\n');
    expect(parseCheckpoint(body)).toEqual(parseCheckpoint(parseNote(examples.checkpoint_format_sample).text));
  });
});

describe('signing and verifying notes', () => {
  it('round-trips with a ledger signing key (the JWS key), verifiable from its verifier key alone', async () => {
    const key = await generateSigningKey();
    const origin = shardOrigin('routing-ledger.example/prod', 3);
    const text = formatCheckpoint({ origin, treeSize: 42, rootHash: Buffer.alloc(32, 0xab) });
    const note = signNote(text, [ed25519NoteSigner(origin, key.privateKey as never)]);
    const vkey = formatVerifierKey(origin, Buffer.from(key.publicJwk.x as string, 'base64url'));
    expect(vkey.startsWith('routing-ledger.example/prod/shard/3+')).toBe(true);
    const verified = verifyNote(note, [parseVerifierKey(vkey)]);
    expect(parseCheckpoint(verified.text)).toEqual({ origin, treeSize: 42, rootHash: Buffer.alloc(32, 0xab) });
    // The same key under another shard's name is another verifier key: it does not verify shard 3's note.
    const other = formatVerifierKey(
      shardOrigin('routing-ledger.example/prod', 4),
      Buffer.from(key.publicJwk.x as string, 'base64url'),
    );
    expect(code(() => verifyNote(note, [parseVerifierKey(other)]))).toBe('UNVERIFIED_NOTE');
  });

  it('signatures are deterministic: the same text and key give the same note', () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    const a = signNote('hello\n', [ed25519NoteSigner('a.example/x', privateKey)]);
    const b = signNote('hello\n', [ed25519NoteSigner('a.example/x', privateKey)]);
    expect(a).toBe(b);
  });

  it('accepts a note with several signatures, ignoring unknown ones, and rejects it when a known one fails', () => {
    const { privateKey: k1, publicKey: p1 } = generateKeyPairSync('ed25519');
    const s1 = ed25519NoteSigner('log.example/a', k1);
    const s2 = freshSigner('witness.example/w');
    const note = signNote('line one\n\nline three\n', [s2, s1]);
    const verified = verifyNote(note, [ed25519NoteVerifier('log.example/a', ed25519PublicKeyBytes(p1))]);
    expect(verified.text).toBe('line one\n\nline three\n');
    expect(verified.verified.map((s) => s.name)).toEqual(['log.example/a']);
    const forged = parseNote(note);
    forged.signatures[1].signature = forged.signatures[0].signature;
    expect(
      code(() => verifyNote(formatNote(forged), [ed25519NoteVerifier('log.example/a', ed25519PublicKeyBytes(p1))])),
    ).toBe('BAD_SIGNATURE');
  });

  it('refuses two verifiers with the same name and key ID (AMBIGUOUS_KEY)', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const note = signNote('x\n', [ed25519NoteSigner('n.example', privateKey)]);
    const v = ed25519NoteVerifier('n.example', ed25519PublicKeyBytes(publicKey));
    expect(code(() => verifyNote(note, [v, v]))).toBe('AMBIGUOUS_KEY');
  });

  it('refuses to sign text that no note may hold', () => {
    const s = freshSigner('n.example');
    expect(code(() => signNote('no newline', [s]))).toBe('MALFORMED_NOTE');
    expect(code(() => signNote('tab\there\n', [s]))).toBe('MALFORMED_NOTE');
    expect(code(() => signNote('lone \ud800\n', [s]))).toBe('MALFORMED_NOTE');
    expect(code(() => signNote('x\n', []))).toBe('MALFORMED_NOTE');
  });
});

describe('parseNote rejects malformed notes (MALFORMED_NOTE)', () => {
  const good = exampleNote.toString('utf8');
  it.each([
    ['no blank line', good.replace('\n\n', '\n')],
    ['no final newline', good.slice(0, -1)],
    ['a control character', good.replace('This', 'Th\u0001is')],
    ['a signature line without the em dash', good.replace('\u2014 ', '- ')],
    ['a name with a plus', good.replace('example.com/foo', 'example.com+foo')],
    ['non-canonical base64', good.replace('QM=\n', 'QN=\n')],
    [
      'a signature shorter than a key ID plus one byte',
      good.replace(/— example\.com\/foo .*\n$/, '— example.com/foo AAAA\n'),
    ],
    ['an empty signature line', `${good}\n`],
  ])('%s', (_, note) => {
    expect(code(() => parseNote(note))).toBe('MALFORMED_NOTE');
  });

  it('invalid UTF-8 bytes', () => {
    expect(code(() => parseNote(Buffer.concat([Buffer.from([0xff, 0x0a]), exampleNote])))).toBe('MALFORMED_NOTE');
  });
});

describe('verifier keys', () => {
  const { vkey } = examples.signed_note_example;
  const [name, id, key] = vkey.split('+');

  it.each([
    ['two parts', `${name}+${id}`, 'BAD_VERIFIER_KEY'],
    ["a key ID that is not this key's", `${name}+530d903b+${key}`, 'BAD_VERIFIER_KEY'],
    ['the same key under another name', `example.com/bar+${id}+${key}`, 'BAD_VERIFIER_KEY'],
    ['a short key ID', `${name}+530d903+${key}`, 'BAD_VERIFIER_KEY'],
    [
      'a 31-byte key',
      `${name}+${id}+${Buffer.from(key, 'base64').subarray(0, 32).toString('base64')}`,
      'BAD_VERIFIER_KEY',
    ],
    [
      'another signature type',
      `${name}+${id}+${Buffer.concat([Buffer.of(0x02), Buffer.from(key, 'base64').subarray(1)]).toString('base64')}`,
      'UNSUPPORTED_KEY_TYPE',
    ],
    ['an empty name', `+${id}+${key}`, 'BAD_KEY_NAME'],
    ['a name with a space', `example.com foo+${id}+${key}`, 'BAD_KEY_NAME'],
  ])('rejects %s', (_, text, expected) => {
    expect(code(() => parseVerifierKey(text))).toBe(expected);
  });

  it('round-trips keys whose base64 holds a plus (only the first two pluses separate)', () => {
    let withPlus = 0;
    for (let i = 0; i < 50; i++) {
      const pk = ed25519PublicKeyBytes(generateKeyPairSync('ed25519').publicKey);
      const text = formatVerifierKey('log.example/a', pk);
      if (text.split('+').length > 3) withPlus++;
      expect(parseVerifierKey(text).publicKey.equals(pk)).toBe(true);
    }
    expect(withPlus).toBeGreaterThan(0);
    expect(code(() => ed25519KeyId('a+b', Buffer.alloc(32)))).toBe('BAD_KEY_NAME');
  });
});

describe('tlog-checkpoint bodies', () => {
  const root = Buffer.from('CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=', 'base64');

  it('formats origin, tree size, base64 root, each on its own line', () => {
    expect(formatCheckpoint({ origin: shardOrigin('ledger.example', 0), treeSize: 0, rootHash: root })).toBe(
      `ledger.example/shard/0\n0\n${root.toString('base64')}\n`,
    );
  });

  it('keeps extension lines', () => {
    const text = `o.example\n5\n${root.toString('base64')}\next one\n`;
    expect(parseCheckpoint(text).extensions).toEqual(['ext one']);
    expect(formatCheckpoint(parseCheckpoint(text))).toBe(text);
  });

  it.each([
    ['two lines', `o\n5\n`],
    ['a leading zero', `o\n05\n${root.toString('base64')}\n`],
    ['a negative size', `o\n-5\n${root.toString('base64')}\n`],
    ['a size beyond 2^53 - 1', `o\n9007199254740993\n${root.toString('base64')}\n`],
    ['a 31-byte root', `o\n5\n${root.subarray(1).toString('base64')}\n`],
    ['a base64url root', `o\n5\n${root.toString('base64url')}\n`],
    ['an empty extension line', `o\n5\n${root.toString('base64')}\n\next\n`],
    ['an empty origin', `\n5\n${root.toString('base64')}\n`],
  ])('rejects %s (BAD_CHECKPOINT)', (_, text) => {
    expect(code(() => parseCheckpoint(text))).toBe('BAD_CHECKPOINT');
  });

  it('refuses to format what it would not parse', () => {
    expect(code(() => formatCheckpoint({ origin: 'a b', treeSize: 1, rootHash: root }))).toBe('BAD_CHECKPOINT');
    expect(code(() => formatCheckpoint({ origin: 'o', treeSize: -1, rootHash: root }))).toBe('BAD_CHECKPOINT');
    expect(code(() => formatCheckpoint({ origin: 'o', treeSize: 1, rootHash: root.subarray(1) }))).toBe(
      'BAD_CHECKPOINT',
    );
    expect(() => shardOrigin('o', -1)).toThrow(NoteError);
  });
});
