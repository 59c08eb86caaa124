export const SERVICE = {
  service: 'gateway',
  defaultPort: 3000,
  title: 'Yiyang admin gateway (颐养 管理网关)',
  description: 'The one public door: accounts, roles, region scope, audit.',
} as const;
