/**
 * The shard-locality rule of the append transaction, as a check over the SQL it sends: every
 * table it names is keyed by `shard` and selected by the batch's shard, or is a small replicated
 * table it only reads, or is event_ids (the ledger-wide uniqueness of event ids), named by a
 * statement of its own. On PostgreSQL distributed by shard (Citus, distribution column `shard`),
 * such a transaction touches the node of its shard, plus the event_ids claim.
 */

/** Tables distributed by `shard`: their primary key and unique indexes include it. */
export const SHARD_KEYED_TABLES = [
  'records',
  'shard_heads',
  'tenant_heads',
  'checkpoints',
  'merkle_tiles',
  'merkle_partial_tiles',
  'traffic_minutes',
  'finding_hours',
  'cost_hours',
  'consumed_offsets',
  'quarantine',
  // Written by the witness submitter beside each shard's checkpoints, never by the append.
  'witness_cosignatures',
  'witness_state',
];

/** Small tables every node may hold a copy of (Citus reference tables): the append may read them. */
export const REPLICATED_TABLES = [
  'signing_keys',
  'gateways',
  'evaluations',
  // The policy log: small, appended by the policy API, joined with records by the conformance findings.
  'policy_versions',
  'policy_checkpoints',
];

/** Keyed by event id across every shard: the one table the append writes outside its shard. */
export const GLOBAL_TABLES = ['event_ids'];

/** Tables the append never touches, kept on the coordinator: export jobs, TypeORM's migration log. */
export const COORDINATOR_TABLES = ['exports', 'migrations'];

export interface Statement {
  text: string;
  values: unknown[];
}

export interface TableUse {
  table: string;
  verb: string;
}

const NOT_TABLES = new Set(['stdin', 'stdout', 'set', 'lateral', 'only']);

/** The tables a statement names (FROM, JOIN, INTO, UPDATE, COPY), with where each one's clause starts. */
export function tableUses(sql: string): Array<TableUse & { at: number }> {
  const ctes = new Set(
    [...sql.matchAll(/(?:\bWITH|,)\s+([a-z_][a-z0-9_]*)\s+AS\s*\(/gi)].map((m) => m[1].toLowerCase()),
  );
  const uses: Array<TableUse & { at: number }> = [];
  for (const m of sql.matchAll(/\b(FROM|JOIN|INTO|UPDATE|COPY)\s+([a-z_][a-z0-9_]*)(\s*\()?/gi)) {
    const verb = m[1].toUpperCase();
    const name = m[2].toLowerCase();
    // FROM f(...) is a function (unnest, jsonb_to_recordset); INTO t (...) is a column list.
    if ((verb === 'FROM' || verb === 'JOIN') && m[3]) continue;
    if (ctes.has(name) || NOT_TABLES.has(name)) continue;
    uses.push({ table: name, verb, at: m.index + m[0].length - (m[3]?.length ?? 0) });
  }
  return uses;
}

/** The text of a table's clause: from after its name to the end of the (sub)query that names it. */
function clauseAfter(sql: string, at: number): string {
  let depth = 0;
  for (let i = at; i < sql.length; i++) {
    if (sql[i] === '(') depth++;
    else if (sql[i] === ')' && --depth < 0) return sql.slice(at, i);
  }
  return sql.slice(at);
}

/** Splits a comma list at depth 0 of parentheses. */
function topLevelList(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i).trim());
      start = i + 1;
    }
  }
  out.push(s.slice(start).trim());
  return out;
}

/** Whether `expr` is the shard: a parameter bound to it, or (in a simple query, which has no parameters) its literal. */
const boundTo = (expr: string, values: unknown[], shard: number) => {
  if (/^\d+$/.test(expr.trim())) return Number(expr) === shard;
  const m = /^\$(\d+)(?:::\w+)?$/.exec(expr.trim());
  return m !== null && Number(values[Number(m[1]) - 1]) === shard;
};

/** Why an INSERT or COPY clause does not write the batch's shard, or null when it does. */
function insertProblem(clause: string, verb: string, values: unknown[], shard: number): string | null {
  const cols = /^\s*(?:AS\s+\w+\s*)?\(([^)]*)\)/i.exec(clause);
  if (!cols) return 'names no column list';
  const columns = cols[1].split(',').map((c) => c.trim().replace(/"/g, ''));
  const k = columns.indexOf('shard');
  if (k < 0) return 'does not write the shard column';
  // COPY rows travel as data: the test checks the stored rows' shard instead.
  if (verb === 'COPY') return null;
  const rest = clause.slice(cols.index + cols[0].length);
  const row = /^\s*VALUES\s*\(/i.test(rest)
    ? clauseAfter(rest, rest.indexOf('(') + 1)
    : /^\s*SELECT\s+([\s\S]*?)\s+FROM\s/i.exec(rest)?.[1];
  if (row === undefined) return 'writes neither VALUES nor SELECT';
  const expr = topLevelList(row)[k];
  return expr !== undefined && boundTo(expr, values, shard) ? null : `writes shard as ${expr}, not the batch's shard`;
}

/**
 * Every violation of the rule in one statement of a batch appended to `shard` (none: it
 * conforms). A shard-keyed table read, updated or deleted from must be selected by
 * `shard = $n` with $n bound to the shard, in its own clause; one inserted into must get the
 * shard in its shard column.
 */
export function shardLocalityViolations(s: Statement, shard: number): string[] {
  const sql = s.text.replace(/\s+/g, ' ');
  const uses = tableUses(sql);
  const problems: string[] = [];
  for (const use of uses) {
    const where = `${use.verb} ${use.table} in: ${sql.slice(0, 160)}`;
    const clause = clauseAfter(sql, use.at);
    if (GLOBAL_TABLES.includes(use.table)) {
      if (uses.some((u) => u.table !== use.table)) problems.push(`${where}: the global table shares its statement`);
    } else if (REPLICATED_TABLES.includes(use.table)) {
      if (use.verb !== 'FROM' && use.verb !== 'JOIN') problems.push(`${where}: a replicated table is written`);
    } else if (!SHARD_KEYED_TABLES.includes(use.table)) {
      problems.push(`${where}: not a shard-keyed table`);
    } else if (use.verb === 'INTO' || use.verb === 'COPY') {
      const problem = insertProblem(clause, use.verb, s.values, shard);
      if (problem) problems.push(`${where}: ${problem}`);
    } else {
      const predicates = [...clause.matchAll(/(?<![\w.])(?:\w+\.)?shard\s*=\s*(\$\d+|\d+\b)/gi)];
      if (!predicates.some((p) => boundTo(p[1], s.values, shard))) {
        problems.push(`${where}: no shard = <the batch's shard> predicate in its clause`);
      }
    }
  }
  return problems;
}
