import type { Collection } from 'mongoose';

/**
 * One `createIndex` per field, in turn. (One `createIndexes` command with several keys panics
 * FerretDB v1.24 — "slice bounds out of range" — and drops the connection.)
 */
export async function ensureIndexes(collection: Collection, fields: readonly string[]): Promise<void> {
  for (const field of fields) await collection.createIndex({ [field]: 1 });
}
