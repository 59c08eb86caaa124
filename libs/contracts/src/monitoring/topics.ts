import { defineTopic } from '../topic';

/** Topics the monitoring service produces. */
export const MonitoringTopics = {
  // Province scale: ~1M devices at one reading per 20 s. Partitions are the unit of consumer
  // parallelism, so this topic gets more of them than any other.
  telemetry: defineTopic({ name: 'yiyang.monitoring.telemetry.v1', partitions: 24, key: 'deviceId', retentionHours: 72 }),
  devices: defineTopic({ name: 'yiyang.monitoring.devices.v1', partitions: 6, key: 'deviceId' }),
  alerts: defineTopic({ name: 'yiyang.monitoring.alerts.v1', partitions: 6, key: 'alertId' }),
} as const;
