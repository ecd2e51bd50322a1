import { jest } from '@jest/globals';
import { startDevKafka, type DevKafka } from '../../tools/dev-kafka/dev-kafka.js';
import { createTestDatabase, type TestDatabase } from '../support/test-database.js';
import { pollUntil } from '../support/poll-until.js';
import { serviceEnv } from '../support/service-env.js';
import { validEvent } from '../support/workload.js';
import { KINDS, makeAttestor, type PoisonMessage } from '../support/poison-kinds.js';
import {
  FULL,
  PacedProducer,
  SEED,
  rng,
  scaled,
  startService,
  summary,
  tapTopic,
  verifyCli,
  waitConsumed,
  type ChaosService,
} from '../support/chaos-kit.js';

/**
 * Poison. Over a thousand poison messages of 30+ kinds, interleaved with valid events
 * (and a few hostile-looking valid controls): every poison message lands in the quarantine
 * table exactly once and in the DLQ topic with a reason, the service never stops, and every
 * valid event around them is stored exactly once, byte-exact.
 */
jest.setTimeout(FULL ? 3_600_000 : 600_000);

const TOPIC = 'routing.decisions';
const DLQ = 'routing.decisions.dlq';
const VALID = scaled(3000, 20_000);
const PER_KIND = scaled(40, 200);
/** Expensive kinds get fewer copies. */
const COUNTS: Record<string, number> = {
  'string-10MB': scaled(3, 10),
  'deep-nesting-top-level': scaled(8, 40),
  'huge-array': scaled(8, 40),
  'deep-nesting-field': scaled(20, 100),
  'control-properly-signed': scaled(20, 100),
};
const MAX_MESSAGE_BYTES = 2 * 1024 * 1024;

interface Sent extends PoisonMessage {
  id: string;
  kind: string;
}

