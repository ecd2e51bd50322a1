import { generateKeyPairSync, sign } from 'node:crypto';
import { CompactSign } from 'jose';
import { ed25519AsyncNoteSigner, ed25519NoteSigner, ed25519NoteVerifier } from '../note/note-keys.js';
import { signNote, signNoteAsync, verifyNote } from '../note/signed-note.js';
import { signJws, verifyJws } from './checkpoint-jws.js';
import { ed25519PublicSigner, generateSigningKey, type Signer } from './signing-key.js';

/** A Signer that holds no private key object, as an external signer's adapter does. */
async function remoteStyleSigner(): Promise<Signer & { calls: number }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const x = publicKey.export({ format: 'jwk' }).x as string;
  const signer = {
    ...(await ed25519PublicSigner(x)),
    calls: 0,
    sign: async (bytes: Uint8Array) => {
      signer.calls++;
      return sign(null, bytes, privateKey);
    },
  };
  return signer;
}

describe('signJws with a Signer', () => {
  it('gives the same compact JWS as jose with the private key (Ed25519 is deterministic)', async () => {
    const key = await generateSigningKey();
    const payload = Buffer.from('{"a":1}');
    const ours = await signJws(payload, 'test+jws', key);
    const jose = await new CompactSign(payload)
      .setProtectedHeader({ alg: 'EdDSA', kid: key.kid, typ: 'test+jws' })
      .sign(key.privateKey);
    expect(ours).toBe(jose);
  });

  it('signs through sign() alone, and the JWS verifies with the public JWK', async () => {
    const signer = await remoteStyleSigner();
    const jws = await signJws(Buffer.from('{"b":2}'), 'test+jws', signer);
    expect(signer.calls).toBe(1);
    const verified = await verifyJws(jws, 'test+jws', { keys: [signer.publicJwk] });
    expect(verified.payload.toString()).toBe('{"b":2}');
  });

  it.each([
    ['a short signature', () => Buffer.alloc(63)],
    [
      'a malleable signature (S = L)',
      () =>
        Buffer.concat([
          Buffer.alloc(32),
          Buffer.from('edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010', 'hex'),
        ]),
    ],
  ])('refuses %s from the signer', async (_what, bad) => {
    const signer = { ...(await remoteStyleSigner()), sign: async () => bad() };
    await expect(signJws(Buffer.from('{}'), 'test+jws', signer)).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });
});

describe('signNoteAsync with a Signer', () => {
  it('gives the note a local key signs, verifiable with the note verifier of the public key', async () => {
    const key = await generateSigningKey();
    const text = 'example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';
    const asyncNote = await signNoteAsync(text, [ed25519AsyncNoteSigner('example.com/log', key)]);
    expect(asyncNote).toBe(signNote(text, [ed25519NoteSigner('example.com/log', key.privateKey)]));
    const pub = Buffer.from(key.publicJwk.x as string, 'base64url');
    expect(verifyNote(asyncNote, [ed25519NoteVerifier('example.com/log', pub)]).text).toBe(text);
  });

  it('refuses a signer answer that is not a signature', async () => {
    const signer = { ...(await remoteStyleSigner()), sign: async () => Buffer.alloc(10) };
    await expect(
      signNoteAsync('example.com/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n', [
        ed25519AsyncNoteSigner('example.com/log', signer),
      ]),
    ).rejects.toMatchObject({ code: 'BAD_SIGNATURE' });
  });
});
