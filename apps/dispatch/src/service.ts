export const SERVICE = {
  service: 'dispatch',
  defaultPort: 3002,
  title: 'Yiyang dispatch (颐养 派单服务)',
  description: 'Service orders, matching, emergencies, visit verification, visiting rounds.',
} as const;
