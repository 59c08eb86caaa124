import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { configureServiceApp, createFastifyAdapter, type CreateServiceOptions } from './bootstrap';

/**
 * Boots a service module the way `runService` does, against the real local Kafka and database,
 * in a database of its own. Requests go through Fastify's `inject` (no port needed).
 */
export async function bootTestApp(module: unknown, options: CreateServiceOptions): Promise<NestFastifyApplication> {
  process.env['MONGO_DB'] = `test_${options.service}_${randomBytes(4).toString('hex')}`;
  const moduleRef = await Test.createTestingModule({ imports: [module as never] }).compile();
  const app = moduleRef.createNestApplication<NestFastifyApplication>(createFastifyAdapter(), { logger: false });
  configureServiceApp(app, options);
  await app.init();
  await app.getHttpAdapter().getInstance().ready();
  return app;
}
