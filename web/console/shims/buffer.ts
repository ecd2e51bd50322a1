/**
 * The `buffer` package (Node's Buffer for browsers) with the one encoding it lacks and the domain
 * code uses: base64url (RFC 4648 §5), for JWS parts and JWK members. Decoding is base64's (the
 * package's decoder already reads '-' and '_'); encoding is base64 with the URL alphabet, unpadded.
 */
import { Buffer } from 'buffer';

type Encoding = Parameters<typeof Buffer.isEncoding>[0];

const from = Buffer.from;
Buffer.from = function (value: unknown, encodingOrOffset?: unknown, length?: unknown) {
  const encoding = encodingOrOffset === 'base64url' ? 'base64' : encodingOrOffset;
  return (from as (...args: unknown[]) => Buffer).call(Buffer, value, encoding, length);
} as typeof Buffer.from;

const toString = Buffer.prototype.toString;
Buffer.prototype.toString = function (this: Buffer, encoding?: string, start?: number, end?: number): string {
  if (encoding !== 'base64url') return toString.call(this, encoding as BufferEncoding, start, end);
  return toString.call(this, 'base64', start, end).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
};

const isEncoding = Buffer.isEncoding;
Buffer.isEncoding = (encoding: Encoding): encoding is BufferEncoding =>
  encoding === 'base64url' || isEncoding(encoding);

export { Buffer };
