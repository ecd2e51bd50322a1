import { inclusionPathsPlan, inclusionProofRanges, type LeafRange } from './prover.js';

/** Leaf j's planned path as ranges. */
function planned(plan: ReturnType<typeof inclusionPathsPlan>, j: number): LeafRange[] {
  const out: LeafRange[] = [];
  for (let at = plan.offsets[j]; at < plan.offsets[j + 1]; at++) out.push(plan.ranges[plan.elements[at]]);
  return out;
}

describe('inclusionPathsPlan', () => {
  it('gives every leaf the path inclusionProofRanges gives it, for runs, gaps and several tree sizes', () => {
    let seed = 7;
    const rand = (n: number) => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % n;
    for (let round = 0; round < 50; round++) {
      const indexes: number[] = [];
      const sizes: number[] = [];
      let index = rand(5000);
      let size = index + 1 + rand(3000);
      for (let j = 0; j < 1 + rand(400); j++) {
        indexes.push(index);
        sizes.push(size);
        index += 1 + (rand(4) === 0 ? rand(50) : 0);
        if (index >= size || rand(20) === 0) size = index + 1 + rand(2000);
      }
      const plan = inclusionPathsPlan(indexes, sizes);
      indexes.forEach((i, j) => expect(planned(plan, j)).toEqual(inclusionProofRanges(i, sizes[j])));
    }
  });

  it('plans each shared range once for consecutive leaves under one size', () => {
    const indexes = Array.from({ length: 1024 }, (_, j) => 4096 + j);
    const plan = inclusionPathsPlan(
      indexes,
      indexes.map(() => 100_000),
    );
    const distinct = new Set(plan.ranges.map((r) => `${r.begin}-${r.end}`));
    expect(plan.ranges.length).toBe(distinct.size);
    expect(plan.elements.length).toBe(indexes.reduce((n, i) => n + inclusionProofRanges(i, 100_000).length, 0));
  });

  it('handles an empty page and single-leaf trees', () => {
    expect(inclusionPathsPlan([], [])).toMatchObject({ ranges: [], offsets: Int32Array.of(0) });
    const plan = inclusionPathsPlan([0, 0], [1, 1]);
    expect([planned(plan, 0), planned(plan, 1)]).toEqual([[], []]);
  });

  it('refuses an index outside its tree', () => {
    expect(() => inclusionPathsPlan([5], [5])).toThrow(/not below size/);
  });
});
