import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyReply, FastifyRequest } from 'fastify';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
};

/**
 * Serves the built console (dist/apps/console) from the gateway's own origin, so the browser needs
 * no CORS. Files that exist are sent (hashed assets cached for a year); any other path that is not
 * an API path gets index.html — the console's router takes it from there (SPA fallback). The folder
 * is looked up per request, so a console built after the gateway started is served without restart.
 */
export function consoleHandler(root: string) {
  const base = path.resolve(root);
  return async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const urlPath = decodeURIComponentSafe(req.url.split('?')[0]);
    if (urlPath === undefined || urlPath.startsWith('/api/') || urlPath === '/api') return notFound(reply);
    const candidate = path.resolve(base, `.${path.posix.normalize(urlPath)}`);
    if (candidate !== base && !candidate.startsWith(base + path.sep)) return notFound(reply);
    const file = (await isFile(candidate)) ? candidate : path.extname(urlPath) === '' ? path.join(base, 'index.html') : undefined;
    if (!file || !(await isFile(file))) return notFound(reply);
    const isIndex = path.basename(file) === 'index.html';
    return reply
      .header('content-type', TYPES[path.extname(file)] ?? 'application/octet-stream')
      .header('cache-control', isIndex ? 'no-cache' : file.includes(`${path.sep}assets${path.sep}`) ? 'public, max-age=31536000, immutable' : 'public, max-age=3600')
      .send(createReadStream(file));
  };
}

function notFound(reply: FastifyReply) {
  return reply.status(404).header('content-type', 'application/json; charset=utf-8').send(JSON.stringify({ code: 'GATEWAY.ROUTE_NOT_FOUND', message: 'Not found', messageZh: '页面或接口不存在' }));
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

function decodeURIComponentSafe(s: string): string | undefined {
  try {
    const d = decodeURIComponent(s);
    return d.includes('\0') ? undefined : d;
  } catch {
    return undefined;
  }
}
