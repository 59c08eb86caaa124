import { BillingTopics } from './billing';
import { DispatchTopics } from './dispatch';
import { MonitoringTopics } from './monitoring';
import { RegistryTopics } from './registry';
import type { TopicDefinition } from './topic';

/** Every topic of the platform, created explicitly at start-up (broker auto-create stays off). */
export const ALL_TOPICS: readonly TopicDefinition[] = [
  ...Object.values(RegistryTopics),
  ...Object.values(DispatchTopics),
  ...Object.values(BillingTopics),
  ...Object.values(MonitoringTopics),
];
