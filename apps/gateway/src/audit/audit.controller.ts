import { Controller, Get, Query } from '@nestjs/common';
import { ApiOperation, ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import { SignedInOnly } from '../access/request-context';
import { AuditListSchema } from '../openapi/gateway-schemas';
import { AuditService } from './audit.service';

@ApiTags('audit 审计日志')
@Controller('api/v1/audit')
export class AuditController {
  constructor(private readonly audit: AuditService) {}

  /** The gateway's log (writes, unmasked reads, sign-ins) for actors inside the caller's region, newest first. */
  @Get()
  @SignedInOnly('auditor', 'civil_affairs_admin')
  @ApiOperation({ summary: 'Audit log of the caller\'s region (auditors, admins)', operationId: 'gateway_listAudit' })
  @ApiResponse({ status: 200, schema: AuditListSchema })
  list(@CurrentPrincipal() principal: Principal, @Query() query: Record<string, string>) {
    return this.audit.list(principal, query);
  }
}
