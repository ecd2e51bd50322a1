/**
 * tlog-tiles entry bundles: the leaf inputs of up to 256 consecutive entries, each written as a
 * big-endian uint16 length and the bytes. Entry i of bundle N hashes (RFC 6962 leaf hash) to
 * hash i of level-0 tile N, so a client checks a bundle against a tile it already trusts.
 */

import { AppError, INTERNAL_ERROR_STATUS } from '../../common/app-error.js';

/** The largest entry a uint16 length prefix can carry. */
export const MAX_BUNDLE_ENTRY_SIZE = 0xffff;

export type EntryBundleErrorCode = 'ENTRY_TOO_LARGE' | 'MALFORMED_BUNDLE';

export class EntryBundleError extends AppError {
  override readonly name = 'EntryBundleError';
  override readonly status: number;

  constructor(
    readonly code: EntryBundleErrorCode,
    message: string,
  ) {
    super(message);
    // 501: an entry longer than an entry bundle can carry is a limit of the tlog-tiles format
    // (uint16 lengths), not a fault of the server; a malformed bundle is.
    this.status = code === 'ENTRY_TOO_LARGE' ? 501 : INTERNAL_ERROR_STATUS;
  }
}

/** The bundle of `entries`. Throws ENTRY_TOO_LARGE for an entry the format cannot carry. */
export function encodeEntryBundle(entries: Uint8Array[]): Buffer {
  const parts: Uint8Array[] = [];
  entries.forEach((e, i) => {
    if (e.length > MAX_BUNDLE_ENTRY_SIZE) {
      throw new EntryBundleError(
        'ENTRY_TOO_LARGE',
        `entry ${i} of the bundle is ${e.length} bytes; a bundle entry holds at most ${MAX_BUNDLE_ENTRY_SIZE}`,
      );
    }
    const length = Buffer.allocUnsafe(2);
    length.writeUInt16BE(e.length, 0);
    parts.push(length, e);
  });
  return Buffer.concat(parts);
}

/** The entries of a bundle. Throws MALFORMED_BUNDLE when a length runs past the end. */
export function decodeEntryBundle(bundle: Uint8Array): Buffer[] {
  const bytes = Buffer.from(bundle.buffer, bundle.byteOffset, bundle.byteLength);
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length;) {
    if (at + 2 > bytes.length) throw new EntryBundleError('MALFORMED_BUNDLE', `truncated length at byte ${at}`);
    const n = bytes.readUInt16BE(at);
    if (at + 2 + n > bytes.length)
      throw new EntryBundleError('MALFORMED_BUNDLE', `entry at byte ${at} runs past the end`);
    out.push(Buffer.from(bytes.subarray(at + 2, at + 2 + n)));
    at += 2 + n;
  }
  return out;
}
