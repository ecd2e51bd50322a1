import { execFile } from 'node:child_process';
import { appendFileSync, chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { pollUntil } from './poll-until.js';
import { freePort } from './service-env.js';

const run = promisify(execFile);

/**
 * A PostgreSQL cluster owned by one test: initdb into a temporary directory, a spare port on
 * 127.0.0.1, its socket in the same directory, so the machine's own server (5432) is never
 * touched. As root the binaries run as the `postgres` OS user (initdb refuses root).
 *
 * The service connects over TCP (`url`); the test's own handle (`query`) goes through the
 * Unix socket, which `rejectTcp()` leaves open, so the test can still look while the service
 * is refused.
 */
export interface PgCluster {
  readonly port: number;
  readonly dir: string;
  /** TCP URL of database `name` (the service's DATABASE_URL). */
  url(name: string): string;
  /** Runs SQL in database `name` over the Unix socket (a fresh connection per call). */
  query<T extends Record<string, unknown> = Record<string, unknown>>(
    name: string,
    sql: string,
    params?: unknown[],
  ): Promise<T[]>;
  /** `pg_ctl stop`: `fast` (clean), or `immediate` (no checkpoint: a crash, WAL recovery on start). */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  start(): Promise<void>;
  /** pg_hba rejects every TCP connection (reload), and TCP backends are terminated. */
  rejectTcp(): Promise<void>;
  acceptTcp(): Promise<void>;
  /** Lines of the server log (for counting refused connection attempts). */
  log(): string;
  destroy(): Promise<void>;
}

const asRoot = process.getuid?.() === 0;

async function pgBin(cmd: string, args: string[]): Promise<string> {
  const [file, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  try {
    const { stdout, stderr } = await run(file, argv, { maxBuffer: 8 * 1024 * 1024 });
    return stdout + stderr;
  } catch (e) {
    const err = e as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${err.stderr ?? ''}${err.stdout ?? ''}${err.message}`, {
      cause: e,
    });
  }
}

// Replication over the Unix socket: a streaming replica (startStreamingReplica) keeps its
// connection while rejectTcp() refuses the service.
const HBA_ACCEPT = 'local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 trust\n';
const HBA_REJECT = 'local all all trust\nlocal replication all trust\nhost all all 127.0.0.1/32 reject\n';

export async function startPgCluster(): Promise<PgCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-pg-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  await pgBin('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  writeFileSync(join(data, 'pg_hba.conf'), HBA_ACCEPT);
  writeFileSync(
    join(data, 'postgresql.auto.conf'),
    [
      `port = ${port}`,
      `listen_addresses = '127.0.0.1'`,
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'synchronous_commit = off',
      'full_page_writes = off',
      'max_connections = 60',
      `log_line_prefix = '%m '`,
    ].join('\n') + '\n',
  );
  const cluster = clusterHandle(dir, data, port);
  await cluster.start();
  return cluster;
}

/** The handle of a cluster whose data directory is `data`, its socket and log in `dir`. */
function clusterHandle(dir: string, data: string, port: number): PgCluster {
  const logFile = join(dir, 'server.log');
  const ctl = (args: string[]) => pgBin('pg_ctl', ['-D', data, ...args]);
  const start = async () => {
    await ctl(['-l', logFile, '-w', '-t', '60', 'start']);
  };

  const client = async (name: string) => {
    const c = new pg.Client({ host: dir, port, user: 'postgres', database: name });
    await c.connect();
    return c;
  };
  const cluster: PgCluster = {
    port,
    dir,
    url: (name) => `postgres://postgres@127.0.0.1:${port}/${name}`,
    query: async (name, sql, params) => {
      const c = await client(name);
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    stop: async (mode = 'fast') => {
      await ctl(['-m', mode, '-w', '-t', '60', 'stop']);
    },
    start,
    rejectTcp: async () => {
      writeFileSync(join(data, 'pg_hba.conf'), HBA_REJECT);
      await ctl(['reload']);
      // A reload applies to new connections only: drop the established TCP ones too.
      await cluster.query(
        'postgres',
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE client_addr IS NOT NULL AND pid <> pg_backend_pid()`,
      );
    },
    acceptTcp: async () => {
      writeFileSync(join(data, 'pg_hba.conf'), HBA_ACCEPT);
      await ctl(['reload']);
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8');
      } catch {
        return '';
      }
    },
    destroy: async () => {
      await ctl(['-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return cluster;
}

/** A hot standby streaming from its primary; `pauseReplay` holds back what it has received. */
export interface PgReplica extends PgCluster {
  /** `pg_wal_replay_pause()`, returning once replay is paused (WAL still arrives, unapplied). */
  pauseReplay(): Promise<void>;
  resumeReplay(): Promise<void>;
}

/**
 * A streaming replica of `primary` (a cluster of startPgCluster): `pg_basebackup -R` over the
 * primary's Unix socket into a temporary directory, then started on a port of its own. Every
 * database of the primary, including those created later, is replicated read-only.
 */
export async function startStreamingReplica(primary: PgCluster): Promise<PgReplica> {
  const dir = mkdtempSync(join(tmpdir(), 'chaos-pg-replica-'));
  const data = join(dir, 'data');
  if (asRoot) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  chmodSync(dir, 0o700);
  // -R writes standby.signal and primary_conninfo (the primary's socket directory and port).
  await pgBin('pg_basebackup', ['-h', primary.dir, '-p', String(primary.port), '-U', 'postgres', '-D', data, '-R']);
  const port = await freePort();
  // The copied postgresql.auto.conf names the primary's port and socket; later lines win.
  appendFileSync(join(data, 'postgresql.auto.conf'), `port = ${port}\nunix_socket_directories = '${dir}'\n`);
  const cluster = clusterHandle(dir, data, port);
  await cluster.start();
  const replayPaused = async () =>
    (await cluster.query<{ s: string }>('postgres', 'SELECT pg_get_wal_replay_pause_state() AS s'))[0].s === 'paused';
  return {
    ...cluster,
    pauseReplay: async () => {
      await cluster.query('postgres', 'SELECT pg_wal_replay_pause()');
      // The request takes effect at the next record replayed: wait until it has.
      await pollUntil(replayPaused, { timeoutMs: 30_000, intervalMs: 50, what: 'the replica to pause replay' });
    },
    resumeReplay: async () => {
      await cluster.query('postgres', 'SELECT pg_wal_replay_resume()');
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout } = await run('id', ['postgres']);
  const uid = Number(/uid=(\d+)/.exec(stdout)?.[1]);
  const gid = Number(/gid=(\d+)/.exec(stdout)?.[1]);
  if (!Number.isInteger(uid) || !Number.isInteger(gid)) throw new Error(`no postgres OS user: ${stdout}`);
  return { uid, gid };
}
