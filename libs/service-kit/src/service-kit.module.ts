import type { IncomingMessage } from 'node:http';
import { Module, RequestMethod, type DynamicModule } from '@nestjs/common';
import type { RouteInfo } from '@nestjs/common/interfaces';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { APP_FILTER, APP_GUARD } from '@nestjs/core';
import { InternalAuthGuard } from './auth';
import { MongooseModule } from '@nestjs/mongoose';
import { TerminusModule } from '@nestjs/terminus';
import type { TopicDefinition } from '@yiyang/contracts';
import { MessagingModule, parseBrokers, type OutboxRelayOptions } from '@yiyang/messaging';
import { LoggerModule } from 'nestjs-pino';
import { z } from 'zod';
import { correlationIdOf } from './correlation';
import { baseConfigSchema, validateConfig, type BaseConfig } from './config';
import { ErrorFilter } from './errors';
import { HealthController } from './health.controller';
import { MetricsController } from './metrics.controller';


export interface ServiceKitOptions {
  service: string;
  defaultPort: number;
  /** The service's own variables, validated with the base ones at boot. */
  config?: z.ZodObject;
  /** Test-only or service-private topics to create beside the platform catalogue. */
  extraTopics?: readonly TopicDefinition[];
  outbox?: OutboxRelayOptions;
  /** Overrides for tests (a unique database, a consumer-group prefix, fast retries). */
  env?: Record<string, string>;
  groupPrefix?: string;
  retry?: { maxAttempts?: number; initialBackoffMs?: number; maxBackoffMs?: number };
  /**
   * Routes left out of the per-request access log (and its request-scoped logger), beside health and
   * metrics. Only for a service that logs those requests itself more cheaply (the gateway's
   * forwarding route); every other service leaves it unset and logs every request.
   */
  requestLogExclude?: readonly RouteInfo[];
}

/**
 * What every Yiyang service stands on: validated config, JSON logs with correlation ids, MongoDB,
 * Kafka messaging, /health, /metrics and one error shape. A service module imports this once.
 */
@Module({})
export class ServiceKitModule {
  static forRoot(options: ServiceKitOptions): DynamicModule {
    const schema = options.config
      ? baseConfigSchema(options.service, options.defaultPort).extend(options.config.shape)
      : baseConfigSchema(options.service, options.defaultPort);
    return {
      module: ServiceKitModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          validate: (env) => validateConfig(schema, { ...env, ...options.env }),
        }),
        LoggerModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => ({
            pinoHttp: {
              level: config.get('LOG_LEVEL'),
              base: { service: options.service },
              genReqId: (req: IncomingMessage) => correlationIdOf(req),
              // Every line a request logs carries its correlation id, under that name.
              quietReqLogger: true,
              customAttributeKeys: { reqId: 'correlationId' },
              // Bearer tokens (the public access token at the gateway, the internal token behind it)
              // and session cookies are credentials: a log line must never let its reader replay them.
              redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'], censor: '[redacted]' },
            },
            // Probes and scrapes every few seconds would drown the log.
            exclude: [
              { method: RequestMethod.ALL, path: 'health' },
              { method: RequestMethod.ALL, path: 'health/live' },
              { method: RequestMethod.ALL, path: 'metrics' },
              ...(options.requestLogExclude ?? []),
            ],
          }),
        }),
        MongooseModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => ({
            uri: config.get('MONGO_URL'),
            dbName: config.get('MONGO_DB'),
            // Indexes are the idempotency mechanism (unique effect ids), so they must exist before traffic.
            autoIndex: true,
            serverSelectionTimeoutMS: 10_000,
            // Bounded: FerretDB gives each database 100 SQLite connections and an update holds two
            // at once; a service bursting past that starves the pool and stalls every writer.
            maxPoolSize: Number(process.env['MONGO_POOL_SIZE'] ?? 10),
          }),
        }),
        MessagingModule.forRootAsync({
          inject: [ConfigService],
          useFactory: (config: ConfigService<BaseConfig, true>) => ({
            service: options.service,
            brokers: parseBrokers(config.get('KAFKA_BROKERS')),
            extraTopics: options.extraTopics,
            outbox: options.outbox,
            groupPrefix:
              options.groupPrefix ??
              (config.get('KAFKA_GROUP_NAMESPACE') ? `${config.get('KAFKA_GROUP_NAMESPACE')}.yiyang.${options.service}` : undefined),
            retry: options.retry,
          }),
        }),
        TerminusModule,
      ],
      controllers: [HealthController, MetricsController],
      providers: [
        { provide: APP_FILTER, useClass: ErrorFilter },
        { provide: APP_GUARD, useClass: InternalAuthGuard },
      ],
    };
  }
}
