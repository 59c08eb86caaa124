import { Body, Controller, Get, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { ProvidersService } from './providers.service';

@ApiTags('providers 服务机构')
@ApiBearerAuth()
@Controller('providers')
export class ProvidersController {
  constructor(private readonly providers: ProvidersService) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.providers.list(principal, query);
  }

  @Get(':providerId')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator')
  get(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string) {
    return this.providers.get(principal, providerId);
  }

  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.providers.create(principal, body, String(req.id));
  }

  @Put(':providerId')
  @AllowRoles('civil_affairs_admin')
  update(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.providers.update(principal, providerId, body, String(req.id));
  }
}
