import { Body, Controller, Get, Headers, HttpCode, Param, Post, Query, Req, Res } from '@nestjs/common';
import { ApiBearerAuth, ApiHeader, ApiQuery, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { originOf } from '../elders/elders.controller';
import { AbsencesService } from './absences.service';

@ApiTags('absences 临时离开（外出/住院）')
@ApiBearerAuth()
@Controller('elders')
export class AbsencesController {
  constructor(private readonly absences: AbsencesService) {}

  /**
   * Records a temporary absence: `{kind: AWAY|IN_HOSPITAL, from, to?, note?}`. `from`/`to` are ISO
   * instants with an offset, or dates (China Standard Time; a `to` date covers that whole day).
   * 201 when recorded; 200 with the same absence when retried with the same Idempotency-Key.
   */
  @Post(':id/absences')
  @AllowRoles('civil_affairs_admin')
  @ApiHeader({ name: 'Idempotency-Key', required: false })
  async record(
    @CurrentPrincipal() principal: Principal,
    @Param('id') id: string,
    @Body() body: unknown,
    @Headers('idempotency-key') idempotencyKey: string | undefined,
    @Req() req: FastifyRequest,
    @Res({ passthrough: true }) reply: FastifyReply,
  ) {
    const { created, absence } = await this.absences.record(principal, id, body, idempotencyKey, originOf(req));
    void reply.status(created ? 201 : 200);
    return absence;
  }

  /** Ends an absence (the elder is back): `{to?}` defaults to now; a planned end may be brought forward. */
  @Post(':id/absences/:absenceId/end')
  @HttpCode(200)
  @AllowRoles('civil_affairs_admin')
  end(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Param('absenceId') absenceId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.absences.end(principal, id, absenceId, body, originOf(req));
  }

  @Get(':id/absences')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor', 'elder', 'guardian')
  @ApiQuery({ name: 'current', required: false, enum: ['true', 'false'] })
  list(@CurrentPrincipal() principal: Principal, @Param('id') id: string, @Query() query: Record<string, string>) {
    return this.absences.list(principal, id, query);
  }
}
