import { Body, Controller, Get, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { ContractsService } from './contracts.service';

@ApiTags('service contracts 服务合同')
@ApiBearerAuth()
@Controller()
export class ContractsController {
  constructor(private readonly contracts: ContractsService) {}

  @Get('contracts')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.contracts.list(principal, query);
  }

  @Post('providers/:providerId/contracts')
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.contracts.upsert(principal, providerId, undefined, body, String(req.id));
  }

  @Put('providers/:providerId/contracts/:contractId')
  @AllowRoles('civil_affairs_admin')
  update(
    @CurrentPrincipal() principal: Principal,
    @Param('providerId') providerId: string,
    @Param('contractId') contractId: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ) {
    return this.contracts.upsert(principal, providerId, contractId, body, String(req.id));
  }
}
