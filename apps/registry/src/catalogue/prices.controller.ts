import { Body, Controller, Get, Param, Put, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { PricesService } from './prices.service';

@ApiTags('catalogue 服务目录')
@ApiBearerAuth()
@Controller('catalogue/prices')
export class PricesController {
  constructor(private readonly prices: PricesService) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'provider_operator')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, unknown>) {
    return this.prices.list(principal, query);
  }

  @Put(':providerId/:itemCode')
  @AllowRoles('civil_affairs_admin', 'provider_operator')
  set(
    @CurrentPrincipal() principal: Principal,
    @Param('providerId') providerId: string,
    @Param('itemCode') itemCode: string,
    @Body() body: unknown,
    @Req() req: FastifyRequest,
  ) {
    return this.prices.setPrice(principal, providerId, itemCode, body, String(req.id));
  }
}
