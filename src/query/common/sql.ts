import type { TenantScope } from '../../auth/principal.js';

/** Positional parameters for hand-written SQL: `p.add(v)` returns "$n". Values never enter the SQL text. */
export class SqlParams {
  readonly values: unknown[] = [];

  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * The tenant condition every read carries. Services already refuse tenants outside the
 * caller's scope; repositories apply the scope again so that no query can forget it.
 */
export function scopeCondition(scope: TenantScope, p: SqlParams, column = 'r.tenant_id'): string {
  return scope.kind === 'all' ? 'TRUE' : `${column} = ANY(${p.add(scope.tenants)}::text[])`;
}

/** RFC 3339 UTC with microseconds, as text: what cursors and responses carry. */
export function isoMicros(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;
}
