import type { PoolClient } from 'pg';
import { escapeLiteral } from 'pg';
import { to as copyTo } from 'pg-copy-streams';
import { FILTER_FIELDS, type ExportQuery } from '../domain/bundle/bundle-format.js';
import { canonicalJson } from '../domain/canonical/canonical-json.js';
import type { Jwks } from '../domain/checkpoint/signing-key.js';
import { LEDGER_ENTRY_VERSION } from '../domain/ledger-entry/ledger-entry.js';
import type { NoteSignature } from '../domain/note/signed-note.js';
import type { WitnessPolicy } from '../domain/witness/witness-policy.js';
import { entryFromRow, type EntryDbRow } from '../ledger/entry-row.js';
import { merkleNodeReader, TileCache, type RowQuery } from '../ledger/merkle-node-store.js';
import type { BundleSource, SourceCheckpoint, SourceEntry, SourceLine } from './bundle-source.js';
import { copyBinaryRows, int8 } from './copy-binary.js';

/** Tiles an export keeps: a page's leaf tiles (a page of 1,000 spans ~5) and the levels above. */
const EXPORT_TILE_CACHE = 64;

type ChainDbRow = EntryDbRow & {
  occurred_ms: number;
  provider: string | null;
  requested_model: string;
  gateway_id: string;
  outcome_status: string;
};

/**
 * How the export reaches the database: plain queries (pg's row parsing), and a client of its
 * own for a chain read's COPY, released by the reader. The service passes its TypeORM
 * DataSource's (export-source.repository.ts); the standalone export a pg pool, so the CLI
 * starts without Nest and TypeORM.
 */
export interface ExportDatabase {
  query: RowQuery;
  connect(): Promise<PoolClient>;
}

/**
 * The ledger reads an export needs (SQL only, no Nest or TypeORM). Every query is bounded by
 * the anchor's tree size, so an export reads one snapshot while ingestion appends. Chain reads
 * (one COPY per shard, or keyset pages) use the records_tenant_chain_key index (shard,
 * tenant_id, tenant_seq); range bounds use records_tenant_time_idx (tenant_id, occurred_at).
 */
export class PgExportSource {
  constructor(private readonly db: ExportDatabase) {}

  private async rows<T>(sql: string, params: unknown[] = []): Promise<T[]> {
    return (await this.db.query(sql, params)) as T[];
  }

  /**
   * A BundleSource over this database, with `jwks` as the published keys. With a witness policy
   * of quorum k > 0, each shard's anchor is its newest checkpoint k of the witnesses cosigned (as
   * GET /tlog/<n>/checkpoint serves), so that a verifier enforcing the policy accepts the bundle;
   * records appended after it are left to a later export. A shard with none yet keeps its latest.
   */
  source(jwks: () => Promise<Jwks>, policy?: WitnessPolicy): BundleSource {
    // An export walks the tiles in leaf order: it needs the few tiles of the current page and
    // the upper levels, not the ledger's shared cache (which it would only flush of the tiles
    // receipts use). Its own small cache keeps its memory flat whatever the bundle's size.
    const tiles = new TileCache(EXPORT_TILE_CACHE);
    return {
      anchors: () => this.anchors(policy),
      cosignatures: (s, n, r) => this.cosignatures(s, n, r),
      jwks,
      tenantChainLength: (s, t, n) => this.tenantChainLength(s, t, n),
      inRangeSeqBounds: (s, t, f, to, n) => this.inRangeSeqBounds(s, t, f, to, n),
      lastSeqBefore: (s, t, f, n) => this.lastSeqBefore(s, t, f, n),
      chainPage: (s, t, a, b, l) => this.chainPage(s, t, a, b, l),
      chainLines: (s, q, a, b, n) => this.chainLines(s, q, a, b, n),
      coveringCheckpoints: (s, i, m) => this.coveringCheckpoints(s, i, m),
      nodeReader: (s) => merkleNodeReader((sql, params) => this.db.query(sql, params), s, undefined, tiles),
    };
  }

  async anchors(policy?: WitnessPolicy): Promise<SourceCheckpoint[]> {
    const latest = (
      await this.rows<{ shard: number; tree_size: string; jws: string }>(
        'SELECT DISTINCT ON (shard) shard, tree_size, jws FROM checkpoints ORDER BY shard, tree_size DESC',
      )
    ).map((c) => ({ shard: c.shard, treeSize: Number(c.tree_size), jws: c.jws }));
    if (!policy || policy.quorum === 0) return latest;
    const names = policy.witnesses.map((w) => w.name);
    return Promise.all(
      latest.map(async (cp) => {
        const rows = await this.rows<{ tree_size: string; jws: string }>(
          `SELECT c.tree_size, c.jws FROM checkpoints c
           WHERE c.shard = $1 AND c.tree_size = (
             SELECT tree_size FROM witness_cosignatures WHERE shard = $1 AND witness = ANY($2::text[])
             GROUP BY tree_size HAVING count(DISTINCT witness) >= $3 ORDER BY tree_size DESC LIMIT 1)`,
          [cp.shard, names, policy.quorum],
        );
        return rows[0] ? { shard: cp.shard, treeSize: Number(rows[0].tree_size), jws: rows[0].jws } : cp;
      }),
    );
  }

