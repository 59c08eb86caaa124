import { Body, Controller, Get, Param, Put, Query } from '@nestjs/common';
import { ApiBearerAuth, ApiTags } from '@nestjs/swagger';
import { AllowRoles, CurrentPrincipal, parseInput, type Principal } from '@yiyang/service-kit';
import { z } from 'zod';
import { BudgetsService } from './budgets.service';
import { UtilisationService } from './utilisation.service';

const YearQuery = z.object({ year: z.coerce.number().int().min(2000).max(2100).optional() });

@ApiTags('budgets 资金预算')
@ApiBearerAuth()
@Controller('budgets')
export class BudgetsController {
  constructor(
    private readonly budgets: BudgetsService,
    private readonly utilisation: UtilisationService,
  ) {}

  @Get()
  @AllowRoles('civil_affairs_admin', 'auditor')
  list(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.budgets.list(principal, parseInput(YearQuery, query).year);
  }

  /** Spent, held and paid per fund source, policy and region, summed from the ledger. */
  @Get('utilisation')
  @AllowRoles('civil_affairs_admin', 'auditor')
  utilisationReport(@CurrentPrincipal() principal: Principal, @Query() query: unknown) {
    return this.utilisation.report(principal, query);
  }

  /** Creates the budget of a fund source for a year and region, or changes its allocation. */
  @Put(':fundSource/:year/:regionCode')
  @AllowRoles('civil_affairs_admin')
  put(@CurrentPrincipal() principal: Principal, @Param() params: unknown, @Body() body: unknown) {
    return this.budgets.put(principal, params, body);
  }
}
