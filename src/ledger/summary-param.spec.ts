import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { rowsParam } from './summary-param.js';

const keyText = (r: { k: string }) => JSON.stringify([r.k]);

describe('rowsParam', () => {
  it('is the rows as a JSON array, each with the hex SHA-256 of its key text added', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ k: fc.string(), n: fc.integer(), xs: fc.array(fc.option(fc.string())) })),
        (rows) => {
          const parsed = JSON.parse(rowsParam(rows, keyText)) as Array<Record<string, unknown>>;
          expect(parsed).toEqual(
            rows.map((r) => ({ ...r, key_sha256: createHash('sha256').update(keyText(r)).digest('hex') })),
          );
        },
      ),
    );
  });

  it('writes a row without members as the digest alone', () => {
    expect(JSON.parse(rowsParam([{}], () => 'k'))).toEqual([
      { key_sha256: createHash('sha256').update('k').digest('hex') },
    ]);
  });
});
