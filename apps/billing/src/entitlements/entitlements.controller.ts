import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { EntitlementsService } from './entitlements.service';

@ApiTags('entitlements 补贴资格')
@ApiBearerAuth()
@Controller('entitlements')
export class EntitlementsController {
  constructor(private readonly entitlements: EntitlementsService) {}

  @Get(':elderId')
  @AllowRoles('civil_affairs_admin', 'auditor', 'assessor', 'elder', 'guardian')
  list(@CurrentPrincipal() principal: Principal, @Param('elderId') elderId: string) {
    return this.entitlements.forElder(principal, elderId);
  }

  /** Rule by rule: why the elder is (or is not) eligible for each policy, on `?on=yyyy-mm-dd` (default today). */
  @Get(':elderId/explanation')
  @AllowRoles('civil_affairs_admin', 'auditor', 'assessor', 'elder', 'guardian')
  explain(@CurrentPrincipal() principal: Principal, @Param('elderId') elderId: string, @Query() query: unknown) {
    return this.entitlements.explain(principal, elderId, query);
  }
}
