import { Body, Controller, Get, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SettlementsService } from './settlements.service';

@ApiTags('settlements 月度结算')
@ApiBearerAuth()
@Controller('settlements')
export class SettlementsController {
  constructor(private readonly settlements: SettlementsService) {}

  /** Issues (or re-issues) draft statements for a month: `{ month: 'yyyy-mm', providerId? }`. */
  @Post()
  @AllowRoles('civil_affairs_admin')
  issue(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.settlements.issue(principal, body, String(req.id));
  }

  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor', 'provider_operator')
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.settlements.list(principal, query);
  }

  @Get(':providerId/:month')
  @AllowRoles('civil_affairs_admin', 'auditor', 'provider_operator')
  get(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string, @Param('month') month: string) {
    return this.settlements.require(principal, providerId, month);
  }

  /** Statement lines as `?format=csv` (default) or `xlsx`, zh-CN headers, one line per visit. */
  @Get(':providerId/:month/lines')
  @AllowRoles('civil_affairs_admin', 'auditor', 'provider_operator')
  async lines(
    @CurrentPrincipal() principal: Principal,
    @Param('providerId') providerId: string,
    @Param('month') month: string,
    @Query() query: unknown,
    @Res() reply: FastifyReply,
  ) {
    const { stream, contentType, filename } = await this.settlements.export(principal, providerId, month, query);
    return reply.header('content-type', contentType).header('content-disposition', `attachment; filename="${filename}"`).send(stream);
  }

  @Post(':providerId/:month/approval')
  @AllowRoles('civil_affairs_admin')
  approve(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string, @Param('month') month: string, @Req() req: FastifyRequest) {
    return this.settlements.approve(principal, providerId, month, String(req.id));
  }

  @Post(':providerId/:month/payment')
  @AllowRoles('civil_affairs_admin')
  pay(@CurrentPrincipal() principal: Principal, @Param('providerId') providerId: string, @Param('month') month: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.settlements.pay(principal, providerId, month, body, String(req.id));
  }
}