  /** The stored cosignatures of exactly this checkpoint (each verified before it was stored). */
  async cosignatures(shard: number, treeSize: number, rootHash: Buffer): Promise<NoteSignature[]> {
    const rows = await this.rows<{ witness: string; key_id: string; signature: Buffer }>(
      `SELECT witness, key_id, signature FROM witness_cosignatures
       WHERE shard = $1 AND tree_size = $2 AND root_hash = $3 ORDER BY witness, key_id`,
      [shard, treeSize, rootHash],
    );
    return rows.map((r) => ({ name: r.witness, keyId: Number(r.key_id), signature: r.signature }));
  }

  async tenantChainLength(shard: number, tenant: string, treeSize: number): Promise<number> {
    const rows = await this.rows<{ tenant_seq: string }>(
      `SELECT tenant_seq FROM records WHERE shard = $1 AND tenant_id = $2 AND leaf_index < $3 ORDER BY tenant_seq DESC LIMIT 1`,
      [shard, tenant, treeSize],
    );
    return rows.length === 0 ? 0 : Number(rows[0].tenant_seq) + 1;
  }

  /**
   * The smallest and largest tenant_seq of the shard's records in [from, to). Two exact plans,
   * each cheap in one case: PostgreSQL's min/max plan walks the chain index (shard, tenant_id,
   * tenant_seq) in from both ends, reading every record outside the range; a read of the range
   * through records_tenant_time_idx reads every record inside it (OFFSET 0 keeps the planner
   * from turning it into the walk). Measured on a 1M-record ledger, one tenant over 4 shards, per
   * shard: the walk 336 ms for 2k records in range, 1,559 ms for 100k, 0.5 ms for the whole chain;
   * the range read 7, 548 and 1,962 ms. Which side is smaller is judged from where `from` and
   * `to` fall in the chain (records are appended as they arrive, so occurred_at follows
   * tenant_seq closely), found by a binary search of the chain index: a few dozen index probes.
   */
  async inRangeSeqBounds(
    shard: number,
    tenant: string,
    from: string,
    to: string,
    treeSize: number,
  ): Promise<{ min: number; max: number } | null> {
    const chain = await this.tenantChainLength(shard, tenant, treeSize);
    if (chain === 0) return null;
    const [atFrom, atTo] = await this.chainPositions(shard, tenant, chain, [from, to]);
    const inRange = atTo - atFrom;
    const where = 'tenant_id = $2 AND occurred_at >= $3 AND occurred_at < $4 AND shard = $1 AND leaf_index < $5';
    const rows = await this.rows<{ min: string | null; max: string | null }>(
      inRange < chain - inRange
        ? `SELECT min(s) AS min, max(s) AS max FROM (SELECT tenant_seq AS s FROM records WHERE ${where} OFFSET 0) r`
        : `SELECT min(tenant_seq) AS min, max(tenant_seq) AS max FROM records WHERE ${where}`,
      [shard, tenant, from, to, treeSize],
    );
    return rows[0]?.min == null ? null : { min: Number(rows[0].min), max: Number(rows[0].max) };
  }

  /**
   * Where each instant of `ats` falls in the tenant's chain of `chainLength` records: the first
   * tenant_seq whose record is not older, were occurred_at increasing along the chain (nearly so:
   * late arrivals aside). An estimate for choosing a plan, never an answer. A binary search over
   * tenant_seq run by PostgreSQL as one recursive statement (one index probe per step, ~23 steps
   * for a chain of 10M), where a search from here would cost a round trip per probe.
   */
  async chainPositions(shard: number, tenant: string, chainLength: number, ats: string[]): Promise<number[]> {
    const rows = await this.rows<{ k: number; lo: string }>(
      `WITH RECURSIVE search(k, lo, hi, at) AS (
         SELECT k::int, 0::bigint, $3::bigint, at FROM unnest($4::timestamptz[]) WITH ORDINALITY AS a(at, k)
         UNION ALL
         SELECT k, CASE WHEN p.older THEN p.mid + 1 ELSE lo END, CASE WHEN p.older THEN hi ELSE p.mid END, at
         FROM search, LATERAL (
           SELECT lo + (hi - lo) / 2 AS mid,
             (SELECT r.occurred_at < at FROM records r
              WHERE r.shard = $1 AND r.tenant_id = $2 AND r.tenant_seq = lo + (hi - lo) / 2) AS older
         ) p
         WHERE lo < hi
       )
       SELECT k, lo FROM search WHERE lo >= hi`,
      [shard, tenant, chainLength, ats],
    );
    const at = new Map(rows.map((r) => [Number(r.k), Number(r.lo)]));
    return ats.map((_, i) => at.get(i + 1)!);
  }

