import type { IHeaders, KafkaMessage } from 'kafkajs';
import { deadLetterTopicName } from '@yiyang/contracts';
import type { OutgoingRecord } from './publisher';

export type DeadLetterReason = 'SCHEMA' | 'HANDLER';

/** The original record, untouched, plus where it came from and why it was given up on. */
export function deadLetterRecord(
  source: { topic: string; partition: number; message: KafkaMessage },
  reason: DeadLetterReason,
  error: unknown,
  attempts: number,
  group: string,
): OutgoingRecord {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(source.message.headers ?? ({} as IHeaders))) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.map(String).join(',') : String(value);
  }
  const message = error instanceof Error ? error.message : String(error);
  Object.assign(headers, {
    'yiyang-dlq-reason': reason,
    'yiyang-dlq-error': message.slice(0, 2_000),
    'yiyang-dlq-original-topic': source.topic,
    'yiyang-dlq-original-partition': String(source.partition),
    'yiyang-dlq-original-offset': source.message.offset,
    'yiyang-dlq-attempts': String(attempts),
    'yiyang-dlq-consumer-group': group,
    'yiyang-dlq-at': new Date().toISOString(),
  });
  return {
    topic: deadLetterTopicName(source.topic),
    key: source.message.key?.toString() ?? '',
    value: source.message.value?.toString() ?? '',
    headers,
  };
}
