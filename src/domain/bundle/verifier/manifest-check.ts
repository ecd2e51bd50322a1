/**
 * The signed part of a bundle: manifest.json, its signature manifest.jws, and the keys. The
 * manifest is read before the files it describes, so that every later file is checked against
 * the size and hash it lists; README.txt comes first and is checked once the manifest is read.
 */
import { assertWithinKeyValidity, JwsVerificationError, verifyJws } from '../../checkpoint/checkpoint-jws.js';
import type { Jwks } from '../../checkpoint/signing-key.js';
import type { FileDigest } from '../bundle-archive.js';
import { FILE, MANIFEST_TYP, manifestDefect, type Manifest } from '../bundle-format.js';
import { failHashMismatch, type BundleContext } from './bundle-context.js';
import { fail } from './bundle-problem.js';
import { parseCanonical } from './bundle-parse.js';

export class ManifestCheck {
  /** The kid that signed manifest.jws, once verified. */
  manifestKid?: string;
  private readmeDigest?: FileDigest;
  private manifestBytes?: Buffer;
  private manifestJws?: string;

  constructor(private readonly ctx: BundleContext) {}

  rememberReadme(digest: FileDigest): void {
    this.readmeDigest = digest;
  }

  readManifest(bytes: Buffer): void {
    const value = parseCanonical(bytes, FILE.manifest, undefined);
    const defect = manifestDefect(value);
    if (defect !== null) fail({ code: 'BAD_MANIFEST', file: FILE.manifest, message: defect });
    const manifest = value as Manifest;
    this.ctx.manifest = manifest;
    this.manifestBytes = bytes;
    const origin = this.ctx.opts.origin;
    if (origin !== undefined && manifest.origin !== origin) {
      const message = 'the bundle is from another ledger (origin)';
      fail({ code: 'BAD_MANIFEST', file: FILE.manifest, expected: origin, found: manifest.origin, message });
    }
    for (const s of manifest.shards) this.ctx.shards.set(s.shard, { manifest: s, records: 0 });
    this.ctx.counts.shards = manifest.shards.length;
    if (this.readmeDigest) this.checkReadmeDigest(this.readmeDigest);
  }

  readManifestJws(bytes: Buffer): void {
    this.manifestJws = bytes.toString('latin1');
  }

  /** jwks.json: hash-checked always, used only when no trusted JWKS is given. */
  async readJwks(bytes: Buffer, digest: FileDigest): Promise<void> {
    if (!this.ctx.manifest || this.manifestJws === undefined) {
      fail({ code: 'FILE_OUT_OF_ORDER', file: FILE.jwks, message: 'jwks.json comes before the manifest' });
    }
    const bundleJwks = parseJwks(bytes);
    const trusted = this.ctx.opts.trustedJwks;
    if (!trusted && !bundleJwks)
      fail({ code: 'BAD_JWKS', file: FILE.jwks, message: 'jwks.json is not a JWKS ({"keys": [...]})' });
    this.ctx.jwks = trusted ?? bundleJwks;
    if (!trusted) {
      this.ctx.warnings.push(
        "keys were taken from the bundle's own jwks.json: the bundle is consistent, but authentic only if you trust " +
          "those keys; pass --jwks with keys obtained independently (e.g. the ledger's /.well-known/jwks.json)",
      );
    } else if (bundleJwks) {
      this.warnForeignKeys(trusted, bundleJwks);
    }
    await this.verifyManifestSignature();
    this.ctx.checkFileDigest(FILE.jwks, digest);
  }

  private warnForeignKeys(trusted: Jwks, bundleJwks: Jwks): void {
    const trustedKids = new Set(trusted.keys.map((k) => k.kid));
    const foreign = bundleJwks.keys.filter((k) => !trustedKids.has(k?.kid));
    if (foreign.length > 0) {
      const kids = foreign.map((k) => k?.kid).join(', ');
      this.ctx.warnings.push(
        `jwks.json lists ${foreign.length} key(s) not in the trusted JWKS (${kids}); they were not used`,
      );
    }
  }

  private async verifyManifestSignature(): Promise<void> {
    const manifest = this.ctx.manifest!;
    try {
      const { payload, key, header } = await verifyJws(this.manifestJws!, MANIFEST_TYP, this.ctx.jwks!);
      this.manifestKid = header.kid;
      if (!payload.equals(this.manifestBytes!)) {
        const message = 'manifest.json differs from the manifest signed in manifest.jws: the manifest was edited';
        fail({ code: 'MANIFEST_MISMATCH', file: FILE.manifest, message });
      }
      assertWithinKeyValidity(key, manifest.created_at);
      if (manifest.key_ids.manifest !== header.kid) {
        const message = 'key_ids.manifest is not the key that signed manifest.jws';
        fail({
          code: 'BAD_MANIFEST',
          file: FILE.manifest,
          expected: header.kid,
          found: manifest.key_ids.manifest,
          message,
        });
      }
    } catch (e) {
      if (e instanceof JwsVerificationError) {
        const source = this.ctx.keySource;
        const why = e.code === 'UNKNOWN_KID' ? `it is signed by a key that is not in ${source}` : e.message;
        const message = `the manifest signature does not verify against ${source}: ${why} (${e.code})`;
        fail({ code: 'MANIFEST_SIGNATURE', file: FILE.manifestJws, message });
      }
      throw e;
    }
  }

  /** README.txt, read before the manifest, against what the manifest lists for it. */
  private checkReadmeDigest(digest: FileDigest): void {
    const listed = this.ctx.manifest!.files.find((f) => f.name === FILE.readme)!;
    const sha = digest.hex();
    if (digest.bytes !== listed.size || sha !== listed.sha256) failHashMismatch(listed, sha);
  }
}

/** jwks.json parsed, or undefined when it is not a JWKS. */
function parseJwks(bytes: Buffer): Jwks | undefined {
  try {
    const jwks = JSON.parse(bytes.toString('utf8')) as Jwks;
    return jwks && Array.isArray(jwks.keys) ? jwks : undefined;
  } catch {
    return undefined;
  }
}
