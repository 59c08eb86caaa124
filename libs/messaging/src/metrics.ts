import { Counter, Histogram, register } from 'prom-client';

// Metrics live in prom-client's default registry so each service's /metrics shows them with no wiring.
// Looked up before created: tests build several consumers in one process.
function counter(name: string, help: string, labelNames: string[]): Counter<string> {
  return (register.getSingleMetric(name) as Counter<string>) ?? new Counter({ name, help, labelNames });
}

export const messagingMetrics = {
  consumed: counter('yiyang_messages_consumed_total', 'Messages consumed, by outcome', ['topic', 'outcome']),
  retries: counter('yiyang_handler_retries_total', 'Handler attempts that failed and were retried', ['topic']),
  published: counter('yiyang_messages_published_total', 'Messages acknowledged by the broker', ['topic']),
  relayed: counter('yiyang_outbox_relayed_total', 'Outbox events published by the relay', ['collection']),
  handlerSeconds:
    (register.getSingleMetric('yiyang_handler_duration_seconds') as Histogram<string>) ??
    new Histogram({
      name: 'yiyang_handler_duration_seconds',
      help: 'Time spent in event handlers',
      labelNames: ['topic'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    }),
};
