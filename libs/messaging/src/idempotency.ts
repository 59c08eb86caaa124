import type { Collection, Document, OptionalId } from 'mongodb';

/**
 * Consumers are at-least-once, so every effect must be idempotent by construction. The rule:
 * derive the effect's id from the event that caused it, and let a unique index (`_id`) refuse
 * the second copy. `effectId(envelope.eventId, 'charge')` is the same on every redelivery.
 */
export function effectId(eventId: string, effect: string): string {
  return `${effect}:${eventId}`;
}

export function isDuplicateKeyError(error: unknown): boolean {
  const e = error as { code?: number; message?: string; writeErrors?: { code?: number }[] } | undefined;
  if (e?.code === 11000) return true;
  // FerretDB v1 reports a unique-index violation caused by an UPDATE as InternalError (code 1)
  // carrying SQLite's message, where MongoDB says 11000 (docs/adr/0001-local-database.md).
  if (e?.code === 1 && /UNIQUE constraint failed/.test(e.message ?? '')) return true;
  return e?.writeErrors?.length ? e.writeErrors.every((w) => w.code === 11000) : false;
}

/**
 * Inserts a document whose `_id` is a deterministic effect id. Returns false when it was already
 * there — the event was delivered before and its effect already stored, so the caller skips.
 */
export async function insertOnce<T extends Document & { _id: string }>(collection: Collection<T>, doc: T): Promise<boolean> {
  try {
    await collection.insertOne(doc as OptionalId<T> as never);
    return true;
  } catch (error) {
    if (isDuplicateKeyError(error)) return false;
    throw error;
  }
}
