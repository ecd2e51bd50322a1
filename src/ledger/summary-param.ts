import { hash } from 'node:crypto';

/**
 * Summary rows as an upsert's jsonb parameter: each row's members plus `key_sha256`, the hex
 * SHA-256 of its key text (what the stored row is found by). The member is written into each
 * row's JSON text rather than spread into a copy of the row: a batch of ten records is mostly
 * new rows, and the copies cost more than the rest of the parameter.
 */
export function rowsParam<R extends object>(rows: readonly R[], keyText: (row: R) => string): string {
  let out = '[';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    // JSON.stringify of an object starts with '{' and the digest is hex: no escaping is needed.
    const members = JSON.stringify(r);
    out += `${i === 0 ? '' : ','}{"key_sha256":"${hash('sha256', keyText(r), 'hex')}"${members.length > 2 ? ',' : ''}${members.slice(1)}`;
  }
  return `${out}]`;
}
