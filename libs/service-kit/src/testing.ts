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

/** The smoke test every service has: it boots against the real infrastructure, ready, with its API described. */
export function itBootsReady(module: unknown, options: CreateServiceOptions): void {
  describe(`${options.service} service (real Kafka + database)`, () => {
    let app: NestFastifyApplication;
    beforeAll(async () => {
      app = await bootTestApp(module, options);
    });
    afterAll(() => app?.close());

    it('boots ready, with its API described', async () => {
      expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
      const doc = (await app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
      expect(doc.info.title).toBe(options.title);
    });
  });
}
