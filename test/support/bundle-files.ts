import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createGzip } from 'node:zlib';
import { createHash } from 'node:crypto';
import tar from 'tar-stream';
import { archiveEntries, FileDigest, readWhole } from '../../src/domain/bundle/bundle-archive.js';
import { canonicalBytes } from '../../src/domain/canonical/canonical-json.js';
import { signJws } from '../../src/domain/checkpoint/checkpoint-jws.js';
import type { SigningKey } from '../../src/domain/checkpoint/signing-key.js';
import { FILE, MANIFEST_TYP, type Manifest } from '../../src/domain/bundle/bundle-format.js';

/** A bundle's entries in archive order, read whole (test-sized bundles only). */
export type BundleFiles = Array<[name: string, bytes: Buffer]>;

export async function readBundleFiles(path: string): Promise<BundleFiles> {
  const { entries, close } = archiveEntries(createReadStream(path));
  const out: BundleFiles = [];
  try {
    for (;;) {
      const { done, value } = await entries.next();
      if (done) return out;
      out.push([value.name, (await readWhole(value.stream, new FileDigest(), 1 << 30))!]);
    }
  } finally {
    close();
  }
}

export async function writeBundleFiles(path: string, files: BundleFiles): Promise<void> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const gz = createGzip();
  gz.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise((resolve) => gz.on('end', resolve));
  (pack as unknown as NodeJS.ReadableStream).pipe(gz);
  for (const [name, bytes] of files) {
    await new Promise<void>((resolve, reject) =>
      pack.entry({ name, size: bytes.length, mtime: new Date(0) }, bytes, (e) => (e ? reject(e) : resolve())),
    );
  }
  pack.finalize();
  await done;
  await writeFile(path, Buffer.concat(chunks));
}

export const get = (files: BundleFiles, name: string): Buffer => files.find(([n]) => n === name)![1];
export const set = (files: BundleFiles, name: string, bytes: Buffer): BundleFiles =>
  files.map(([n, b]) => [n, n === name ? bytes : b]);
export const linesOf = (bytes: Buffer): string[] => bytes.toString('utf8').split('\n').slice(0, -1);
export const fromLines = (lines: string[]): Buffer => Buffer.from(lines.map((l) => `${l}\n`).join(''), 'utf8');

/**
 * What a dishonest exporter holding the signing key would do after editing files: recompute
 * every hash and size in the manifest (and `adjust` it), then sign it again with `key`. The
 * bundle is then consistent; only the proofs and chains can tell that something is wrong.
 */
export async function resealBundle(
  files: BundleFiles,
  key: SigningKey,
  adjust: (m: Manifest) => void = () => undefined,
): Promise<BundleFiles> {
  const manifest = JSON.parse(get(files, FILE.manifest).toString('utf8')) as Manifest;
  manifest.files = manifest.files.map((f) => {
    const bytes = get(files, f.name);
    return { name: f.name, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') };
  });
  manifest.key_ids.manifest = key.kid;
  adjust(manifest);
  const bytes = canonicalBytes(manifest);
  return set(
    set(files, FILE.manifest, bytes),
    FILE.manifestJws,
    Buffer.from(await signJws(bytes, MANIFEST_TYP, key), 'latin1'),
  );
}
