import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { DashboardsService } from './dashboards.service';

@ApiTags('dashboards 监管一屏')
@ApiBearerAuth()
@Controller('dashboards')
export class DashboardsController {
  constructor(private readonly dashboards: DashboardsService) {}

  /** One region's supervision figures for a month (`?period=2026-11`, the default is this month) or a day (`?period=2026-11-23`). */
  @Get(':regionCode')
  @AllowRoles('civil_affairs_admin', 'auditor', 'assessor')
  get(@CurrentPrincipal() principal: Principal, @Param('regionCode') regionCode: string, @Query() query: Record<string, unknown>) {
    return this.dashboards.dashboard(principal, regionCode, query);
  }
}
