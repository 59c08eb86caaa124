export interface RetryPolicy {
  /** Attempts before a message is dead-lettered (the first try counts). */
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { maxAttempts: 5, initialBackoffMs: 200, maxBackoffMs: 5_000 };

export interface MessagingOptions {
  /** The producing/consuming service, e.g. `registry`. Goes into every envelope's `producer`. */
  service: string;
  /** Comma-separated `host:port` list. */
  brokers: string[];
  /** Consumer group prefix; a handler group `g` consumes as `<groupPrefix>.<g>`. Default `yiyang.<service>`. */
  groupPrefix?: string;
  retry?: Partial<RetryPolicy>;
  /** Partitions one consumer works on at once; each partition is still handled strictly in order. */
  partitionsConsumedConcurrently?: number;
  /** A new consumer group starts from the earliest offset, so read models see the whole history. */
  fromBeginning?: boolean;
}

export function parseBrokers(value: string | undefined, fallback = '127.0.0.1:9092'): string[] {
  return (value ?? fallback)
    .split(',')
    .map((b) => b.trim())
    .filter(Boolean);
}
