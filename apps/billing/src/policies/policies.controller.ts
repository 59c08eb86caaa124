import { Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, parseInput, type Principal } from '@yiyang/service-kit';
import { z } from 'zod';
import { IsoDateRegex } from '../shared/dates';
import { PoliciesService } from './policies.service';

const ListQuery = z.object({ on: z.string().regex(IsoDateRegex, 'must be a date yyyy-mm-dd').optional() });

@ApiTags('policies 补贴政策')
@ApiBearerAuth()
@Controller('policies')
export class PoliciesController {
  constructor(private readonly policies: PoliciesService) {}

  /** Creates a policy or, for an existing code, its next version. */
  @Post()
  @AllowRoles('civil_affairs_admin')
  create(@CurrentPrincipal() principal: Principal, @Body() body: unknown) {
    return this.policies.create(principal, body);
  }

  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor', 'assessor', 'provider_operator', 'elder', 'guardian', 'caregiver')
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.policies.list(principal, parseInput(ListQuery, query).on);
  }

  /** Every version of one policy code. */
  @Get(':code')
  @AllowRoles('civil_affairs_admin', 'auditor', 'assessor', 'provider_operator', 'elder', 'guardian', 'caregiver')
  get(@CurrentPrincipal() principal: Principal, @Param('code') code: string) {
    return this.policies.get(principal, code);
  }

  @Post(':code/withdrawal')
  @AllowRoles('civil_affairs_admin')
  withdraw(@CurrentPrincipal() principal: Principal, @Param('code') code: string, @Body() body: unknown) {
    return this.policies.withdraw(principal, code, body);
  }
}
