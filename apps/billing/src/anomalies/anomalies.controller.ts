import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { AnomaliesService } from './anomalies.service';

@ApiTags('anomalies 异常稽核')
@ApiBearerAuth()
@Controller('anomalies')
export class AnomaliesController {
  constructor(private readonly anomalies: AnomaliesService) {}

  /** `?month=yyyy-mm[&factor=2]`: overlapping services, services after death/moving out, providers far above peers. */
  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.anomalies.list(principal, query);
  }
}
