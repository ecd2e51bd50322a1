/**
 * A block worker of the single pass: checks blocks of whole lines (line-blocks.ts) as the
 * main thread hands them over and answers each with its packed results.
 *
 * Protocol (main → worker): {id, kind, memory, length, out}: the block, and memory for its
 * results; (worker → main): {id, answer, memory, spare}: the results (views of `out`, or of new
 * memory when `out` was too small), the block's memory and `out` when it went unused. Every
 * memory goes back to the main thread, for the next blocks.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockChecker, type BlockAnswer, type BlockKind, type BlockParams } from './line-blocks.js';

const checker = new BlockChecker(workerData as BlockParams);
const port = parentPort!;
port.on('message', (m: { id: number; kind: BlockKind; memory: ArrayBuffer; length: number; out?: ArrayBuffer }) => {
  const answer: BlockAnswer = checker.check(m.kind, new Uint8Array(m.memory, 0, m.length), m.out);
  const results = answer.failed ? undefined : (answer.seq.buffer as ArrayBuffer);
  const spare = m.out !== undefined && m.out !== results ? m.out : undefined;
  const transfer = [m.memory, ...(results ? [results] : []), ...(spare ? [spare] : [])];
  port.postMessage({ id: m.id, answer, memory: m.memory, spare }, transfer);
});
