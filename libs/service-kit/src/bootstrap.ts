import type { IncomingMessage } from 'node:http';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { Logger } from 'nestjs-pino';
import { CORRELATION_HEADER, correlationIdOf } from './correlation';
import { enableDefaultMetrics } from './metrics.controller';

export interface CreateServiceOptions {
  service: string;
  title: string;
  description?: string;
}

/** Builds the Fastify-backed Nest app with logging, OpenAPI at /docs and SIGTERM handling. */
export async function createServiceApp(module: unknown, options: CreateServiceOptions): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(module as never, createFastifyAdapter(), { bufferLogs: true });
  configureServiceApp(app, options);
  return app;
}

export function createFastifyAdapter(): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: 1_048_576,
    trustProxy: true,
    genReqId: (req: unknown) => correlationIdOf(req as IncomingMessage),
  });
}

/** Shared by `createServiceApp` and tests that build the app through @nestjs/testing. */
export function configureServiceApp(app: NestFastifyApplication, options: CreateServiceOptions): void {
  app.useLogger(app.get(Logger));
  enableDefaultMetrics(options.service);
  app
    .getHttpAdapter()
    .getInstance()
    .addHook('onRequest', (request, reply, done) => {
      void reply.header(CORRELATION_HEADER, request.id);
      done();
    });
  // SIGTERM/SIGINT: stop consuming, finish in-flight work, flush the producer, close the database.
  app.enableShutdownHooks();
  const document = SwaggerModule.createDocument(
    app,
    new DocumentBuilder()
      .setTitle(options.title)
      .setDescription(options.description ?? '')
      .setVersion('1')
      .build(),
  );
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs/openapi.json' });
}

/** The whole `main.ts` of a service. */
export async function runService(module: unknown, options: CreateServiceOptions): Promise<void> {
  try {
    const app = await createServiceApp(module, options);
    const config = app.get(ConfigService);
    const port = Number(config.get('PORT'));
    const host = String(config.get('HOST'));
    await app.listen(port, host);
    app.get(Logger).log(`${options.service} listening on http://${host}:${port} (OpenAPI at /docs)`);
  } catch (error) {
    // Config errors and unreachable infrastructure end the boot with one readable line.
    process.stderr.write(`${options.service} failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
