import { Body, Controller, Get, Param, Patch, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { FacilitiesService } from './facilities.service';
import { FamilyCareBedsService } from './family-care-beds.service';

const READERS = ['civil_affairs_admin', 'assessor', 'auditor', 'provider_operator'] as const;

@ApiTags('facilities 养老服务设施')
@ApiBearerAuth()
@Controller('facilities')
export class FacilitiesController {
  constructor(private readonly facilities: FacilitiesService) {}

  @Get()
  @AllowRoles(...READERS)
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.facilities.list(principal, query);
  }

  @Get(':facilityId')
  @AllowRoles(...READERS)
  get(@CurrentPrincipal() principal: Principal, @Param('facilityId') facilityId: string) {
    return this.facilities.get(principal, facilityId);
  }

  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.facilities.create(principal, body, String(req.id));
  }

  @Put(':facilityId')
  @AllowRoles('civil_affairs_admin')
  update(@CurrentPrincipal() principal: Principal, @Param('facilityId') facilityId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.facilities.update(principal, facilityId, body, String(req.id));
  }

  @Patch(':facilityId/beds')
  @AllowRoles('civil_affairs_admin', 'provider_operator')
  setOccupancy(@CurrentPrincipal() principal: Principal, @Param('facilityId') facilityId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.facilities.setOccupancy(principal, facilityId, body, String(req.id));
  }
}

@ApiTags('family care beds 家庭养老床位')
@ApiBearerAuth()
@Controller('family-care-beds')
export class FamilyCareBedsController {
  constructor(private readonly beds: FamilyCareBedsService) {}

  @Get()
  @AllowRoles(...READERS)
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.beds.list(principal, query);
  }

  @Get(':bedId')
  @AllowRoles(...READERS)
  get(@CurrentPrincipal() principal: Principal, @Param('bedId') bedId: string) {
    return this.beds.get(principal, bedId);
  }

  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.beds.create(principal, body, String(req.id));
  }

  @Put(':bedId')
  @AllowRoles('civil_affairs_admin')
  update(@CurrentPrincipal() principal: Principal, @Param('bedId') bedId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.beds.update(principal, bedId, body, String(req.id));
  }
}
