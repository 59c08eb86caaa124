import { Body, Controller, Get, HttpCode, Param, Patch, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import type { RequestOrigin } from '../audit/audit.service';
import { EldersService } from './elders.service';

export const originOf = (req: FastifyRequest): RequestOrigin => ({ correlationId: String(req.id), ip: req.ip ?? null });

@ApiTags('elders 老人档案')
@ApiBearerAuth()
@Controller('elders')
export class EldersController {
  constructor(private readonly elders: EldersService) {}

  @Post()
  @AllowRoles('civil_affairs_admin')
  register(@CurrentPrincipal() principal: Principal, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.elders.register(principal, body, originOf(req));
  }

  @Get()
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'elder', 'guardian')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, string>) {
    return this.elders.list(principal, query);
  }

  /** `?reveal=true` shows ID number and phones unmasked (civil-affairs staff, assessors) and is audited. */
  @Get(':id')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'elder', 'guardian')
  @ApiQuery({ name: 'reveal', required: false, type: Boolean })
  get(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query('reveal') reveal: string | undefined, @Req() req: FastifyRequest) {
    return this.elders.get(principal, id, reveal === 'true', originOf(req));
  }

  @Patch(':id')
  @AllowRoles('civil_affairs_admin')
  update(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.elders.update(principal, id, body, originOf(req));
  }

  @Post(':id/status')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  changeStatus(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.elders.changeStatus(principal, id, body, originOf(req));
  }
}
