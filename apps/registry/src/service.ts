export const SERVICE = {
  service: 'registry',
  defaultPort: 3001,
  title: 'Yiyang registry (颐养 档案登记)',
  description: 'Regions, elders, assessments, providers, caregivers, facilities, catalogue.',
} as const;
