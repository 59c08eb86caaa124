import type { Collection, Connection } from 'mongoose';

/**
 * Is the database FerretDB (ADR 0001)? Its SQLite indexes answer only top-level string equality and
 * `$in`: an index on an array field (equality on an element) or one meant for a prefix regex cannot
 * narrow a query there, and only costs every insert (each index re-reads the row's JSON).
 */
export async function isFerretDb(connection: Connection): Promise<boolean> {
  const info = (await (connection.db as NonNullable<Connection['db']>).admin().command({ buildInfo: 1 })) as { ferretdbVersion?: string };
  return typeof info.ferretdbVersion === 'string';
}

/**
 * One `createIndex` per field, in turn. (One `createIndexes` command with several keys panics
 * FerretDB v1.24 — "slice bounds out of range" — and drops the connection.)
 */
export async function ensureIndexes(collection: Collection, fields: readonly string[]): Promise<void> {
  for (const field of fields) await collection.createIndex({ [field]: 1 });
}

/** Drops single-field indexes if they exist (no error when they do not). */
export async function dropIndexes(collection: Collection, fields: readonly string[]): Promise<void> {
  const existing = new Set((await collection.indexes().catch(() => [])).map((i) => i.name));
  for (const field of fields) if (existing.has(`${field}_1`)) await collection.dropIndex(`${field}_1`);
}
