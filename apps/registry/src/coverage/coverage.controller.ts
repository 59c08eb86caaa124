import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { CoverageService } from './coverage.service';

@ApiTags('coverage 覆盖率')
@ApiBearerAuth()
@Controller('coverage')
export class CoverageController {
  constructor(private readonly coverage: CoverageService) {}

  /** Elders, beds per 1,000 elders, family care beds and the 15-minute service circle of a region subtree. */
  @Get(':regionCode')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor')
  figures(@CurrentPrincipal() principal: Principal, @Param('regionCode') regionCode: string, @Query() query: Record<string, unknown>) {
    return this.coverage.figures(principal, regionCode, query);
  }
}
