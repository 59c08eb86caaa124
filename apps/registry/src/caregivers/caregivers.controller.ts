import { Body, Controller, Get, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { CaregiversService } from './caregivers.service';

@ApiTags('caregivers 护理员/志愿者/社工')
@ApiBearerAuth()
@Controller('caregivers')
export class CaregiversController {
  constructor(private readonly caregivers: CaregiversService) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.caregivers.list(principal, query);
  }

  @Get(':caregiverId')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator', 'caregiver')
  get(@CurrentPrincipal() principal: Principal, @Param('caregiverId') caregiverId: string) {
    return this.caregivers.get(principal, caregiverId);
  }

  @Post()
  @AllowRoles('civil_affairs_admin', 'provider_operator')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.caregivers.create(principal, body, String(req.id));
  }

  @Put(':caregiverId')
  @AllowRoles('civil_affairs_admin', 'provider_operator')
  update(@CurrentPrincipal() principal: Principal, @Param('caregiverId') caregiverId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.caregivers.update(principal, caregiverId, body, String(req.id));
  }
}
