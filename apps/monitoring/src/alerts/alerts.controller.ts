import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { AlertsService } from './alerts.service';

const READERS = ['civil_affairs_admin', 'auditor', 'assessor', 'provider_operator', 'guardian', 'elder'] as const;
const RESPONDERS = ['civil_affairs_admin', 'provider_operator', 'guardian'] as const;

@ApiTags('alerts 安全告警')
@ApiBearerAuth()
@Controller('alerts')
export class AlertsController {
  constructor(private readonly alerts: AlertsService) {}

  /** `?status=OPEN|RAISED|ACKNOWLEDGED|RESOLVED|FALSE_ALARM&kind=&severity=&elderId=&facilityId=&deviceId=&page=&pageSize=` */
  @Get()
  @AllowRoles(...READERS)
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.alerts.list(principal, query);
  }

  @Get(':alertId')
  @AllowRoles(...READERS)
  get(@CurrentPrincipal() principal: Principal, @Param('alertId') alertId: string) {
    return this.alerts.get(principal, alertId);
  }

  @Post(':alertId/acknowledge')
  @HttpCode(200)
  @AllowRoles(...RESPONDERS)
  acknowledge(@CurrentPrincipal() principal: Principal, @Param('alertId') alertId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.alerts.acknowledge(principal, alertId, body ?? {}, String(req.id));
  }

  /** `{ outcome: RESOLVED | FALSE_ALARM, reason }` */
  @Post(':alertId/resolve')
  @HttpCode(200)
  @AllowRoles(...RESPONDERS)
  resolve(@CurrentPrincipal() principal: Principal, @Param('alertId') alertId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.alerts.resolve(principal, alertId, body, String(req.id));
  }
}
