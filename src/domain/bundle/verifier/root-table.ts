/**
 * Checkpoint roots keyed by shard and tree size, their hashes packed in one buffer.
 *
 * A bundle carries a checkpoint per appended batch (10,000 in a bundle of 10M records), and the
 * verifier keeps every root for the inclusion proofs, on the main thread and in each worker.
 * Roots held as separate Buffers cost far more than their 32 bytes: a Buffer decoded from hex is
 * a view into an 8 KiB pool slab that it keeps alive, and a worker given such views receives a
 * copy of every slab they point into. Measured on a 10M-record bundle: 328 MiB peak RSS with
 * one Buffer per root, 140 MiB with this table (110 MiB at 1M records).
 */
export const ROOT_BYTES = 32;

/** A table in the form a worker receives it: two objects, whatever the number of roots. */
export interface PackedRoots {
  /** `shard/tree_size` of each root, in the order of `hashes`. */
  keys: string[];
  /** The roots, ROOT_BYTES each, end to end. */
  hashes: Uint8Array;
}

const keyOf = (shard: number, treeSize: number) => `${shard}/${treeSize}`;

export class RootTable {
  private readonly slots = new Map<string, number>();
  private bytes: Buffer;

  private constructor(bytes: Buffer) {
    this.bytes = bytes;
  }

  static empty(): RootTable {
    return new RootTable(Buffer.allocUnsafeSlow(64 * ROOT_BYTES));
  }

  /** The table a worker rebuilds from `packed()`: the hashes stay in the buffer it was sent. */
  static fromPacked(p: PackedRoots): RootTable {
    if (p.hashes.byteLength !== p.keys.length * ROOT_BYTES) throw new Error('packed roots: keys and hashes differ');
    const table = new RootTable(Buffer.from(p.hashes.buffer, p.hashes.byteOffset, p.hashes.byteLength));
    p.keys.forEach((k, i) => table.slots.set(k, i));
    return table;
  }

  get size(): number {
    return this.slots.size;
  }

  /** Records the root of the checkpoint (shard, treeSize); a second root for the same pair replaces the first. */
  set(shard: number, treeSize: number, root: Uint8Array): void {
    if (root.byteLength !== ROOT_BYTES) throw new Error(`a root is ${ROOT_BYTES} bytes, not ${root.byteLength}`);
    const key = keyOf(shard, treeSize);
    let slot = this.slots.get(key);
    if (slot === undefined) {
      slot = this.slots.size;
      if ((slot + 1) * ROOT_BYTES > this.bytes.length) {
        const larger = Buffer.allocUnsafeSlow(2 * this.bytes.length);
        this.bytes.copy(larger, 0, 0, slot * ROOT_BYTES);
        this.bytes = larger;
      }
      this.slots.set(key, slot);
    }
    this.bytes.set(root, slot * ROOT_BYTES);
  }

  /** The root of checkpoint (shard, treeSize): a view, which a later set() of the same pair overwrites. */
  get(shard: number, treeSize: number): Buffer | undefined {
    const slot = this.slots.get(keyOf(shard, treeSize));
    return slot === undefined ? undefined : this.bytes.subarray(slot * ROOT_BYTES, (slot + 1) * ROOT_BYTES);
  }

  /** A copy to send to a worker (a view of the table's own buffer would send all of it). */
  packed(): PackedRoots {
    return {
      keys: [...this.slots.keys()],
      hashes: new Uint8Array(this.bytes.subarray(0, this.slots.size * ROOT_BYTES)),
    };
  }
}
