/**
 * Rows of PostgreSQL's binary COPY format (COPY ... TO STDOUT WITH (FORMAT binary), PostgreSQL
 * documentation "COPY", section "Binary Format"): an 11-byte signature, flags and a header
 * extension, then per row a 16-bit field count and per field a 32-bit length (-1 for NULL)
 * followed by the field's bytes; a field count of -1 ends the data. Fields are handed over as
 * views of the received chunks (no copy, no text decoding): the caller decodes what it needs.
 */
const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');

export class CopyBinaryError extends Error {
  override readonly name = 'CopyBinaryError';
}

/** Splits the chunks of a binary COPY into rows of `fields` fields (null for NULL). */
export async function* copyBinaryRows(
  chunks: AsyncIterable<Buffer>,
  fields: number,
): AsyncGenerator<Array<Buffer | null>[]> {
  let buf: Buffer = Buffer.alloc(0);
  let at = 0;
  let headerDone = false;
  let ended = false;
  for await (const chunk of chunks) {
    buf = at < buf.length ? Buffer.concat([buf.subarray(at), chunk]) : chunk;
    at = 0;
    if (!headerDone) {
      if (buf.length < 19) continue;
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new CopyBinaryError('not a binary COPY stream');
      const extension = buf.readUInt32BE(15);
      if (buf.length < 19 + extension) continue;
      at = 19 + extension;
      headerDone = true;
    }
    const rows: Array<Buffer | null>[] = [];
    for (;;) {
      if (buf.length - at < 2) break;
      const count = buf.readInt16BE(at);
      if (count === -1) {
        ended = true;
        at += 2;
        break;
      }
      if (count !== fields) throw new CopyBinaryError(`a row of ${count} fields, expected ${fields}`);
      // The whole row must be here before it is taken.
      let p = at + 2;
      const row: Array<Buffer | null> = new Array<Buffer | null>(fields);
      let complete = true;
      for (let f = 0; f < fields; f++) {
        if (buf.length - p < 4) {
          complete = false;
          break;
        }
        const len = buf.readInt32BE(p);
        p += 4;
        if (len === -1) {
          row[f] = null;
          continue;
        }
        if (buf.length - p < len) {
          complete = false;
          break;
        }
        row[f] = buf.subarray(p, p + len);
        p += len;
      }
      if (!complete) break;
      rows.push(row);
      at = p;
    }
    if (rows.length > 0) yield rows;
    if (ended) break;
  }
  if (!ended) throw new CopyBinaryError('the binary COPY stream ended early');
}

/** A binary int8 field as a number (entries' counters stay far below 2^53). */
export function int8(b: Buffer): number {
  return b.readUInt32BE(0) * 0x1_0000_0000 + b.readUInt32BE(4);
}