  async lastSeqBefore(shard: number, tenant: string, from: string, treeSize: number): Promise<number | null> {
    const rows = await this.rows<{ max: string | null }>(
      `SELECT max(tenant_seq) AS max FROM records WHERE tenant_id = $2 AND occurred_at < $3 AND shard = $1 AND leaf_index < $4`,
      [shard, tenant, from, treeSize],
    );
    return rows[0]?.max == null ? null : Number(rows[0].max);
  }

  async chainPage(
    shard: number,
    tenant: string,
    fromSeq: number,
    toSeq: number,
    limit: number,
  ): Promise<SourceEntry[]> {
    const rows = await this.rows<ChainDbRow>(
      `SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record,
              (extract(epoch FROM occurred_at) * 1000)::float8 AS occurred_ms, provider, requested_model, gateway_id, outcome_status
       FROM records WHERE shard = $1 AND tenant_id = $2 AND tenant_seq >= $3 AND tenant_seq <= $4 ORDER BY tenant_seq LIMIT $5`,
      [shard, tenant, fromSeq, toSeq, limit],
    );
    return rows.map(toSourceEntry);
  }

  /**
   * The tenant's chain run as one binary COPY: PostgreSQL assembles each entry's canonical line
   * from the stored record text (docs/ledger-format.md §3: members in JCS order, the record
   * spliced as stored) and decides the range and filters on the derived columns, so this
   * process only slices rows out of the stream (copy-binary.ts). The stream is read a page at a
   * time: the socket waits while a page is proved and written (flat memory), and one statement
   * replaces a round trip per page. COPY takes no parameters: numbers are checked integers,
   * strings quoted by pg's escapeLiteral.
   */
  async *chainLines(
    shard: number,
    query: ExportQuery,
    fromSeq: number,
    toSeq: number,
    pageSize: number,
  ): AsyncGenerator<SourceLine[]> {
    for (const n of [shard, fromSeq, toSeq])
      if (!Number.isSafeInteger(n) || n < 0) throw new Error(`chainLines: ${n} is not a count`);
    const lit = escapeLiteral;
    const tenantJson = canonicalJson(query.tenant);
    const filters = FILTER_FIELDS.filter((f) => query.filters[f] !== undefined).map(
      (f) => ` AND ${f} = ${lit(query.filters[f]!)}`,
    );
    const inRange = `occurred_at >= ${lit(query.from)}::timestamptz AND occurred_at < ${lit(query.to)}::timestamptz`;
    const sql = `COPY (SELECT leaf_index, tenant_seq, tenant_prev, leaf_hash, event_id,
        (${inRange}) AS in_range, COALESCE(${inRange}${filters.join('')}, false) AS matches,
        '{"index":' || leaf_index || ',"record":' || record || ',"shard":' || shard || ',"tenant_id":' || ${lit(tenantJson)}
          || ',"tenant_prev":' || COALESCE('"' || encode(tenant_prev, 'hex') || '"', 'null')
          || ',"tenant_seq":' || tenant_seq || ',"v":${LEDGER_ENTRY_VERSION}}' AS line
      FROM records WHERE shard = ${shard} AND tenant_id = ${lit(query.tenant)} AND tenant_seq >= ${fromSeq} AND tenant_seq <= ${toSeq}
      ORDER BY tenant_seq) TO STDOUT WITH (FORMAT binary)`;
    const client = await this.db.connect();
    // A checked-out pg client has no 'error' listener (the pool's is detached while it is out):
    // a server that ends the connection between reads (a restart, pg_terminate_backend) would
    // otherwise end the process. The COPY stream reports the same failure to the reader.
    let ended: Error | undefined;
    const onEnded = (e: Error) => (ended ??= e);
    client.on('error', onEnded);
    const stream = client.query(copyTo(sql));
    let failed: Error | undefined;
    try {
      let page: SourceLine[] = [];
      for await (const rows of copyBinaryRows(stream, 8)) {
        for (const r of rows) {
          page.push(sourceLine(r));
          if (page.length === pageSize) {
            yield page;
            page = [];
          }
        }
      }
      if (page.length > 0) yield page;
    } catch (e) {
      failed = e as Error;
      throw e;
    } finally {
      // A COPY left before its end leaves the connection mid-protocol: it is closed, not reused.
      const done = stream.readableEnded && failed === undefined && ended === undefined;
      if (!done) stream.destroy();
      client.release(done ? undefined : (failed ?? ended ?? new Error('chain read abandoned')));
      client.removeListener('error', onEnded);
    }
  }

