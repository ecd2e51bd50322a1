/**
 * `node dist/bench/micro/verify-one.js BUNDLE JWKS [DIST]`: one verifyBundle of BUNDLE (a file of
 * bench/verify-bundles.ts) in this process, printed as JSON: records, wall seconds and rate, the
 * CPU seconds of the verification alone (cpuVerify: all threads, module loading excluded) and
 * of the whole process, VmHWM, and the CPU seconds of each thread (/proc/self/task, sampled
 * every 50 ms: the main thread, the block workers, V8's platform threads and libuv's pool, where
 * the inflating runs). DIST is the compiled tree whose verify-bundle.js is used (default: this
 * one's), so that one script measures a "before" build too. Linux only.
 */
import { createReadStream, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

import type { Jwks } from '../../src/domain/checkpoint/signing-key.js';

type Verify = typeof import('../../src/domain/bundle/verify-bundle.js');

async function main(): Promise<void> {
  const [file, jwksFile, dist] = process.argv.slice(2);
  if (!file || !jwksFile) throw new Error('usage: verify-one.js BUNDLE JWKS [DIST]');
  const root = dist ?? join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const module = pathToFileURL(join(root, 'src/domain/bundle/verify-bundle.js')).href;
  const { verifyBundle, describeProblem } = (await import(module)) as Verify;
  const jwks = JSON.parse(readFileSync(jwksFile, 'utf8')) as Jwks;
  const threads = new Map<string, number>();
  const sample = () => {
    for (const tid of readdirSync('/proc/self/task')) {
      try {
        const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
        const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        threads.set(tid, (Number(f[11]) + Number(f[12])) / 100);
      } catch {
        // The thread ended between the listing and the read.
      }
    }
  };
  sample();
  const before = new Map(threads);
  const timer = setInterval(sample, 50);
  const u0 = process.resourceUsage();
  const t = performance.now();
  const v = await verifyBundle(() => createReadStream(file), { trustedJwks: jwks });
  const seconds = (performance.now() - t) / 1000;
  const u = process.resourceUsage();
  clearInterval(timer);
  sample();
  if (!v.ok) throw new Error(describeProblem(v.problem!));
  const cpu = (r: NodeJS.ResourceUsage) => (r.userCPUTime + r.systemCPUTime) / 1e6;
  const perThread: Record<string, number> = {};
  for (const [tid, s] of threads) {
    const d = s - (before.get(tid) ?? 0);
    if (d >= 0.01) perThread[tid === String(process.pid) ? 'main' : tid] = Number(d.toFixed(2));
  }
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) / 1024;
  process.stdout.write(
    `${JSON.stringify({
      records: v.counts.records,
      seconds: Number(seconds.toFixed(3)),
      recordsPerSecond: Math.round(v.counts.records / seconds),
      cpuVerify: Number((cpu(u) - cpu(u0)).toFixed(2)),
      cpuProcess: Number(cpu(u).toFixed(2)),
      peakRssMiB: Number(hwm.toFixed(1)),
      threads: perThread,
    })}\n`,
  );
}

main().then(
  () => process.exit(0),
  (e: Error) => {
    process.stderr.write(`${e.stack ?? e.message}\n`);
    process.exit(1);
  },
);
