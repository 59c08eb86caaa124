import { Body, Controller, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiOperation, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { VisitsService } from './visits.service';

@ApiTags('visits 上门服务核验 (EVV)')
@ApiBearerAuth()
@Controller('visits')
export class VisitsController {
  constructor(private readonly visits: VisitsService) {}

  @Post('check-in')
  @AllowRoles('caregiver')
  @ApiOperation({ summary: 'Check in at the door: {orderId, location, accuracyMeters?, at?}. The caregiver comes from the token.' })
  checkIn(@CurrentPrincipal() p: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.visits.checkIn(p, body, String(req.id));
  }

  @Post(':visitId/check-out')
  @HttpCode(200)
  @AllowRoles('caregiver')
  @ApiOperation({ summary: 'Check out: the visit is verified (billable) or flagged.' })
  checkOut(@CurrentPrincipal() p: Principal, @Param('visitId') visitId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.visits.checkOut(p, visitId, body, String(req.id));
  }

  @Post(':visitId/approve')
  @HttpCode(200)
  @AllowRoles('provider_operator', 'civil_affairs_admin')
  approve(@CurrentPrincipal() p: Principal, @Param('visitId') visitId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.visits.review(p, visitId, 'APPROVED', body, String(req.id));
  }

  @Post(':visitId/reject')
  @HttpCode(200)
  @AllowRoles('provider_operator', 'civil_affairs_admin')
  reject(@CurrentPrincipal() p: Principal, @Param('visitId') visitId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.visits.review(p, visitId, 'REJECTED', body, String(req.id));
  }

  @Get()
  @AllowRoles('caregiver', 'provider_operator', 'civil_affairs_admin', 'auditor', 'elder', 'guardian')
  list(@CurrentPrincipal() p: Principal, @Query() query: Record<string, unknown>) {
    return this.visits.list(p, query);
  }

  @Get(':visitId')
  @AllowRoles('caregiver', 'provider_operator', 'civil_affairs_admin', 'auditor', 'elder', 'guardian')
  get(@CurrentPrincipal() p: Principal, @Param('visitId') visitId: string) {
    return this.visits.get(p, visitId);
  }
}
