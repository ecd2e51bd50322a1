import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { redactText } from '../../domain/privacy/redact.js';
import type { CanonicalRecord } from '../../domain/record/canonical-record.js';
import { DEFAULT_TENANT_HEADER, DecodeError, type AdaptedRecord, type RawEvent } from '../adapters/adapter.js';
import {
  attestationDecision,
  attestationOf,
  verifyAttestation,
  type AttestationCheck,
  type KeyResolver,
} from '../adapters/attestation.js';
import type { EventDecoder } from '../decode-batch.js';
import { decodeEvent } from '../adapters/format-detection.js';

/**
 * Gateway attestation policy, the pure part of the registry: registered
 * gateways as a snapshot of imported public keys and `attestation_required` flags, and the
 * decoder that applies them to every event on the one ledger path (Kafka consumer and HTTP
 * validation alike). No I/O: GatewayRegistry loads the rows and hands the snapshot in.
 *
 * Which gateway an event belongs to is the `gateway.id` its adapter resolved (the
 * x-routing-gateway-id header, else the payload, else the format name). The JWS covers the raw
 * payload, so one payload holding several events is accepted or quarantined whole.
 */

/** Quarantine reason codes. The detailed cause (BAD_SIGNATURE, UNKNOWN_KEY, ...) leads the reason text. */
export const ATTESTATION_INVALID = 'ATTESTATION_INVALID';
export const ATTESTATION_REQUIRED = 'ATTESTATION_REQUIRED';

/** Bounds what one registration may hold; key rotation needs two, a few more is plenty. */
export const MAX_KEYS_PER_GATEWAY = 16;

/** A `gateways` row as the repository returns it. */
export interface GatewayRow {
  id: string;
  kind: string;
  display_name: string | null;
  attestation_required: boolean;
  public_keys: { keys: JsonWebKey[] };
  /** The tenant of its events that name none (before DEFAULT_TENANT); null when not set. Absent in rows read before the column existed. */
  default_tenant?: string | null;
  created_at: Date;
}

/** The registry's state as plain data (GatewayRegistry.decoderSource): enough to build its decoder anywhere. */
export interface DecoderSource {
  /** Changes whenever the rows do: a builder caches its snapshot per generation. */
  generation: number;
  rows: GatewayRow[];
  defaultTenant: string | undefined;
}

export interface GatewayPolicy {
  id: string;
  attestationRequired: boolean;
  /** Imported keys by kid. */
  byKid: ReadonlyMap<string, KeyObject>;
  /** The key a JWS without a kid is checked against: only when the gateway has exactly one key. */
  single?: KeyObject;
  /** The tenant of this gateway's events that name none, when registered with one. */
  defaultTenant?: string;
}

export type GatewaySnapshot = ReadonlyMap<string, GatewayPolicy>;

/**
 * What is wrong with a `public_keys` value, as sentences naming the key by position (empty when
 * it is fine). Accepted: `{keys: [...]}` of public JWKs, OKP/Ed25519 (alg EdDSA) or EC/P-256
 * (alg ES256), at most MAX_KEYS_PER_GATEWAY, each with a unique `kid` when there are several.
 * Private members (`d`, ...) are refused rather than stripped, so a private key sent by mistake is
 * never stored, and the sender learns that it has to be rotated.
 */
export function publicKeyProblems(value: unknown): string[] {
  const keys = (value as { keys?: unknown } | null)?.keys;
  if (typeof value !== 'object' || value === null || Array.isArray(value) || !Array.isArray(keys))
    return ['public_keys must be a JWKS: {"keys": [...]}'];
  if (keys.length > MAX_KEYS_PER_GATEWAY)
    return [`public_keys holds ${keys.length} keys; at most ${MAX_KEYS_PER_GATEWAY}`];
  const problems: string[] = [];
  const kids = new Set<string>();
  keys.forEach((k: unknown, i) => {
    const where = `public_keys.keys[${i}]`;
    if (typeof k !== 'object' || k === null || Array.isArray(k))
      return void problems.push(`${where} is not a JWK object`);
    const jwk = k as Record<string, unknown>;
    if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'].some((m) => m in jwk)) {
      return void problems.push(
        `${where} carries private key material; register the public key only (and rotate this one: it has been sent over the wire)`,
      );
    }
    const ed = jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
    const p256 = jwk.kty === 'EC' && jwk.crv === 'P-256';
    if (!ed && !p256) return void problems.push(`${where} must be an Ed25519 (kty OKP) or P-256 (kty EC) public key`);
    if (jwk.alg !== undefined && jwk.alg !== (ed ? 'EdDSA' : 'ES256'))
      problems.push(`${where} has alg ${String(jwk.alg).slice(0, 16)}; expected ${ed ? 'EdDSA' : 'ES256'}`);
    if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid.length === 0 || jwk.kid.length > 256))
      problems.push(`${where}.kid must be a string of 1 to 256 characters`);
    else if (typeof jwk.kid === 'string') {
      if (kids.has(jwk.kid)) problems.push(`${where}.kid "${jwk.kid}" is used twice`);
      kids.add(jwk.kid);
    } else if (keys.length > 1) problems.push(`${where} needs a kid: the gateway has several keys`);
    if (importKey(jwk as JsonWebKey) === undefined)
      problems.push(`${where} is not a valid ${ed ? 'Ed25519' : 'P-256'} public key`);
  });
  return problems;
}

