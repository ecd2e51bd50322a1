import { Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { LedgerConsumerService } from '../ingest/ledger-consumer.service.js';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(
    private readonly db: DataSource,
    private readonly consumer: LedgerConsumerService,
  ) {}

  /** Liveness: the process serves HTTP. */
  @Get('healthz')
  healthz(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** Readiness: PostgreSQL answers and the consumer has joined its group. */
  @Get('readyz')
  async readyz(): Promise<{ status: 'ready'; postgres: 'ok'; kafka: 'ok' }> {
    const postgres = await this.db.query('SELECT 1').then(
      () => 'ok' as const,
      (e: Error) => e.message,
    );
    const kafka = this.consumer.ready ? ('ok' as const) : 'consumer has not joined its group';
    if (postgres !== 'ok' || kafka !== 'ok')
      throw new ServiceUnavailableException({ status: 'not ready', postgres, kafka });
    return { status: 'ready', postgres, kafka };
  }
}
