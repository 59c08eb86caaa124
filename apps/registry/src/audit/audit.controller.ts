import { Controller, Get, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { AuditService } from './audit.service';

@ApiTags('audit 审计日志')
@ApiBearerAuth()
@Controller('audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** Entries about records inside the caller's region, newest first. */
  @Get()
  @AllowRoles('auditor', 'civil_affairs_admin')
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, string>) {
    return this.audit.list(principal, query);
  }
}
