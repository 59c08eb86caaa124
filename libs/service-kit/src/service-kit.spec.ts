import 'reflect-metadata';
import { Body, Controller, Get, Module, Post } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { z } from 'zod';
import { baseConfigSchema, validateConfig } from './config';
import { AppError, parseInput } from './errors';
import { ServiceKitModule } from './service-kit.module';
import { AllowRoles, CurrentPrincipal, mintInternalToken, type Principal } from './auth';
import { asPrincipal, bootTestApp } from './testing';

// The skeleton every service stands on, booted against the real local Kafka and database.

const NewElder = z.object({ name: z.string().min(1), birthDate: z.iso.date() });

@Controller('elders')
class EldersController {
  @Get('me')
  me(@CurrentPrincipal() principal: Principal) {
    return principal;
  }

  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@Body() body: unknown) {
    const elder = parseInput(NewElder, body);
    if (elder.name === '重复') {
      throw new AppError('REGISTRY.ELDER_DUPLICATE', 409, 'An elder with this ID-card number exists', {
        field: 'idCardNumber',
        messageZh: '该身份证号已登记',
      });
    }
    return elder;
  }
}

@Module({
  imports: [ServiceKitModule.forRoot({ service: 'kit-test', defaultPort: 0 })],
  controllers: [EldersController],
})
class KitTestModule {}

describe('service kit (real Kafka + database)', () => {
  let app: NestFastifyApplication;
  beforeAll(async () => {
    app = await bootTestApp(KitTestModule, { service: 'kit-test', title: 'kit test' });
  });
  afterAll(() => app?.close());

  it('reports ready only with the database and Kafka answering', async () => {
    const res = await app.inject({ method: 'GET', url: '/health' });
    expect(res.statusCode).toBe(200);
    expect(res.json().details).toMatchObject({ database: { status: 'up' }, kafka: { status: 'up' } });
    expect((await app.inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
  });

  it('serves Prometheus metrics and an OpenAPI document', async () => {
    const metrics = await app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.headers['content-type']).toContain('text/plain');
    expect(metrics.body).toContain('process_cpu_user_seconds_total');
    const doc = (await app.inject({ method: 'GET', url: '/docs/openapi.json' })).json();
    expect(doc.info.title).toBe('kit test');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/health', '/elders']));
  });

  const admin: Principal = { userId: 'u-1', role: 'civil_affairs_admin', regionCode: '130203000000' };

  it('trusts only a valid internal token from the gateway', async () => {
    expect((await app.inject({ method: 'GET', url: '/elders/me' })).json()).toMatchObject({ code: 'AUTH.UNAUTHENTICATED' });
    const forged = mintInternalToken('a-different-secret-that-is-32-chars-long', admin);
    const res = await app.inject({ method: 'GET', url: '/elders/me', headers: { authorization: `Bearer ${forged}` } });
    expect(res.statusCode).toBe(401);
    const ok = await app.inject({ method: 'GET', url: '/elders/me', headers: asPrincipal(admin) });
    expect(ok.json()).toEqual(admin);
  });

  it('refuses a role the route does not allow with a 403', async () => {
    const caregiver: Principal = { userId: 'u-2', role: 'caregiver', caregiverId: 'cg-1' };
    const res = await app.inject({ method: 'POST', url: '/elders', headers: asPrincipal(caregiver), payload: { name: 'x', birthDate: '1941-02-03' } });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('AUTH.FORBIDDEN');
  });

  it('answers bad input with a 400 naming the field, in one error shape', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/elders',
      headers: { 'x-correlation-id': 'req-elder-1', ...asPrincipal(admin) },
      payload: { name: '王秀英', birthDate: '1941-02-30' },
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers['x-correlation-id']).toBe('req-elder-1');
    expect(res.json()).toMatchObject({ code: 'VALIDATION.INVALID_INPUT', field: 'birthDate', correlationId: 'req-elder-1' });
    expect(res.json().messageZh).toContain('birthDate');
  });

  it('carries a domain error code across the boundary', async () => {
    const res = await app.inject({ method: 'POST', url: '/elders', headers: asPrincipal(admin), payload: { name: '重复', birthDate: '1941-02-03' } });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'REGISTRY.ELDER_DUPLICATE', field: 'idCardNumber', messageZh: '该身份证号已登记' });
    expect(res.json().correlationId).toEqual(res.headers['x-correlation-id']);
  });

  it('rejects malformed JSON with a 400, not a 500', async () => {
    const res = await app.inject({
      method: 'POST',
      url: '/elders',
      headers: { 'content-type': 'application/json', ...asPrincipal(admin) },
      payload: '{"name":',
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('HTTP.400');
  });
});

describe('config validation at boot', () => {
  it('names every missing variable in production', () => {
    const previous = process.env['NODE_ENV'];
    process.env['NODE_ENV'] = 'production';
    try {
      const schema = baseConfigSchema('registry', 3001);
      expect(() => validateConfig(schema, { NODE_ENV: 'production' })).toThrow(
        /KAFKA_BROKERS is missing; MONGO_URL is missing/,
      );
      expect(() => validateConfig(schema, { NODE_ENV: 'production', KAFKA_BROKERS: 'k:9092', MONGO_URL: 'http://x' })).toThrow(
        /MONGO_URL is invalid: must be a mongodb:\/\/ URL/,
      );
    } finally {
      process.env['NODE_ENV'] = previous;
    }
  });

  it('falls back to the local infrastructure in development', () => {
    const config = validateConfig(baseConfigSchema('registry', 3001), { NODE_ENV: 'development' });
    expect(config).toMatchObject({ PORT: 3001, KAFKA_BROKERS: '127.0.0.1:9092', MONGO_DB: 'yiyang_registry' });
  });
});
