import { Body, Controller, Get, Headers, Param, Post, Query, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { originOf } from '../elders/elders.controller';
import { AssessmentsService } from './assessments.service';

@ApiTags('assessments 能力评估')
@ApiBearerAuth()
@Controller('elders')
export class AssessmentsController {
  constructor(private readonly assessments: AssessmentsService) {}

  /** Records a GB/T 42195-2022 assessment; retry-safe with the same Idempotency-Key (or the same date and assessor). */
  @Post(':id/assessments')
  @AllowRoles('civil_affairs_admin', 'assessor')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  record(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
  ) {
    return this.assessments.record(principal, id, body, idempotencyKey, originOf(req));
  }

  @Get(':id/assessments')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'elder', 'guardian')
  list(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: Record<string, string>) {
    return this.assessments.list(principal, id, query);
  }
}
