import { defineTopic } from '../topic';

/** Topics the billing service produces. */
export const BillingTopics = {
  entitlements: defineTopic({ name: 'yiyang.billing.entitlements.v1', partitions: 6, key: 'elderId' }),
  ledger: defineTopic({ name: 'yiyang.billing.ledger.v1', partitions: 6, key: 'accountId' }),
  settlements: defineTopic({ name: 'yiyang.billing.settlements.v1', partitions: 3, key: 'statementId' }),
  budgets: defineTopic({ name: 'yiyang.billing.budgets.v1', partitions: 1, key: 'budgetId' }),
} as const;
