import 'reflect-metadata';
import { ValidationPipe } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import express from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module.js';
import type { AppConfig } from './config/app-config.js';
import { ProblemDetailsFilter } from './common/problem-details.filter.js';
import { rejectNulInUrl, verifyJsonBody } from './common/request-guards.js';
import { assignRequestId } from './logging/request-id.js';

/** Routes whose body the ingest path needs as raw bytes (raw_sha256, NDJSON, OTLP). */
const RAW_BODY_ROUTES = ['/v1/events', '/v1/ingest', '/v1/traces'];

/**
 * `shutdownHooks`: let Nest handle SIGTERM/SIGINT (off when the caller owns the process, as the demo does).
 * `logFile`: write the JSON logs there instead of stdout.
 */
export async function createApp(
  config: AppConfig,
  opts: { shutdownHooks?: boolean; logFile?: string } = {},
): Promise<NestExpressApplication> {
  // Start-up lines are held until the JSON logger is in place, so that every line the service writes is JSON.
  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(config, { logFile: opts.logFile }), {
    bodyParser: false,
    bufferLogs: true,
  });
  app.useLogger(app.get(Logger));
  app.use(assignRequestId);
  app.use(RAW_BODY_ROUTES, express.raw({ type: () => true, limit: config.ingest.maxMessageBytes * 16 }));
  app.use(rejectNulInUrl);
  app.use(express.json({ limit: '1mb', verify: verifyJsonBody }));
  app.useGlobalFilters(new ProblemDetailsFilter());
  app.useGlobalPipes(new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }));
  // On SIGTERM/SIGINT Nest closes the app (the consumer hands its partitions over, then the HTTP server and the
  // pool close) and exits 0: a clean stop, not a death by signal; a failed close exits 1.
  if (opts.shutdownHooks !== false) app.enableShutdownHooks([], { useProcessExit: true });
  const doc = new DocumentBuilder()
    .setTitle('routing-ledger')
    .setDescription('Auditable ledger of AI gateway routing decisions')
    .setVersion('1')
    .addBearerAuth()
    .build();
  SwaggerModule.setup('docs', app, () => SwaggerModule.createDocument(app, doc));
  return app;
}
