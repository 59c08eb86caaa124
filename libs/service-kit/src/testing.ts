import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mintInternalToken, type Principal } from './auth';
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

/** The local default secret (config.ts); tests stand in for the gateway with it. */
export const TEST_INTERNAL_SECRET = 'yiyang-local-development-internal-token-secret';

/** `Authorization` header carrying an internal token for `principal`, as the gateway would send it. */
export function asPrincipal(principal: Principal): { authorization: string } {
  return { authorization: `Bearer ${mintInternalToken(TEST_INTERNAL_SECRET, principal)}` };
}
