export const SERVICE = {
  service: 'billing',
  defaultPort: 3003,
  title: 'Yiyang billing and subsidies (颐养 补贴结算)',
  description: 'Subsidy policies, entitlements, ledger, settlement, fund budgets.',
} as const;
