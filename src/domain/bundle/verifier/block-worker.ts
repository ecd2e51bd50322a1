/**
 * A block worker of the single pass: checks blocks of whole lines (line-blocks.ts) as the
 * main thread hands them over and answers each with its packed results.
 *
 * Protocol (main → worker): {id, kind, memory, length}; (worker → main): {id, answer, memory}
 * (the block's memory, given back for reuse).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockChecker, type BlockAnswer, type BlockKind, type BlockParams } from './line-blocks.js';

const checker = new BlockChecker(workerData as BlockParams);
const port = parentPort!;
port.on('message', (m: { id: number; kind: BlockKind; memory: ArrayBuffer; length: number }) => {
  const answer: BlockAnswer = checker.check(m.kind, new Uint8Array(m.memory, 0, m.length));
  const transfer = answer.failed ? [] : [answer.seq, ...(answer.nums ? [answer.nums, answer.prev!] : [])];
  // The block's memory goes back to the main thread for its next blocks.
  port.postMessage({ id: m.id, answer, memory: m.memory }, [...transfer, m.memory]);
});
