import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * docker-compose.yml supports `docker compose up --scale routing-ledger=N` (docs/operations.md,
 * "Scaling out"). Docker is not available to the tests, so this reads the file as Compose would:
 * parsed YAML, then variable interpolation with no variable set (the defaults apply), and checks
 * the structure scaling depends on.
 */

interface Service {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  ports?: string[];
  expose?: string[];
  container_name?: string;
  depends_on?: Record<string, { condition: string }>;
  environment?: Record<string, string>;
  env_file?: Array<{ path: string; required?: boolean }>;
  volumes?: string[];
  configs?: Array<{ source: string; target: string }>;
  restart?: string;
  healthcheck?: unknown;
  profiles?: string[];
}

interface ComposeFile {
  services: Record<string, Service>;
  volumes?: Record<string, unknown>;
  configs?: Record<string, { content?: string; file?: string }>;
}

/** Compose's interpolation with no variable set: $$ is a literal $, ${X:-d} and ${X-d} give d, ${X} and $X nothing. */
function interpolate(value: string): string {
  return value.replace(
    /\$(\$|\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|[A-Za-z_][A-Za-z0-9_]*)/g,
    (_, what: string, _name: string | undefined, fallback: string | undefined) =>
      what === '$' ? '$' : (fallback ?? ''),
  );
}

function interpolated<T>(node: T): T {
  if (typeof node === 'string') return interpolate(node) as T;
  if (Array.isArray(node)) return node.map(interpolated) as T;
  if (node && typeof node === 'object') {
    return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, interpolated(v)])) as T;
  }
  return node;
}

const raw = parse(readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')) as ComposeFile;
const compose = interpolated(raw);
const { services } = compose;
const ledger = services['routing-ledger'];
const commandOf = (s: Service) => (Array.isArray(s.command) ? s.command.join(' ') : (s.command ?? ''));

describe('docker-compose.yml: routing-ledger scales out', () => {
  it('interpolates as intended: $$ escapes survive as the literal $ that bash and nginx read', () => {
    expect(interpolate('a $$x ${B:-8} ${C} $D')).toBe('a $x 8  ');
    expect(services.topics.environment?.DECISIONS_PARTITIONS).toBe('8');
    expect(commandOf(services.topics)).toContain('routing.decisions:${DECISIONS_PARTITIONS}');
  });

  it('gives the scaled service no fixed host port and no fixed container name', () => {
    expect(ledger.ports).toBeUndefined();
    expect(ledger.container_name).toBeUndefined();
    expect(ledger.expose).toEqual(['8080']);
  });

  it('runs migrations once, in a one-shot service every instance waits for', () => {
    expect(services.migrate.command).toEqual(['node', 'dist/src/cli/migrate.js']);
    expect(services.migrate.restart).toBe('no');
    expect(services.migrate.depends_on?.postgres.condition).toBe('service_healthy');
    expect(ledger.depends_on?.migrate.condition).toBe('service_completed_successfully');
    expect(ledger.depends_on?.topics.condition).toBe('service_completed_successfully');
    expect(commandOf(ledger)).not.toMatch(/migrate/);
  });

  it('shares one signing key and the export bundles through the same volume, or an env file', () => {
    expect(ledger.environment?.DATA_DIR).toBe('/data');
    expect(ledger.volumes).toContain('ledgerdata:/data');
    expect(compose.volumes).toHaveProperty('ledgerdata');
    expect(ledger.env_file).toEqual([{ path: '.env.ledger', required: false }]);
    // No per-instance key: a key file outside the shared volume would differ between instances.
    expect(ledger.environment?.SIGNING_KEY_FILE ?? '/data/').toMatch(/^\/data\//);
    // One consumer group for every instance.
    expect(ledger.environment?.KAFKA_GROUP_ID).toBe('routing-ledger');
  });

  it('puts a load balancer on port 8080 in front of every instance, re-resolving them', () => {
    const lb = services.lb;
    expect(lb.ports).toEqual(['8080:8080']);
    expect(lb.depends_on?.['routing-ledger'].condition).toBe('service_healthy');
    expect(ledger.healthcheck).toBeDefined();
    const source = lb.configs?.[0].source ?? '';
    const conf = compose.configs?.[source]?.content ?? '';
    expect(lb.configs?.[0].target).toBe('/etc/nginx/conf.d/default.conf');
    expect(conf).toMatch(/resolver 127\.0\.0\.11 valid=\d+s/);
    expect(conf).toContain('set $ledger http://routing-ledger:8080;');
    expect(conf).toContain('proxy_pass $ledger;');
    expect(conf).toContain('proxy_set_header Host $host;');
  });

  it('offers a streaming read replica of postgres under the replica profile only', () => {
    const replica = services['postgres-replica'];
    expect(replica.profiles).toEqual(['replica']);
    expect(replica.depends_on?.postgres.condition).toBe('service_healthy');
    // Cloned once, into its own volume, as a standby (-R) of the primary; then the server runs.
    expect(commandOf(replica)).toMatch(/pg_basebackup -h postgres .*-D "\$PGDATA" -R/);
    expect(commandOf(replica)).toMatch(/exec postgres\s*$/);
    expect(replica.volumes).toEqual(['pgreplica:/var/lib/postgresql/data']);
    // The primary lets it connect for replication (its first start runs the script).
    const allow = services.postgres.configs?.find((c) => c.target.startsWith('/docker-entrypoint-initdb.d/'));
    expect(compose.configs?.[allow?.source ?? '']?.content).toContain(
      'echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"',
    );
    // Nothing else needs the profile: the service reads the replica only when DATABASE_READ_URL says so.
    for (const [name, s] of Object.entries(services))
      expect([name, Object.keys(s.depends_on ?? {}).includes('postgres-replica')]).toEqual([name, false]);
    expect(ledger.environment?.DATABASE_READ_URL).toBeUndefined();
  });

  it('refers only to services, volumes and configs it declares, and publishes each host port once', () => {
    for (const [name, s] of Object.entries(services)) {
      for (const dep of Object.keys(s.depends_on ?? {})) expect([name, dep in services]).toEqual([name, true]);
      for (const v of s.volumes ?? []) {
        const [source] = v.split(':');
        if (!source.startsWith('.') && !source.startsWith('/')) expect(compose.volumes).toHaveProperty(source);
      }
      for (const c of s.configs ?? []) expect(compose.configs).toHaveProperty(c.source);
      expect([name, Boolean(s.image) !== Boolean(s.build)]).toEqual([name, true]);
    }
    const hostPorts = Object.values(services).flatMap((s) => (s.ports ?? []).map((p) => p.split(':')[0]));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });
});
