import type pg from 'pg';
import { ShardLocalAppend1764230000000 } from '../../migrations/1764230000000-shard-local-append.js';
import { storeRecordsBefore, upgradedDatabase } from '../support/migration-upgrade.js';
import { validEvent } from '../support/workload.js';

/**
 * Migration ShardLocalAppend on a ledger that has rows: every stored event id is claimed in
 * event_ids for the shard that holds it, with its content hash, so an event stored before the
 * upgrade and delivered again to another shard after it is still caught; consumed offsets and
 * quarantine rows get the shard of their partition.
 */
describe('migration ShardLocalAppend: existing rows are keyed by shard', () => {
  const N = 2_000;
  let db: pg.Pool;
  let drop: (() => Promise<void>) | undefined;

  beforeAll(async () => {
    ({ pool: db, drop } = await upgradedDatabase(ShardLocalAppend1764230000000, async (before) => {
      await storeRecordsBefore(before, N, 'c');
      await before.query(
        `INSERT INTO consumed_offsets (group_id, topic, partition, next_offset) VALUES ('g', 't', 0, 10), ('g', 't', 2, 7), ('h', 't', 2, 3)`,
      );
      await before.query(
        `INSERT INTO quarantine (reason_code, reason, topic, partition, "offset", payload)
         VALUES ('INVALID_JSON', 'x', 't', 2, 5, '\\x7b'), ('INVALID_JSON', 'x', NULL, NULL, NULL, '\\x7b')`,
      );
    }));
  });

  afterAll(async () => {
    await drop?.();
  });

  it('claims every stored event id for its shard, with its content hash', async () => {
    const { rows } = await db.query<{ event_ids: string; matched: string; shards: string }>(
      `SELECT (SELECT count(*) FROM event_ids) AS event_ids,
              (SELECT count(*) FROM records r JOIN event_ids e USING (event_id, shard, content_sha256)) AS matched,
              (SELECT count(DISTINCT shard) FROM event_ids) AS shards`,
    );
    expect(rows[0]).toEqual({ event_ids: String(N), matched: String(N), shards: '3' });
  });

  it('refuses a second copy of a stored event id in another shard', async () => {
    const stored = validEvent(7).event_id;
    await expect(
      db.query(`INSERT INTO event_ids (event_id, shard, content_sha256) VALUES ($1, 5, '\\x00')`, [stored]),
    ).rejects.toThrow(/event_ids_pkey/);
  });

  it('gives consumed offsets and quarantine rows the shard of their partition', async () => {
    const offsets = await db.query('SELECT group_id, partition, shard FROM consumed_offsets ORDER BY 1, 2');
    expect(offsets.rows).toEqual([
      { group_id: 'g', partition: 0, shard: 0 },
      { group_id: 'g', partition: 2, shard: 2 },
      { group_id: 'h', partition: 2, shard: 2 },
    ]);
    const quarantine = await db.query('SELECT partition, shard FROM quarantine ORDER BY id');
    expect(quarantine.rows).toEqual([
      { partition: 2, shard: 2 },
      { partition: null, shard: 0 },
    ]);
    await expect(
      db.query(
        `INSERT INTO consumed_offsets (shard, group_id, topic, partition, next_offset) VALUES (1, 'g', 't', 3, 1)`,
      ),
    ).rejects.toThrow(/consumed_offsets_shard_is_partition/);
  });
});
