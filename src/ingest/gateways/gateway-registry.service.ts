import { Inject, Injectable, Logger, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { CONFIG } from '../../config/config.module.js';
import type { IngestConfig } from '../../config/app-config.js';
import type { KeyResolver } from '../adapters/attestation.js';
import type { EventDecoder } from '../decode-batch.js';
import type { RegisterGatewayDto } from './dto/register-gateway.dto.js';
import { GatewayRepository } from './gateway.repository.js';
import {
  gatewaySnapshot,
  keyResolverOf,
  ledgerDecoder,
  type DecoderSource,
  type GatewayRow,
  type GatewaySnapshot,
} from './gateway-policy.js';

/**
 * How often every instance re-reads the `gateways` table. A registration made on this instance
 * applies at once (register() refreshes); one made on another instance applies here within this
 * interval.
 */
export const GATEWAY_REGISTRY_REFRESH_MS = 30_000;

export interface GatewayView {
  id: string;
  kind: string;
  display_name: string | null;
  attestation_required: boolean;
  public_keys: { keys: object[] };
  default_tenant: string | null;
  created_at: string;
}

/**
 * The registered gateways, cached in memory as a GatewaySnapshot: their attestation keys
 * (KeyResolver) and whether they must sign. Loaded in onModuleInit — before any
 * onApplicationBootstrap, so before the consumer takes its first batch — and refreshed
 * periodically. A failed refresh keeps the previous snapshot (and says so); a failed first load
 * stops start-up, since the service cannot apply a policy it has not read.
 */
@Injectable()
export class GatewayRegistry implements OnModuleInit, OnModuleDestroy {
  private readonly log = new Logger(GatewayRegistry.name);
  private snapshot: GatewaySnapshot = new Map();
  /** The rows the snapshot was made from: what a decode worker rebuilds it from. */
  private rows: GatewayRow[] = [];
  private timer?: NodeJS.Timeout;
  /** Load generations: a slow load that finishes after a newer one must not win. */
  private started = 0;
  private applied = 0;

  constructor(
    private readonly repo: GatewayRepository,
    @Inject(CONFIG.ingest) private readonly ingest: IngestConfig,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.refresh();
    this.timer = setInterval(() => {
      this.refresh().catch((e: Error) =>
        this.log.warn(`gateway registry refresh failed, keeping the previous snapshot: ${e.message}`),
      );
    }, GATEWAY_REGISTRY_REFRESH_MS);
    this.timer.unref();
  }

  onModuleDestroy(): void {
    clearInterval(this.timer);
  }

  async refresh(): Promise<void> {
    const generation = ++this.started;
    const rows = await this.repo.all();
    if (generation < this.applied) return;
    this.applied = generation;
    this.rows = rows;
    this.snapshot = gatewaySnapshot(rows, (id, problem) =>
      this.log.warn(`gateway "${id}": ${problem}; that key is not used`),
    );
  }

  /** Format detection + adapter (DEFAULT_TENANT as the last tenant) + attestation, for the current snapshot (the consumer takes one per batch). */
  decoder(): EventDecoder {
    return ledgerDecoder(this.snapshot, this.ingest.defaultTenant);
  }

  /** What decoder() is made of, as plain data: a decode worker builds the same decoder from it. */
  decoderSource(): DecoderSource {
    return { generation: this.applied, rows: this.rows, defaultTenant: this.ingest.defaultTenant };
  }

  keyResolver(gatewayId: string): KeyResolver {
    return keyResolverOf(this.snapshot.get(gatewayId));
  }

  /** Unregistered gateways may send unsigned events (their signed events fail: no key). */
  requiresAttestation(gatewayId: string): boolean {
    return this.snapshot.get(gatewayId)?.attestationRequired ?? false;
  }

  async register(dto: RegisterGatewayDto): Promise<{ gateway: GatewayView; created: boolean }> {
    const { row, created } = await this.repo.upsert({
      id: dto.id,
      kind: dto.kind,
      displayName: dto.display_name ?? null,
      attestationRequired: dto.attestation_required ?? false,
      publicKeys: dto.public_keys ?? { keys: [] },
      defaultTenant: dto.default_tenant ?? null,
    });
    await this.refresh();
    this.log.log(
      `gateway "${row.id}" ${created ? 'registered' : 're-registered'}: ${row.public_keys.keys.length} key(s), attestation ${row.attestation_required ? 'required' : 'optional'}`,
    );
    return { gateway: viewOf(row), created };
  }

  async list(): Promise<GatewayView[]> {
    return (await this.repo.all()).map(viewOf);
  }
}

function viewOf(row: GatewayRow): GatewayView {
  return {
    id: row.id,
    kind: row.kind,
    display_name: row.display_name,
    attestation_required: row.attestation_required,
    public_keys: row.public_keys,
    default_tenant: row.default_tenant ?? null,
    created_at: new Date(row.created_at).toISOString(),
  };
}
