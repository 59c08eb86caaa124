import { Body, Controller, Get, Param, Post, Req } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, type Principal } from '@yiyang/service-kit';
import type { FastifyRequest } from 'fastify';
import { CaregiverSubsidiesService } from '../caregivers/caregiver-subsidies.service';
import { AccountsService } from './accounts.service';
import { PostingsService } from './postings.service';

@ApiTags('ledger 台账')
@ApiBearerAuth()
@Controller('ledger')
export class LedgerController {
  constructor(
    private readonly postings: PostingsService,
    private readonly caregiverSubsidies: CaregiverSubsidiesService,
  ) {}

  /** A caregiver's entry subsidy and skill allowances (paid through the provider's statement). */
  @Get('caregiver-subsidies/:caregiverId')
  @AllowRoles('civil_affairs_admin', 'auditor', 'provider_operator', 'caregiver')
  caregiverSubsidy(@CurrentPrincipal() principal: Principal, @Param('caregiverId') caregiverId: string) {
    return this.caregiverSubsidies.forCaregiver(principal, caregiverId);
  }

  /** The charge of one visit (and its reversal, if any). */
  @Get('charges/:visitId')
  @AllowRoles('civil_affairs_admin', 'auditor', 'provider_operator', 'elder', 'guardian')
  charge(@CurrentPrincipal() principal: Principal, @Param('visitId') visitId: string) {
    return this.postings.charge(principal, visitId);
  }

  /** Corrects a charge with a reversing entry (never an edit). Idempotent per visit. */
  @Post('charges/:visitId/reversal')
  @AllowRoles('civil_affairs_admin')
  reverse(@CurrentPrincipal() principal: Principal, @Param('visitId') visitId: string, @Body() body: unknown, @Req() req: FastifyRequest) {
    return this.postings.reverse(principal, visitId, body, String(req.id));
  }
}

@ApiTags('accounts 补贴账户')
@ApiBearerAuth()
@Controller('accounts')
export class AccountsController {
  constructor(private readonly accounts: AccountsService) {}

  /** The elder's accounts per policy, with balances summed from the ledger. */
  @Get(':elderId')
  @AllowRoles('civil_affairs_admin', 'auditor', 'elder', 'guardian')
  forElder(@CurrentPrincipal() principal: Principal, @Param('elderId') elderId: string) {
    return this.accounts.forElder(principal, elderId);
  }
}
