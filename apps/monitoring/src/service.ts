export const SERVICE = {
  service: 'monitoring',
  defaultPort: 3004,
  title: 'Yiyang monitoring (颐养 安全监测)',
  description: 'Devices, telemetry, alerts and supervision figures.',
} as const;
