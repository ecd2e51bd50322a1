import { Module, type DynamicModule } from '@nestjs/common';
import type { IncomingMessage } from 'node:http';
import { LoggerModule } from 'nestjs-pino';
import pino from 'pino';
import type { LoggingConfig } from '../config/app-config.js';
import { ensureRequestId } from './request-id.js';

/** Polled many times a second by orchestrators and tests: no closing line for their requests. */
const UNLOGGED_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

const pathOf = (url: string | undefined) => (url ?? '').split('?')[0];

/**
 * The service's logs: one JSON object per line (pino), at LOG_LEVEL. Every line written while
 * an HTTP request is handled carries its `requestId` (the caller's x-request-id, else a new
 * one, returned in the response header), and each request ends with one line giving its method,
 * path, status and duration. Headers and query strings are never logged: they carry tokens,
 * API keys and signed-URL signatures.
 *
 * `file`: write there instead of stdout (the demo keeps its terminal for its walkthrough).
 */
@Module({})
export class LoggingModule {
  static forRoot(config: LoggingConfig, opts: { file?: string } = {}): DynamicModule {
    // Synchronous writes: the last lines before a crash or process.exit() are the ones that matter.
    const destination = pino.destination({ dest: opts.file ?? 1, mkdir: opts.file !== undefined, sync: true });
    return {
      module: LoggingModule,
      imports: [
        LoggerModule.forRoot({
          pinoHttp: [
            {
              level: config.level,
              timestamp: pino.stdTimeFunctions.isoTime,
              formatters: { level: (label) => ({ level: label }) },
              genReqId: ensureRequestId,
              customAttributeKeys: { reqId: 'requestId' },
              // Lines logged during a request carry only its id; the closing line has the rest.
              quietReqLogger: true,
              autoLogging: { ignore: (req: IncomingMessage) => UNLOGGED_PATHS.has(pathOf(req.url)) },
              customLogLevel: (_req, res, err) =>
                err || res.statusCode >= 500 ? 'error' : res.statusCode >= 400 ? 'warn' : 'info',
              serializers: {
                req: (req: { id: string; method: string; url: string }) => ({
                  id: req.id,
                  method: req.method,
                  path: pathOf(req.url),
                }),
                res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
              },
            },
            destination,
          ],
        }),
      ],
    };
  }
}
