import { Module, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { MongooseModule } from '@nestjs/mongoose';
import type { FastifyInstance } from 'fastify';
import { EldersModule } from '../elders/elders.module';
import { ImportError, ImportErrorSchema, ImportRun, ImportRunSchema } from './import-run.schema';
import { ensureMultipart } from './multipart';
import { RosterImportController } from './roster-import.controller';
import { RosterImportService } from './roster-import.service';

@Module({
  imports: [
    EldersModule,
    MongooseModule.forFeature([
      { name: ImportRun.name, schema: ImportRunSchema },
      { name: ImportError.name, schema: ImportErrorSchema },
    ]),
  ],
  controllers: [RosterImportController],
  providers: [RosterImportService],
  exports: [RosterImportService],
})
export class RosterImportModule implements OnModuleInit {
  constructor(private readonly adapterHost: HttpAdapterHost) {}

  async onModuleInit(): Promise<void> {
    // Runs during app.init(), before Fastify is ready: the last moment a plugin may be registered.
    const instance = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    if (instance) await ensureMultipart(instance);
  }
}
