import { defineTopic } from '../topic';

/** Topics the billing service produces. */
export const BillingTopics = {
  entitlements: defineTopic({ name: 'yiyang.billing.entitlements.v1', partitions: 6, key: 'elderId' }),
  // Keyed by the elder: one elder's charges, reversals and holds stay in the order they were posted.
  ledger: defineTopic({ name: 'yiyang.billing.ledger.v1', partitions: 6, key: 'elderId' }),
  settlements: defineTopic({ name: 'yiyang.billing.settlements.v1', partitions: 3, key: 'statementId' }),
  budgets: defineTopic({ name: 'yiyang.billing.budgets.v1', partitions: 1, key: 'budgetId' }),
} as const;