  /**
   * The covering checkpoint of each leaf, matched here by binary search. Usually one range scan
   * on checkpoints_pkey: every checkpoint from the first above the page's smallest leaf to the
   * first above its largest (a page of a busy tenant spans a few). When that range holds more
   * checkpoints than the page has leaves (a tenant with little of the traffic, its leaves spread
   * thinly), one index probe per leaf instead, which reads only the covering ones. The probes
   * cost ~16 µs a leaf: per page they were most of the export's database time.
   */
  async coveringCheckpoints(shard: number, indexes: number[], maxSize: number): Promise<SourceCheckpoint[]> {
    if (indexes.length === 0) return [];
    let lowest = indexes[0];
    let highest = indexes[0];
    for (const i of indexes) {
      if (i < lowest) lowest = i;
      if (i > highest) highest = i;
    }
    let rows = await this.rows<{ tree_size: string; jws: string }>(
      `SELECT tree_size, jws FROM checkpoints WHERE shard = $1 AND tree_size > $2
         AND tree_size <= LEAST($4::bigint, (SELECT tree_size FROM checkpoints
           WHERE shard = $1 AND tree_size > $3 AND tree_size <= $4 ORDER BY tree_size LIMIT 1))
       ORDER BY tree_size LIMIT $5`,
      [shard, lowest, highest, maxSize, indexes.length + 1],
    );
    if (rows.length > indexes.length) {
      rows = await this.rows<{ tree_size: string; jws: string }>(
        `SELECT DISTINCT c.tree_size, c.jws FROM unnest($2::bigint[]) AS i(idx)
         CROSS JOIN LATERAL (SELECT tree_size, jws FROM checkpoints WHERE shard = $1 AND tree_size > i.idx AND tree_size <= $3 ORDER BY tree_size LIMIT 1) c
         ORDER BY c.tree_size`,
        [shard, indexes, maxSize],
      );
    }
    const cps = rows.map((r) => ({ shard, treeSize: Number(r.tree_size), jws: r.jws }));
    return indexes.map((index) => firstAbove(cps, index)) as SourceCheckpoint[];
  }
}

/** The first checkpoint (sorted by tree size) whose tree contains leaf `index`, or undefined. */
function firstAbove(cps: SourceCheckpoint[], index: number): SourceCheckpoint | undefined {
  let lo = 0;
  let hi = cps.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (cps[mid].treeSize > index) hi = mid;
    else lo = mid + 1;
  }
  return cps[lo];
}

/** A row of chainLines' COPY: leaf_index, tenant_seq, tenant_prev, leaf_hash, event_id, in_range, matches, line. */
function sourceLine(r: Array<Buffer | null>): SourceLine {
  const eventId = r[4]!;
  const line = r[7]!;
  return {
    index: int8(r[0]!),
    tenantSeq: int8(r[1]!),
    tenantPrev: r[2],
    leafHash: r[3]!,
    line,
    leafInput: leafInput(line),
    inRange: r[5]![0] === 1,
    matches: r[6]![0] === 1,
    eventId: () => eventId.toString('utf8'),
  };
}

/**
 * 0x00 and the line, in place: the byte before a field of a binary COPY row is the last byte
 * of its length, read already (copy-binary.ts), and the row is a view of a chunk this process
 * received and owns; so the leaf hash's prefix is written there instead of copying the line
 * behind one.
 */
function leafInput(line: Buffer): Buffer {
  const prefixed = Buffer.from(line.buffer, line.byteOffset - 1, line.length + 1);
  prefixed[0] = 0x00;
  return prefixed;
}

/**
 * The entry with its record parsed only if someone reads it: the writer splices the stored
 * text and counts from the row's columns, so only boundary entries (written as JSON objects)
 * are ever parsed.
 */
function toSourceEntry(r: ChainDbRow): SourceEntry {
  const entry = entryFromRow(r, 'when-read');
  if (typeof r.record !== 'string') return { eventId: r.event_id, entry, leafHash: r.leaf_hash };
  return {
    eventId: r.event_id,
    entry,
    leafHash: r.leaf_hash,
    recordJson: r.record,
    facts: {
      occurredAtMs: r.occurred_ms,
      // Absent members are NULL columns; recordFacts reads them as undefined.
      provider: r.provider ?? undefined,
      requested_model: r.requested_model,
      gateway_id: r.gateway_id,
      outcome_status: r.outcome_status,
    },
  };
}
