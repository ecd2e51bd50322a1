import pg from 'pg';
import { inclusionProofRanges, nodeIdsForRanges } from '/work/main/dist/src/domain/merkle/prover.js';
const c = new pg.Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/rl_bench_keep' }); await c.connect();
const t = async (label, f) => { const s = performance.now(); const r = await f(); console.log(label, (performance.now() - s).toFixed(1), 'ms'); return r; };
for (const start of [4000, 5000]) {
const page = await t('chainPage', () => c.query(`SELECT event_id, shard, leaf_index, tenant_id, tenant_seq, tenant_prev, leaf_hash, record FROM records WHERE shard = 0 AND tenant_id = 'bench-tenant' AND tenant_seq >= $1 AND tenant_seq <= 100000 ORDER BY tenant_seq LIMIT 1000`, [start]));
await t('chainPage no record', () => c.query(`SELECT event_id, leaf_index, tenant_seq FROM records WHERE shard = 0 AND tenant_id = 'bench-tenant' AND tenant_seq >= $1 AND tenant_seq <= 100000 ORDER BY tenant_seq LIMIT 1000`, [start]));
await t('chainPage record::text', () => c.query(`SELECT event_id, leaf_index, tenant_seq, record::text FROM records WHERE shard = 0 AND tenant_id = 'bench-tenant' AND tenant_seq >= $1 AND tenant_seq <= 100000 ORDER BY tenant_seq LIMIT 1000`, [start]));
const idx = page.rows.map(r => Number(r.leaf_index));
await t('covering', () => c.query(`SELECT i.ord, (SELECT c.tree_size FROM checkpoints c WHERE c.shard = $1 AND c.tree_size > i.idx AND c.tree_size <= $3 ORDER BY c.tree_size LIMIT 1) AS tree_size FROM unnest($2::bigint[]) WITH ORDINALITY AS i(idx, ord) ORDER BY i.ord`, [0, idx, 8000]));
const ranges = idx.flatMap(i => inclusionProofRanges(i, Math.min(8000, (Math.floor(i / 1000) + 1) * 1000)));
const ids = nodeIdsForRanges(ranges);
await t('readNodes hash', () => c.query(`SELECT n.level, n.idx, n.hash FROM merkle_nodes n JOIN unnest($2::smallint[], $3::bigint[]) AS want(level, idx) ON n.level = want.level AND n.idx = want.idx WHERE n.shard = $1`, [0, ids.map(i => i.level), ids.map(i => i.index)]));
await t('readNodes lateral', () => c.query(`SELECT w.ord, n.hash FROM unnest($2::smallint[], $3::bigint[]) WITH ORDINALITY AS w(level, idx, ord) CROSS JOIN LATERAL (SELECT hash FROM merkle_nodes m WHERE m.shard = $1 AND m.level = w.level AND m.idx = w.idx) n`, [0, ids.map(i => i.level), ids.map(i => i.index)]));
}
await c.end();
