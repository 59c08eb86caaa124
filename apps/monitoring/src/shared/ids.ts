import { createHash } from 'node:crypto';

/**
 * A deterministic id: the same inputs give the same id on every replica and every redelivery,
 * so a unique `_id` turns "raise this alert" into an idempotent insert.
 */
export function stableId(prefix: string, ...parts: (string | number)[]): string {
  return `${prefix}_${createHash('sha256').update(parts.join('|')).digest('hex').slice(0, 26)}`;
}
