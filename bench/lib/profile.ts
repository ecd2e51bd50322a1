/**
 * Summary of a V8 CPU profile (.cpuprofile, as `node --cpu-prof` or node:inspector write it):
 * self time by function, and time by pipeline stage. A sample's stage is decided by walking
 * from the sampled frame up to the root and taking the first frame that a rule recognizes,
 * so JSON.parse inside the adapters counts as decode/adapt and a SHA-256 digest inside the
 * Merkle code as Merkle.
 */
import { readFileSync } from 'node:fs';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** First match wins, tested on each frame from the sampled one upwards. */
const STAGE_RULES: Array<[string, (f: CallFrame) => boolean]> = [
  ['(garbage collector)', (f) => f.functionName === '(garbage collector)'],
  ['(idle)', (f) => f.functionName === '(idle)'],
  ['(program)', (f) => f.functionName === '(program)'],
  [
    'validate: class-validator (validateRecord)',
    (f) =>
      f.url.includes('/domain/record/validate-record') ||
      f.url.includes('/node_modules/class-validator/') ||
      f.url.includes('/node_modules/class-transformer/'),
  ],
  [
    'decode/adapt (format detection, adapter, redaction)',
    (f) => f.url.includes('/ingest/adapters/') || f.url.includes('/domain/privacy/'),
  ],
  ['decode batch (stamping, poison handling)', (f) => f.url.includes('/ingest/decode-batch')],
  [
    'canonicalize (canonical JSON)',
    (f) => f.url.includes('/domain/canonical/') || f.url.includes('/node_modules/canonicalize/'),
  ],
  [
    'Merkle append (node hashes)',
    (f) => f.url.includes('/domain/merkle/append') || f.url.includes('/domain/merkle/range'),
  ],
  ['Merkle proof (consistency proof for the checkpoint)', (f) => f.url.includes('/domain/merkle/prover')],
  [
    'hash (leaf + content SHA-256)',
    (f) => f.url.includes('/domain/merkle/hasher') || f.url.includes('/domain/ledger-entry/'),
  ],
  [
    'sign checkpoint (Ed25519 JWS)',
    (f) => f.url.includes('/domain/checkpoint/') || f.url.includes('/node_modules/jose/'),
  ],
  ['traffic summaries (summarizeRecords)', (f) => f.url.includes('/domain/summary/')],
  [
    'plan (append-plan, signals)',
    (f) => f.url.includes('/ledger/append-plan') || f.url.includes('/domain/record/derive-signals'),
  ],
  ['DB write: COPY encoding (copy-binary, copy-text)', (f) => f.url.includes('/database/copy-')],
  [
    'DB write: repository + pg driver',
    (f) =>
      f.url.includes('/ledger/ledger-append.repository') ||
      f.url.includes('/node_modules/pg') ||
      f.url.includes('/node_modules/pg-copy-streams/') ||
      f.url.includes('/node_modules/pg-protocol/'),
  ],
  ['append transaction (service)', (f) => f.url.includes('/ledger/ledger-append.service')],
  ['kafkajs (fetch, decompress, decode)', (f) => f.url.includes('/node_modules/kafkajs/')],
  ['typeorm', (f) => f.url.includes('/node_modules/typeorm/')],
  [
    'consumer (handleBatch)',
    (f) => f.url.includes('/ingest/ledger-consumer.service') || f.url.includes('/ingest/kafka-headers'),
  ],
  ['metrics (prom-client)', (f) => f.url.includes('/node_modules/prom-client/')],
  ['nest / express', (f) => f.url.includes('/node_modules/@nestjs/') || f.url.includes('/node_modules/express/')],
];

export interface ProfileSummary {
  /** Sampled time, ms, idle excluded. */
  busyMs: number;
  idleMs: number;
  stages: Array<{ stage: string; ms: number; share: number }>;
  top: Array<{ fn: string; where: string; selfMs: number; share: number; stage: string }>;
}

function shortUrl(url: string): string {
  const i = url.lastIndexOf('/node_modules/');
  if (i >= 0) return url.slice(i + '/node_modules/'.length);
  const d = url.indexOf('/dist/');
  if (d >= 0) return url.slice(d + '/dist/'.length);
  return url.replace(/^file:\/\//, '') || '(native)';
}

export function summarizeProfile(path: string, topN = 20): ProfileSummary {
  const p = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const stageOf = new Map<number, string>();
  const stageFor = (id: number): string => {
    const cached = stageOf.get(id);
    if (cached) return cached;
    let stage = 'other (JS builtins, node internals)';
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame;
      const rule = STAGE_RULES.find(([, test]) => test(f));
      if (rule) {
        stage = rule[0];
        break;
      }
    }
    stageOf.set(id, stage);
    return stage;
  };
  const selfUs = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) {
    // timeDeltas[i] is the gap before sample i: it is sample i-1's duration.
    const dt = p.timeDeltas[i + 1] ?? 0;
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + Math.max(0, dt));
  }
  const stages = new Map<string, number>();
  const fns = new Map<string, { fn: string; where: string; us: number; stage: string }>();
  for (const [id, us] of selfUs) {
    const stage = stageFor(id);
    stages.set(stage, (stages.get(stage) ?? 0) + us);
    const f = byId.get(id)!.callFrame;
    const where = f.url ? `${shortUrl(f.url)}:${f.lineNumber + 1}` : '(native)';
    const key = `${f.functionName}@${where}`;
    const e = fns.get(key) ?? { fn: f.functionName || '(anonymous)', where, us: 0, stage };
    e.us += us;
    fns.set(key, e);
  }
  const idleMs = (stages.get('(idle)') ?? 0) / 1000;
  stages.delete('(idle)');
  const busyUs = [...stages.values()].reduce((a, b) => a + b, 0);
  return {
    busyMs: busyUs / 1000,
    idleMs,
    stages: [...stages]
      .map(([stage, us]) => ({ stage, ms: us / 1000, share: us / busyUs }))
      .sort((a, b) => b.ms - a.ms),
    top: [...fns.values()]
      .filter((f) => f.fn !== '(idle)')
      .sort((a, b) => b.us - a.us)
      .slice(0, topN)
      .map((f) => ({ fn: f.fn, where: f.where, selfMs: f.us / 1000, share: f.us / busyUs, stage: f.stage })),
  };
}
