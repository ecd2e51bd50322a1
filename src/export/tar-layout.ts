/**
 * The bytes of a ustar archive around its files' contents (POSIX.1-1988 ustar, as tar-stream
 * writes it): a 512-byte header before each file, zero padding to the next 512-byte boundary
 * after it, and two zero blocks at the end. The bundle writer interleaves these with file
 * contents it compressed on its own (gzip members, RFC 1952 §2.2), so it needs them apart.
 */
const BLOCK = 512;
/** Largest size the 11 octal digits of the size field hold; larger sizes use base-256 (GNU, as tar-stream). */
const MAX_OCTAL_SIZE = 0o77777777777;

export interface TarFileHeader {
  name: string;
  size: number;
  mtime: Date;
}

/** The header block of a regular file: mode 0644, uid/gid 0, no owner names. */
export function ustarHeader(h: TarFileHeader): Buffer {
  if (Buffer.byteLength(h.name) !== h.name.length || h.name.length > 100)
    throw new Error(`tar entry name ${h.name} must be ASCII, at most 100 bytes`);
  const b = Buffer.alloc(BLOCK);
  b.write(h.name, 0, 'ascii');
  b.write(octal(0o644, 6), 100, 'ascii');
  b.write(octal(0, 6), 108, 'ascii');
  b.write(octal(0, 6), 116, 'ascii');
  if (h.size > MAX_OCTAL_SIZE) {
    b[124] = 0x80;
    let rest = h.size;
    for (let i = 11; i > 0; i--) {
      b[124 + i] = rest % 256;
      rest = Math.floor(rest / 256);
    }
  } else {
    b.write(octal(h.size, 11), 124, 'ascii');
  }
  b.write(octal(Math.floor(h.mtime.getTime() / 1000), 11), 136, 'ascii');
  b[156] = 0x30; // '0': regular file
  b.write('ustar\u0000', 257, 'ascii');
  b.write('00', 263, 'ascii');
  b.write(octal(0, 6), 329, 'ascii');
  b.write(octal(0, 6), 337, 'ascii');
  // The checksum is computed with its own field read as eight spaces.
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (const byte of b) sum += byte;
  b.fill(0, 148, 156);
  b.write(octal(sum, 6), 148, 'ascii');
  return b;
}

/** Zero bytes after a file of `size` bytes up to the next block boundary. */
export function tarPadding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

/** The end of an archive: two zero blocks. */
export function tarEnd(): Buffer {
  return Buffer.alloc(2 * BLOCK);
}

function octal(n: number, digits: number): string {
  return `${n.toString(8).padStart(digits, '0')} `;
}
