import multipart from '@fastify/multipart';
import type { FastifyInstance } from 'fastify';

/** A district roster of ~200k elders is ~40 MB as CSV; 200 MB leaves room for a city's. */
export const ROSTER_UPLOAD_LIMIT_BYTES = 200 * 1024 * 1024;

/**
 * Registers @fastify/multipart on the registry's Fastify instance, once, from the feature module's
 * init — so `runService` (main.ts) and `bootTestApp` (tests) both get it without changes to either.
 * Safe for other routes: the plugin only adds a content-type parser for multipart/form-data (which
 * merely marks the request; nothing is buffered) and request decorators. JSON routes keep Fastify's
 * 1 MB body limit; the roster route streams the file with its own limit (ROSTER_UPLOAD_LIMIT_BYTES).
 */
export async function ensureMultipart(instance: FastifyInstance): Promise<void> {
  if (instance.hasContentTypeParser('multipart/form-data')) return; // another feature registered it
  await instance.register(multipart, {
    limits: { fileSize: ROSTER_UPLOAD_LIMIT_BYTES, files: 1, fields: 10, parts: 20 },
    // Streaming mode: we read `req.file()` ourselves; nothing is attached to the body or saved to disk.
    attachFieldsToBody: false,
  });
}
