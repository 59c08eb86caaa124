import { Kafka, logLevel, type LogEntry } from 'kafkajs';
import type { Logger } from 'pino';

/** kafkajs logs through our pino logger so broker trouble shows up in the service's JSON log. */
export function createKafka(clientId: string, brokers: string[], log: Logger): Kafka {
  const toPino = (level: logLevel) => (entry: LogEntry) => {
    const { message, ...extra } = entry.log;
    const fields = { namespace: entry.namespace, ...extra };
    // kafkajs warns that bounded retries could break exactly-once for the idempotent producer. We
    // promise at-least-once plus idempotent consumers: a send that gives up is retried by the
    // outbox relay, so the bound is deliberate and the warning is not news.
    if (message.startsWith('Limiting retries for the idempotent producer')) return;
    if (level === logLevel.ERROR) log.error(fields, message);
    else if (level === logLevel.WARN) log.warn(fields, message);
    else if (level === logLevel.INFO) log.debug(fields, message);
    else log.trace(fields, message);
  };
  return new Kafka({
    clientId,
    brokers,
    logLevel: logLevel.WARN,
    logCreator: () => (entry) => toPino(entry.level)(entry),
    connectionTimeout: 5_000,
    requestTimeout: 30_000,
    retry: { initialRetryTime: 300, retries: 8 },
  });
}
