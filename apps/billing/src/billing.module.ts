import { Module } from '@nestjs/common';
import { AnomaliesController } from './anomalies/anomalies.controller';
import { AnomaliesService } from './anomalies/anomalies.service';
import { CaregiverSubsidiesService } from './caregivers/caregiver-subsidies.service';
import { BudgetsController } from './budgets/budgets.controller';
import { BudgetsService } from './budgets/budgets.service';
import { UtilisationService } from './budgets/utilisation.service';
import { EntitlementsController } from './entitlements/entitlements.controller';
import { EntitlementsService } from './entitlements/entitlements.service';
import { AccountsService } from './ledger/accounts.service';
import { AccountsController, LedgerController } from './ledger/ledger.controller';
import { PostingsService } from './ledger/postings.service';
import { PoliciesController } from './policies/policies.controller';
import { PoliciesService } from './policies/policies.service';
import { RegistryView } from './registry-view/registry-view.service';
import { SettlementsController } from './settlements/settlements.controller';
import { SettlementsService } from './settlements/settlements.service';

/**
 * Billing's features share one module: they are one bounded context (a charge needs policies,
 * entitlements, balances and budgets in one flow), and splitting them would only add forwarding.
 */
@Module({
  controllers: [PoliciesController, EntitlementsController, LedgerController, AccountsController, BudgetsController, SettlementsController, AnomaliesController],
  providers: [RegistryView, PoliciesService, EntitlementsService, AccountsService, PostingsService, BudgetsService, UtilisationService, SettlementsService, AnomaliesService, CaregiverSubsidiesService],
  exports: [RegistryView, PoliciesService, EntitlementsService, AccountsService, PostingsService, BudgetsService, SettlementsService],
})
export class BillingModule {}
