import { createServer, type IncomingMessage, type ServerOptions, type ServerResponse } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import { ConfigService } from '@nestjs/config';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { configureServiceApp, correlationIdOf } from '@yiyang/service-kit';
import { Logger } from 'nestjs-pino';
import { GatewayModule } from './app.module';
import { languageOf, STATUS_PROBLEMS } from './http/problems';
import { configureGateway } from './http/setup';
import { OpenApiService } from './openapi/openapi.service';
import type { FastPath } from './proxy/fast-path';
import { SERVICE } from './service';

/**
 * The gateway app: the service kit's base (config, logs, Mongo, Kafka health, /health, /metrics,
 * internal /docs) plus the public door (configureGateway) and the merged OpenAPI at /api/docs.
 * `TRUST_PROXY` (e.g. `127.0.0.1` or `10.0.0.0/8`) names the reverse proxies whose X-Forwarded-For
 * is believed; by default none, so a client cannot choose the IP that rate limits and audit see.
 */
export async function createGatewayApp(env?: Record<string, string>, options: { logger?: boolean } = {}): Promise<NestFastifyApplication> {
  const trustProxy = env?.['TRUST_PROXY'] ?? process.env['TRUST_PROXY'];
  // Each request is first offered to the direct read path (proxy/fast-path.ts) — set once the app
  // is configured — and otherwise handed to Fastify as usual.
  const front: { fastPath?: FastPath } = {};
  const adapter = new FastifyAdapter({
    serverFactory: (handler: (req: IncomingMessage, res: ServerResponse) => void, opts: FastifyServerOptions & { http?: ServerOptions }) => {
      const server = createServer(opts.http ?? {}, (req: IncomingMessage, res: ServerResponse) => {
        const fastPath = front.fastPath;
        let taken = false;
        if (fastPath) {
          try {
            taken = fastPath.take(req, res);
          } catch (error) {
            // Nothing is written before a request is taken: Fastify answers it instead.
            fastPath.log.error({ err: error, correlationId: correlationIdOf(req) }, 'direct read path failed; handed to Fastify');
          }
        }
        if (!taken) handler(req, res);
      });
      // What Fastify does to the server it creates itself (fastify/lib/server.js).
      server.keepAliveTimeout = opts.keepAliveTimeout ?? 72_000;
      server.requestTimeout = opts.requestTimeout ?? 0;
      server.setTimeout(opts.connectionTimeout ?? 0);
      if ((opts.maxRequestsPerSocket ?? 0) > 0) server.maxRequestsPerSocket = opts.maxRequestsPerSocket as number;
      return server;
    },
    bodyLimit: 1_048_576,
    trustProxy: trustProxy ? trustProxy.split(',').map((s) => s.trim()) : false,
    genReqId: (req: unknown) => correlationIdOf(req as IncomingMessage),
    // Malformed URLs and the like are answered by Fastify before any hook runs: give them the
    // public error shape too (found by tools/fuzz).
    frameworkErrors: (error: FastifyError, req: FastifyRequest, reply: FastifyReply) => {
      const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      const zh = languageOf(req.headers['accept-language']) === 'zh';
      const code = error.code === 'FST_ERR_BAD_URL' ? 'VALIDATION.BAD_URL' : (STATUS_PROBLEMS[status]?.code ?? 'VALIDATION.INVALID_INPUT');
      void reply
        .code(status)
        .header('content-type', 'application/json; charset=utf-8')
        .send(JSON.stringify({ code, message: zh ? '请求地址或格式无效' : 'The request address or format is invalid', correlationId: String(req.id) }));
    },
  });
  const app = await NestFactory.create<NestFastifyApplication>(GatewayModule.forRoot(env), adapter, {
    bufferLogs: true,
    bodyParser: false,
    ...(options.logger === false ? { logger: false } : {}),
  });
  configureServiceApp(app, SERVICE);
  front.fastPath = await configureGateway(app, { trustProxy: !!trustProxy });
  FAST_PATHS.set(app, front.fastPath);
  const openApi = app.get(OpenApiService);
  SwaggerModule.setup('api/docs', app, () => openApi.document(), {
    jsonDocumentUrl: 'api/docs/openapi.json',
    yamlDocumentUrl: 'api/docs/openapi.yaml',
    customSiteTitle: 'Yiyang API 颐养开放接口',
    // The merged document changes as services deploy: serve the current one on every request.
    patchDocumentOnRequest: () => openApi.document(),
  });
  await app.init();
  const own = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle(SERVICE.title).setVersion('1').build());
  openApi.start(own);
  return app;
}

const FAST_PATHS = new WeakMap<object, FastPath>();
/** The app's direct read path (tests switch it off to compare both paths, and count what it took). */
export const fastPathOf = (app: NestFastifyApplication): FastPath | undefined => FAST_PATHS.get(app);

export async function runGateway(): Promise<void> {
  try {
    const app = await createGatewayApp();
    const config = app.get(ConfigService);
    await app.listen(Number(config.get('PORT')), String(config.get('HOST')));
    app.get(Logger).log(`gateway listening on http://${config.get('HOST')}:${config.get('PORT')} (public API /api/v1, OpenAPI at /api/docs)`);
  } catch (error) {
    process.stderr.write(`gateway failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
