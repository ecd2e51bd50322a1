import { Module } from '@nestjs/common';
import { ConsoleController } from './console.controller.js';

/** The incident console at /console (web/console, bundled into dist/console by `npm run build`). */
@Module({ controllers: [ConsoleController] })
export class ConsoleModule {}
