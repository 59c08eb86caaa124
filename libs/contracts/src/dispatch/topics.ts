import { defineTopic } from '../topic';

/** Topics the dispatch service produces. */
export const DispatchTopics = {
  orders: defineTopic({ name: 'yiyang.dispatch.orders.v1', partitions: 12, key: 'orderId' }),
  /**
   * Commands INTO dispatch: "place this order" from trusted internal producers (the gateway's one-click
   * buttons, partner platforms, kiosks). Keyed by the requester's idempotency key; the outcome is
   * OrderPlaced + OrderAssigned/OrderEscalated on the orders topic, or OrderRequestRejected.
   */
  orderRequests: defineTopic({ name: 'yiyang.dispatch.order-requests.v1', partitions: 12, key: 'requestId' }),
  emergencies: defineTopic({ name: 'yiyang.dispatch.emergencies.v1', partitions: 6, key: 'emergencyId' }),
  visits: defineTopic({ name: 'yiyang.dispatch.visits.v1', partitions: 12, key: 'visitId' }),
  rounds: defineTopic({ name: 'yiyang.dispatch.rounds.v1', partitions: 6, key: 'roundId' }),
} as const;
