import { Catch, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import type { Request, Response } from 'express';
import { ExportNotReadyError } from './export.service.js';

/**
 * 409 for a bundle asked for before its job is done. Scoped to the export controller so that
 * the global ProblemDetailsFilter (which maps every other code) stays untouched.
 */
@Catch(ExportNotReadyError)
export class ExportErrorsFilter implements ExceptionFilter {
  catch(e: ExportNotReadyError, host: ArgumentsHost): void {
    const res = host.switchToHttp().getResponse<Response>();
    const req = host.switchToHttp().getRequest<Request>();
    res.status(409).type('application/problem+json').send(JSON.stringify({
      type: 'urn:routing-ledger:error:export_not_ready', title: 'export not ready', status: 409, detail: e.message, instance: req.path,
    }));
  }
}
