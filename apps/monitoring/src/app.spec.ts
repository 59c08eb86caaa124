import 'reflect-metadata';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { bootTestApp } from '@yiyang/service-kit/testing';
import { AppModule } from './app.module';
import { SERVICE } from './service';

describe('monitoring service (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await bootTestApp(AppModule, SERVICE);
  });
  afterAll(() => app?.close());

  it('boots ready, with its API described', async () => {
    expect((await app.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    const doc = (await app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(doc.info.title).toBe(SERVICE.title);
  });
});
