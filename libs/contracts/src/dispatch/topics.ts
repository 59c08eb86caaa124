import { defineTopic } from '../topic';

/** Topics the dispatch service produces. */
export const DispatchTopics = {
  orders: defineTopic({ name: 'yiyang.dispatch.orders.v1', partitions: 12, key: 'orderId' }),
  emergencies: defineTopic({ name: 'yiyang.dispatch.emergencies.v1', partitions: 6, key: 'emergencyId' }),
  visits: defineTopic({ name: 'yiyang.dispatch.visits.v1', partitions: 12, key: 'visitId' }),
  rounds: defineTopic({ name: 'yiyang.dispatch.rounds.v1', partitions: 6, key: 'roundId' }),
} as const;
