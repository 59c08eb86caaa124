import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { uniqueSuffix } from '@yiyang/messaging/testing';
import { SERVICE } from './service';
import { bootDispatch } from './testing/test-support';

// Not itBootsReady(AppModule): that would consume as the production consumer groups and move their offsets.
// The shared local database can be slow when other work runs; generous limits, never a wall-clock assertion.
jest.setTimeout(120_000);

describe('dispatch service (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await bootDispatch(`test-dispatch-boot-${uniqueSuffix()}`, { DISPATCH_REGION_SCOPE: '990000000000' });
  }, 180_000);
  afterAll(() => app?.close());

  it('boots ready, with its API described', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const doc = (await app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(doc.info.title).toBe(SERVICE.title);
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/orders', '/offers']));
  });
});
