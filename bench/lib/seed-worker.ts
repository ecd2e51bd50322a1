/** A worker thread of seed.ts: builds the chunks it is sent (seedChunk) and posts them back in order. */
import { parentPort } from 'node:worker_threads';
import { seedChunk, type SeedChunkSpec } from './seed-chunk.js';

parentPort!.on('message', (spec: SeedChunkSpec) => {
  try {
    const chunk = seedChunk(spec);
    const body = chunk.body;
    // Hand the COPY body over rather than copying it (a chunk is tens of MB).
    const transferable = body.byteOffset === 0 && body.byteLength === body.buffer.byteLength;
    parentPort!.postMessage({ ok: true, chunk }, transferable ? [body.buffer as ArrayBuffer] : []);
  } catch (e) {
    parentPort!.postMessage({ ok: false, error: (e as Error).stack ?? String(e) });
  }
});
