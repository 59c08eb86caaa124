import { Body, Controller, Get, Param, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { RegionsService } from './regions.service';

@ApiTags('regions 区划')
@ApiBearerAuth()
@Controller('regions')
export class RegionsController {
  constructor(private readonly regions: RegionsService) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor')
  list(@CurrentPrincipal() principal: Principal, @Query('parentCode') parentCode?: string) {
    return this.regions.list(principal, parentCode);
  }

  @Get(':code')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor')
  get(@CurrentPrincipal() principal: Principal, @Param('code') code: string) {
    return this.regions.get(principal, code);
  }

  @Put(':code')
  @AllowRoles('civil_affairs_admin')
  upsert(@CurrentPrincipal() principal: Principal, @Param('code') code: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.regions.upsert(principal, { ...(body as object), code }, String(req.id));
  }
}
