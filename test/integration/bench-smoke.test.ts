import { jest } from '@jest/globals';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// The benchmark's --quick mode, end to end (its own broker and database): it must complete and
// report every section. No timing is asserted: the figures depend on the machine and its load.
jest.setTimeout(600_000);

const ENTRY = join(process.cwd(), 'dist', 'bench', 'run.js');
const READS_ENTRY = join(process.cwd(), 'dist', 'bench', 'reads.js');

function run(args: string[], entry = ENTRY): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [entry, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => (stdout += b.toString()));
    child.stderr.on('data', (b: Buffer) => (stderr = (stderr + b.toString()).slice(-20_000)));
    child.on('error', reject);
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('bench --quick', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-smoke-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('completes and reports the ceiling, the baseline, the pipeline, the ratios and the ledger', async () => {
    if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first`);
    const out = join(dir, 'results.json');
    const r = await run(['--quick', '--out', out]);
    if (r.code !== 0) throw new Error(`bench exited with ${r.code}\n${r.stderr}`);

    for (const heading of [
      '1. Raw ceiling',
      '2. Naive baseline',
      '3. The real pipeline',
      '4. Ratios against targets',
      '5. Ledger',
      '6. Storage',
    ]) {
      expect(r.stdout).toContain(heading);
    }
    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.pipeline.events).toBe(results.options.events);
    for (const rate of [
      results.ceiling.consume.eventsPerS,
      results.ceiling.copy.rowsPerS,
      results.ceiling.together.eventsPerS,
      results.naive.eventsPerS,
      results.pipeline.eventsPerS,
    ]) {
      expect(rate).toBeGreaterThan(0);
    }
    for (const ratio of ['ceiling', 'naive', 'latencyHalfP99'] as const)
      expect(Number.isFinite(results.ratios[ratio].value)).toBe(true);
    expect(results.pipeline.latency.half.appended).toBe(results.pipeline.latency.half.sent);
    expect(results.pipeline.stages.length).toBeGreaterThan(5);
    expect(results.ledger.proofs.length).toBeGreaterThan(0);
    expect(results.hooks.length).toBeGreaterThan(0);
  });

  it('bench:reads runs the read hooks alone on seeded records, every figure reported', async () => {
    const out = join(dir, 'results-reads.json');
    const r = await run(['--quick', '--records', '3000', '--export-records', '300', '--out', out], READS_ENTRY);
    if (r.code !== 0) throw new Error(`bench:reads exited with ${r.code}\n${r.stderr}`);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect(results.seeding.rows).toBe(3000);
    const names: string[] = results.hooks.flatMap((h: { figures: Array<{ name: string }> }) =>
      h.figures.map((f) => f.name),
    );
    for (const figure of [
      'request lookup',
      'trace lookup',
      'decision list, first page',
      'decision list, cursor page',
      '1-hour incident reconstruction (provider=openai, all tenants)',
      '1-hour incident reconstruction (provider=openai, one tenant)',
      '24-hour incident reconstruction',
      'export, 300 records',
      'offline verification, 300 records',
    ])
      expect(names.some((n) => n.startsWith(figure))).toBe(true);
    expect(results.hooks.every((h: { error?: string }) => h.error === undefined)).toBe(true);
  });
});
