import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { mintInternalToken, type Principal } from './auth';
import { configureServiceApp, createFastifyAdapter, type CreateServiceOptions } from './bootstrap';

/**
 * Boots a service module the way `runService` does, against the real local Kafka and database.
 * Each test file has a database of its own (MONGO_DB is set by tools/jest/isolated-database.cjs
 * before the file imports anything). Requests go through Fastify's `inject` (no port needed).
 */
export async function bootTestApp(module: unknown, options: CreateServiceOptions): Promise<NestFastifyApplication> {
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