function importKey(jwk: JsonWebKey): KeyObject | undefined {
  try {
    const key = createPublicKey({ key: jwk, format: 'jwk' });
    return key.type === 'public' ? key : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The snapshot for a set of rows. A key that does not import (a row edited by hand) is left
 * out and reported through `skipped`; the gateway keeps its other keys and its policy.
 */
export function gatewaySnapshot(
  rows: GatewayRow[],
  skipped: (gatewayId: string, problem: string) => void = () => undefined,
): GatewaySnapshot {
  const out = new Map<string, GatewayPolicy>();
  for (const row of rows) {
    const problems = publicKeyProblems(row.public_keys);
    for (const p of problems) skipped(row.id, p);
    const byKid = new Map<string, KeyObject>();
    const usable: KeyObject[] = [];
    for (const jwk of Array.isArray(row.public_keys?.keys) ? row.public_keys.keys : []) {
      if ((jwk as Record<string, unknown>).d !== undefined) continue;
      const key = importKey(jwk);
      if (!key) continue;
      usable.push(key);
      if (typeof jwk.kid === 'string') byKid.set(jwk.kid, key);
    }
    out.set(row.id, {
      id: row.id,
      attestationRequired: row.attestation_required,
      byKid,
      ...(row.default_tenant ? { defaultTenant: row.default_tenant } : {}),
      ...(usable.length === 1 ? { single: usable[0] } : {}),
    });
  }
  return out;
}

/** The attestation KeyResolver of a gateway (none for an unregistered gateway: any signature is then UNKNOWN_KEY). */
export function keyResolverOf(policy: GatewayPolicy | undefined): KeyResolver {
  return (kid) => (policy === undefined ? undefined : kid !== undefined ? policy.byKid.get(kid) : policy.single);
}

/**
 * A decoder whose adapters may fall back to a registered gateway's default tenant, then to
 * `tenant` (DEFAULT_TENANT), for an event that names none. DEFAULT_TENANT travels as a header
 * only the ledger sets: one a sender put on the event is removed first, whether or not a default
 * is configured. The gateway's default is looked up once the adapter knows the gateway id.
 */
export function withDefaultTenant(
  decode: EventDecoder,
  tenant: string | undefined,
  snapshot: GatewaySnapshot = new Map(),
): EventDecoder {
  const gatewayDefaultTenant = (gatewayId: string) => snapshot.get(gatewayId)?.defaultTenant;
  return (raw: RawEvent): AdaptedRecord[] => {
    const headers: Record<string, string | undefined> = {};
    for (const [k, v] of Object.entries(raw.headers)) if (k.toLowerCase() !== DEFAULT_TENANT_HEADER) headers[k] = v;
    if (tenant) headers[DEFAULT_TENANT_HEADER] = tenant;
    return decode({ ...raw, headers, gatewayDefaultTenant });
  };
}

/**
 * `decode` with gateway attestation applied, for one registry snapshot. For each adapted record:
 * verify the x-routing-signature JWS against its gateway's keys; a bad signature (any failure:
 * malformed, unknown key, wrong bytes) throws DecodeError(ATTESTATION_INVALID), an unsigned event
 * from a gateway with attestation_required throws DecodeError(ATTESTATION_REQUIRED) — so
 * decodeMessage quarantines the message; otherwise the record's `attestation` is set from the
 * check (`{kid, verified: true}`) or removed when unsigned. Whatever `attestation` a payload
 * claimed (a native record may carry one) is never kept: only the ledger's own check is recorded.
 */
export function attestingDecoder(decode: EventDecoder, snapshot: GatewaySnapshot): EventDecoder {
  return (raw: RawEvent): AdaptedRecord[] => {
    const adapted = decode(raw);
    const checks = new Map<string, AttestationCheck>();
    return adapted.map((a) => {
      const gatewayId = a.record.gateway.id;
      const policy = snapshot.get(gatewayId);
      let check = checks.get(gatewayId);
      if (!check) {
        check = verifyAttestation(raw, keyResolverOf(policy));
        checks.set(gatewayId, check);
      }
      const decision = attestationDecision(check, !(policy?.attestationRequired ?? false));
      if (!decision.accept) {
        const code = check.status === 'unsigned' ? ATTESTATION_REQUIRED : ATTESTATION_INVALID;
        throw new DecodeError(
          code,
          redactText(`gateway "${gatewayId.slice(0, 256)}": ${decision.code}: ${decision.reason}`),
        );
      }
      return withAttestation(a, attestationOf(check));
    });
  };
}

function withAttestation(a: AdaptedRecord, attestation: CanonicalRecord['attestation']): AdaptedRecord {
  const { attestation: claimed, ...rest } = a.record;
  if (claimed === undefined && attestation === undefined) return a;
  const notes = [...a.notes];
  if (claimed !== undefined && (claimed.kid !== attestation?.kid || claimed.verified !== attestation?.verified)) {
    const note = 'attestation in the payload ignored: only the ledger records whether the gateway signature verified';
    if (notes.length < 64) notes.push(note);
  }
  const record: CanonicalRecord = {
    ...rest,
    ...(attestation ? { attestation } : {}),
    ...(notes.length ? { normalization_notes: notes } : {}),
  };
  return { record, notes };
}

/**
 * The ledger's decoder for one registry snapshot: format detection and adapter, tenant defaults
 * (the gateway's, then DEFAULT_TENANT), attestation. The one place it is assembled, so the
 * consumer's thread, a decode worker and the tests decode alike.
 */
export function ledgerDecoder(snapshot: GatewaySnapshot, defaultTenant: string | undefined): EventDecoder {
  return attestingDecoder(withDefaultTenant(decodeEvent, defaultTenant, snapshot), snapshot);
}
