import { Controller, Get } from '@nestjs/common';
import { ApiTags } from '@nestjs/swagger';
import { Public } from './auth';
import { HealthCheck, HealthCheckService, MongooseHealthIndicator } from '@nestjs/terminus';
import { KafkaHealthIndicator } from '@yiyang/messaging';

@ApiTags('operations')
@Public()
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly mongo: MongooseHealthIndicator,
    private readonly kafka: KafkaHealthIndicator,
  ) {}

  /** Readiness: take traffic only when the database and the broker both answer. */
  @Get()
  @HealthCheck()
  ready() {
    return this.health.check([
      () => this.mongo.pingCheck('database', { timeout: 3_000 }),
      () => this.kafka.isHealthy('kafka'),
    ]);
  }

  /** Liveness: the process is up and its event loop turns. Restarting will not fix a dead broker. */
  @Get('live')
  live() {
    return { status: 'ok' };
  }
}
