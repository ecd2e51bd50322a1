import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { ROOT_BYTES, RootTable } from './root-table.js';

describe('RootTable', () => {
  it('answers every root set, and no other, on the main side and from its packed form', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat(7), fc.integer({ min: 1, max: 5000 }), fc.uint8Array({ minLength: 32, maxLength: 32 })),
          {
            maxLength: 300,
          },
        ),
        (sets) => {
          const table = RootTable.empty();
          const expected = new Map<string, Uint8Array>();
          for (const [shard, size, root] of sets) {
            table.set(shard, size, root);
            expected.set(`${shard}/${size}`, root);
          }
          const packed = table.packed();
          // The worker's copy: cloned as a message would be.
          const copy = RootTable.fromPacked(structuredClone(packed));
          expect(table.size).toBe(expected.size);
          expect(copy.size).toBe(expected.size);
          expect(packed.hashes.byteLength).toBe(expected.size * ROOT_BYTES);
          for (const [key, root] of expected) {
            const [shard, size] = key.split('/').map(Number);
            expect(table.get(shard, size)).toEqual(Buffer.from(root));
            expect(copy.get(shard, size)).toEqual(Buffer.from(root));
          }
          expect(table.get(8, 1)).toBeUndefined();
          expect(copy.get(0, 0)).toBeUndefined();
        },
      ),
    );
  });

  it('packs into one buffer of its own, never a view of a larger one', () => {
    const table = RootTable.empty();
    for (let i = 1; i <= 1000; i++) table.set(i % 4, i, randomBytes(32));
    const { keys, hashes } = table.packed();
    expect(keys).toHaveLength(1000);
    expect(hashes.buffer.byteLength).toBe(1000 * ROOT_BYTES);
  });

  it('refuses a root that is not 32 bytes, and packed parts that do not match', () => {
    expect(() => RootTable.empty().set(0, 1, new Uint8Array(31))).toThrow(/32 bytes/);
    expect(() => RootTable.fromPacked({ keys: ['0/1'], hashes: new Uint8Array(0) })).toThrow(/differ/);
  });
});
