import { FileDigest } from '../bundle-archive.js';
import { BlockPool } from './block-pool.js';
import type { BlockAnswer } from './line-blocks.js';

/** A block worker's script given as a data: URL (the real one is compiled JavaScript, absent under ts-jest). */
const workerScript = (body: string) => new URL(`data:text/javascript,${encodeURIComponent(body)}`);

/** Answers every block as failed until its `n`th, on which it dies with `death` ('exit' or 'throw'). */
const dyingWorker = (n: number, death: 'exit' | 'throw') =>
  workerScript(`
    import { parentPort } from 'node:worker_threads';
    let seen = 0;
    parentPort.on('message', (m) => {
      if (++seen === ${n}) ${death === 'exit' ? 'process.exit(7)' : "throw new Error('boom')"};
      parentPort.postMessage({ id: m.id, answer: { failed: true }, memory: m.memory, spare: m.out }, [m.memory, m.out]);
    });`);

/** A worker that takes blocks and never answers (it stays alive). */
const silentWorker = workerScript(
  `import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => {});`,
);

const PARAMS = {
  query: { tenant: 't', from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z', filters: {} },
  roots: { keys: [], hashes: new Uint8Array(0) },
  maxLine: 1 << 20,
};

/** `blocks` blocks of lines (blocks of 64 bytes), as a stream would hand them over. */
async function* chunksOf(blocks: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < blocks; i++) yield Buffer.from(`${'x'.repeat(70)}\n`);
}

async function all(answers: AsyncIterable<BlockAnswer>): Promise<BlockAnswer[]> {
  const out: BlockAnswer[] = [];
  for await (const a of answers) out.push(a);
  return out;
}

describe('BlockPool, when a worker goes wrong', () => {
  // Without an answer for each block the caller's await never settles: a hang, or, once nothing
  // else keeps the process alive, Node's exit code 13 (an unsettled top-level await).
  it.each([
    ['exits', 'exit' as const],
    ['throws', 'throw' as const],
  ])('a worker that %s mid-file: the blocks it held are answered as failed and the answers end', async (_, death) => {
    const pool = new BlockPool(PARAMS, 2, 64, dyingWorker(3, death));
    try {
      const answers = await all(pool.answers('records', chunksOf(40), new FileDigest(), 1 << 20));
      expect(answers.length).toBeGreaterThan(0);
      expect(answers.every((a) => a.failed)).toBe(true);
    } finally {
      pool.close();
    }
  });

  it('a pool closed while blocks are in flight (the single pass giving up): the waiting answers settle as failed', async () => {
    const pool = new BlockPool(PARAMS, 1, 64, silentWorker);
    const answers = pool.answers('records', chunksOf(40), new FileDigest(), 1 << 20);
    const first = answers.next();
    // Give the reader time to hand blocks over and wait on their answers.
    await new Promise((r) => setTimeout(r, 100));
    pool.close();
    expect((await first).value).toEqual({ failed: true });
    const rest = await all({ [Symbol.asyncIterator]: () => answers });
    expect(rest.every((a) => a.failed)).toBe(true);
  });
});