describe('chaos: poison input never stops ingestion and never goes unaccounted', () => {
  let kafka: DevKafka;
  let db: TestDatabase;
  let svc: ChaosService | undefined;
  let tap: { stop(): Promise<void> } | undefined;

  afterAll(async () => {
    await tap?.stop().catch(() => undefined);
    await svc?.kill('SIGKILL');
    await kafka?.stop();
    await db?.drop();
  });

  it('quarantines and dead-letters every poison message with a reason, and stores every valid event', async () => {
    const random = rng(SEED);
    const attestor = makeAttestor();
    const ctx = { attestor, validIds: (i: number) => (i * 7) % Math.floor(VALID / 3) };

    // The stream: valid events and poison, shuffled; each conflict goes somewhere after its original.
    const stream: Sent[] = [];
    for (let i = 0; i < VALID; i++) {
      const e = validEvent(i);
      stream.push({
        id: `valid:${i}`,
        kind: 'valid',
        key: e.request_id,
        value: Buffer.from(JSON.stringify(e)),
        expect: 'record',
        eventId: e.event_id,
      });
    }
    const conflicts: Sent[] = [];
    for (const [kind, make] of KINDS) {
      for (let i = 0; i < (COUNTS[kind] ?? PER_KIND); i++) {
        const m: Sent = { ...make(i, ctx), id: `${kind}:${i}`, kind };
        (m.expect === 'conflict' ? conflicts : stream).push(m);
      }
    }
    for (let i = stream.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [stream[i], stream[j]] = [stream[j], stream[i]];
    }
    const placed = conflicts
      .map((c) => {
        const original = stream.findIndex((m) => m.kind === 'valid' && m.eventId === c.eventId);
        return { c, at: original + 1 + Math.floor(random() * (stream.length - original)) };
      })
      .sort((a, b) => b.at - a.at);
    for (const { c, at } of placed) stream.splice(at, 0, c);
    const poison = stream.filter((m) => m.expect !== 'record');
    const kinds = new Set(poison.map((m) => m.kind));
    expect(poison.length).toBeGreaterThanOrEqual(1000);
    expect(kinds.size).toBeGreaterThanOrEqual(20);

    kafka = await startDevKafka({
      topics: [
        { name: TOPIC, partitions: 4 },
        { name: DLQ, partitions: 1 },
        { name: 'routing.checkpoints', partitions: 1 },
      ],
    });
    db = await createTestDatabase('rl_chaos_poison');
    await db.query(
      `INSERT INTO gateways (id, kind, attestation_required, public_keys) VALUES ($1, 'native', true, $2::jsonb)`,
      [attestor.gatewayId, JSON.stringify({ keys: [attestor.publicJwk] })],
    );
    const dlq = await tapTopic(kafka.brokers, DLQ);
    tap = dlq;
    svc = await startService(
      await serviceEnv(
        { db, brokers: kafka.brokers },
        { MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES), KAFKA_COMMIT_INTERVAL_MS: '1000' },
      ),
    );
    const service = svc;
    let exitedDuringRun: string | undefined;
    void service.exited.then(({ code, signal }) => (exitedDuringRun = `exit ${code ?? signal}`));

    // gzip: the dev broker trims any message set over 5 MiB at once, and a 10 MB string compresses well.
    const producer = new PacedProducer(kafka.brokers, db, { maxBacklog: 400, chunk: 100, gzip: true, stallMs: 90_000 });
    await producer.connect();
    const started = Date.now();
    try {
      await producer.sendAll(
        stream.map((m) => ({ key: m.key, value: m.value, headers: { ...m.headers, 'x-chaos-id': m.id } })),
        () => exitedDuringRun !== undefined,
      );
      await waitConsumed(db, kafka.brokers, {
        timeoutMs: 300_000,
        describe: () => `${exitedDuringRun ?? ''}\n${service.output().slice(-3000)}`,
      });
    } catch (e) {
      process.stdout.write(`service output (tail):\n${service.output().slice(-6000)}\n`);
      throw e;
    } finally {
      await producer.disconnect();
    }
    const ingestMs = Date.now() - started;
    expect(exitedDuringRun).toBeUndefined();
    expect((await fetch(`${service.base}/healthz`)).status).toBe(200);

    const quarantine = await db.query<{
      reason_code: string;
      reason: string;
      event_id: string | null;
      chaos_id: string | null;
      partition: number;
      offset: string;
    }>(`SELECT reason_code, reason, event_id, headers->>'x-chaos-id' AS chaos_id, partition, "offset" FROM quarantine`);
    await pollUntil(() => dlq.messages.length >= quarantine.length, {
      timeoutMs: 60_000,
      what: () => `${quarantine.length} dead letters (have ${dlq.messages.length})`,
    }).catch(() => undefined);
    await dlq.stop();
    tap = undefined;
    const records = await db.query<{
      event_id: string;
      request_id: string;
      tenant_id: string;
      verified: string | null;
    }>(
      `SELECT event_id, record::jsonb->>'request_id' AS request_id, record::jsonb->>'tenant_id' AS tenant_id, record::jsonb->'attestation'->>'verified' AS verified FROM records`,
    );
    const recordsById = new Map<string, typeof records>();
    for (const r of records) recordsById.set(r.event_id, [...(recordsById.get(r.event_id) ?? []), r]);

    // Where each message went.
    const qByChaos = new Map<string, typeof quarantine>();
    for (const q of quarantine) {
      const key =
        q.reason_code === 'CONFLICT' ? `conflict:${q.event_id}` : (q.chaos_id ?? `?${q.partition}/${q.offset}`);
      qByChaos.set(key, [...(qByChaos.get(key) ?? []), q]);
    }
    const dByChaos = new Map<string, Array<{ code: string; reason: string; bytes: number }>>();
    for (const d of dlq.messages) {
      const key =
        d.headers['x-dlq-reason-code'] === 'CONFLICT'
          ? `conflict:${d.key}`
          : (d.headers['x-chaos-id'] ?? `?${d.headers['x-dlq-source-partition']}/${d.headers['x-dlq-source-offset']}`);
      dByChaos.set(key, [
        ...(dByChaos.get(key) ?? []),
        {
          code: d.headers['x-dlq-reason-code'] ?? '',
          reason: d.headers['x-dlq-reason'] ?? '',
          bytes: d.value?.length ?? 0,
        },
      ]);
    }

    interface KindResult {
      sent: number;
      quarantinedOnce: number;
      quarantinedTwice: number;
      dlq: number;
      stored: number;
      storedExact: number;
      codes: Set<string>;
    }
    const byKind = new Map<string, KindResult>();
    const failures: string[] = [];
    for (const m of stream) {
      const r = byKind.get(m.kind) ?? {
        sent: 0,
        quarantinedOnce: 0,
        quarantinedTwice: 0,
        dlq: 0,
        stored: 0,
        storedExact: 0,
        codes: new Set<string>(),
      };
      byKind.set(m.kind, r);
      r.sent++;
      const qKey = m.expect === 'conflict' ? `conflict:${m.eventId}` : m.id;
      const qs = qByChaos.get(qKey) ?? [];
      const ds = dByChaos.get(qKey) ?? [];
      if (m.expect === 'record') {
        const rows = recordsById.get(m.eventId!) ?? [];
        if (rows.length === 1) r.stored++;
        if (
          rows.length === 1 &&
          Object.entries(m.exact ?? {}).every(([k, v]) => (rows[0] as Record<string, unknown>)[k] === v)
        )
          r.storedExact++;
        if (m.kind === 'control-properly-signed' && rows[0]?.verified !== 'true')
          failures.push(`${m.id}: stored without attestation.verified = true`);
        if (rows.length !== 1 || qs.length > 0)
          failures.push(
            `${m.id}: expected one record, found ${rows.length} records and ${qs.length} quarantine rows (${qs.map((q) => q.reason_code).join(',')})`,
          );
        continue;
      }
      for (const q of qs) r.codes.add(q.reason_code);
      if (qs.length === 1 && qs[0].reason.length > 10) r.quarantinedOnce++;
      if (qs.length > 1) r.quarantinedTwice++;
      if (ds.some((d) => d.reason.length > 10 && d.code.length > 0)) r.dlq++;
      if (m.eventId && m.expect === 'poison' && (recordsById.get(m.eventId)?.length ?? 0) > 0)
        failures.push(`${m.id}: poison stored as record ${m.eventId}`);
      if (qs.length !== 1) failures.push(`${m.id}: ${qs.length} quarantine rows`);
      else if (qs[0].reason.length <= 10) failures.push(`${m.id}: quarantine reason too thin: ${qs[0].reason}`);
      if (!ds.some((d) => d.reason.length > 10)) failures.push(`${m.id}: not in the DLQ (${ds.length} dead letters)`);
    }
    const distinctValid = stream.filter((m) => m.expect === 'record').length;
    const verify = await verifyCli(db.url);

    for (const [kind, r] of byKind) {
      process.stdout.write(
        `  poison ${kind.padEnd(34)} sent=${r.sent} ${kind === 'valid' || kind.startsWith('control-') ? `stored=${r.stored} exact=${r.storedExact}` : `quarantine=${r.quarantinedOnce} dlq=${r.dlq} codes=${[...r.codes].join(',')}`}\n`,
      );
    }
    const poisonKinds = [...byKind].filter(([k]) => k !== 'valid' && !k.startsWith('control-'));
    summary('poison', {
      poison_sent: poison.length,
      poison_kinds: poisonKinds.length,
      quarantined_once: poisonKinds.reduce((n, [, r]) => n + r.quarantinedOnce, 0),
      quarantined_twice: poisonKinds.reduce((n, [, r]) => n + r.quarantinedTwice, 0),
      in_dlq: poisonKinds.reduce((n, [, r]) => n + r.dlq, 0),
      dlq_messages: dlq.messages.length,
      valid_sent: distinctValid,
      valid_stored: records.length,
      service_exits: exitedDuringRun ?? 0,
      ingest_ms: ingestMs,
      where: Object.fromEntries(
        poisonKinds.map(([k, r]) => [k, `${r.quarantinedOnce}q/${r.dlq}d:${[...r.codes].join('+')}`]),
      ),
      failures: failures.length,
      verify: verify.code === 0 ? 'VERIFIED' : `exit ${verify.code}`,
    });
    expect(failures.slice(0, 25)).toEqual([]);
    expect(records).toHaveLength(distinctValid);
    expect(verify.code).toBe(0);
  });
});
