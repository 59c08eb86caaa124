import { Body, Controller, Get, Headers, HttpCode, Module, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { DutyWorkersModule } from '../duty-workers/duty-workers.service';
import { EmergenciesService } from './emergencies.service';

const ACTORS = ['elder', 'guardian', 'caregiver', 'provider_operator', 'civil_affairs_admin'] as const;

@ApiTags('emergencies 一键呼叫 (SOS)')
@ApiBearerAuth()
@Controller('emergencies')
export class EmergenciesController {
  constructor(private readonly emergencies: EmergenciesService) {}

  @Post()
  @AllowRoles(...ACTORS)
  @ApiOperation({ summary: 'One-key emergency call for an elder; the escalation ladder starts at once.' })
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  raise(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Headers('idempotency-key') key: string | undefined, @Req() req: FastifyRequest) {
    return this.emergencies.raiseByApi(p, body, key, String(req.id));
  }

  @Get()
  @AllowRoles('elder', 'guardian', 'caregiver', 'civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() p: Principal, @Query() q: Record<string, unknown>) {
    return this.emergencies.list(p, q);
  }

  @Get(':emergencyId')
  @AllowRoles(...ACTORS, 'auditor')
  get(@CurrentPrincipal() p: Principal, @Param('emergencyId') id: string) {
    return this.emergencies.get(p, id);
  }

  @Post(':emergencyId/acknowledge')
  @HttpCode(200)
  @AllowRoles('guardian', 'caregiver', 'provider_operator', 'civil_affairs_admin')
  acknowledge(@CurrentPrincipal() p: Principal, @Param('emergencyId') id: string, @Req() req: FastifyRequest) {
    return this.emergencies.acknowledge(p, id, String(req.id));
  }

  @Post(':emergencyId/resolve')
  @HttpCode(200)
  @AllowRoles(...ACTORS)
  @ApiOperation({ summary: 'Close with {outcome: RESOLVED | FALSE_ALARM, reason}.' })
  resolve(@CurrentPrincipal() p: Principal, @Param('emergencyId') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.emergencies.resolve(p, id, body, String(req.id));
  }
}

@Module({ imports: [DutyWorkersModule], controllers: [EmergenciesController], providers: [EmergenciesService], exports: [EmergenciesService] })
export class EmergenciesModule {}
