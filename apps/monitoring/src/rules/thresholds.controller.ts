import { Body, Controller, Get, Param, Put } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { ThresholdsService } from './thresholds.service';

@ApiTags('alert thresholds 告警阈值')
@ApiBearerAuth()
@Controller('alert-thresholds')
export class ThresholdsController {
  constructor(private readonly thresholds: ThresholdsService) {}

  /** The elder's effective thresholds (own values over the platform defaults). */
  @Get(':elderId')
  @AllowRoles('civil_affairs_admin', 'assessor', 'auditor')
  get(@CurrentPrincipal() principal: Principal, @Param('elderId') elderId: string) {
    return this.thresholds.get(principal, elderId);
  }

  /** `{ hrMin?, hrMax?, spo2Min?, sysMin?, sysMax?, diaMax?, gluMin?, gluMax?, consecutive?, inactivityHours?, lowBatteryPct? }` */
  @Put(':elderId')
  @AllowRoles('civil_affairs_admin', 'assessor')
  put(@CurrentPrincipal() principal: Principal, @Param('elderId') elderId: string, @Body() body: unknown) {
    return this.thresholds.put(principal, elderId, body);
  }
}
