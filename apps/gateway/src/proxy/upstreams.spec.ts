import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ConfigService } from '@nestjs/config';
import type { Dispatcher } from 'undici';
import { Upstreams } from './upstreams';

/**
 * Pipelined reads (Upstreams.dispatchRead) against a real Node HTTP server — what every service
 * runs on. The server answers `/slow` never and anything else at once, and tells which connection
 * carried each request, so the tests see where a read travelled and what it waited for.
 */
describe('Upstreams: pipelined reads', () => {
  let server: Server;
  let url: string;
  const seen: { path: string; socket: number }[] = [];
  const held: ServerResponse[] = [];
  const sockets = new WeakMap<Socket, number>();
  let nextSocket = 0;
  let upstreams: Upstreams | undefined;

  beforeAll(async () => {
    server = createServer((req, res) => {
      let id = sockets.get(req.socket);
      if (id === undefined) sockets.set(req.socket, (id = ++nextSocket));
      seen.push({ path: req.url as string, socket: id });
      if (req.url === '/slow') {
        held.push(res);
        return;
      }
      const body = JSON.stringify({ path: req.url });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterEach(async () => {
    await upstreams?.onModuleDestroy();
    upstreams = undefined;
    seen.length = 0;
    held.length = 0;
    server.closeAllConnections();
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const gateway = (pipelineAbove: number) =>
    (upstreams = new Upstreams(
      new ConfigService({
        REGISTRY_URL: url,
        DISPATCH_URL: url,
        BILLING_URL: url,
        MONITORING_URL: url,
        UPSTREAM_CONNECTIONS: 8,
        UPSTREAM_TIMEOUT_MS: 400,
        UPSTREAM_READ_PIPELINING: 4,
        UPSTREAM_PIPELINE_ABOVE: pipelineAbove,
      }),
    ));

  /** One read as the direct read path makes it: settles with the status, or the error undici ended it with. */
  const read = (up: Upstreams, path: string) =>
    new Promise<{ status?: number; code?: string; ms: number }>((resolve) => {
      const started = Date.now();
      let status = 0;
      const handler: Dispatcher.DispatchHandler = {
        onConnect: () => undefined,
        onHeaders: (statusCode) => ((status = statusCode), true),
        onData: () => true,
        onComplete: () => {
          up.readEnded('registry');
          resolve({ status, ms: Date.now() - started });
        },
        onError: (error) => {
          up.readEnded('registry');
          resolve({ code: (error as { code?: string }).code, ms: Date.now() - started });
        },
      };
      up.dispatchRead('registry', { method: 'GET', path, headers: {}, headersTimeout: up.timeoutMs, bodyTimeout: up.timeoutMs }, handler);
    });

  /** A warm connection (a cold pool opens one per request while connecting) carrying `/slow`. */
  const slowInFlight = async (up: Upstreams) => {
    expect((await read(up, '/warm')).status).toBe(200);
    seen.length = 0;
    const slow = read(up, '/slow');
    // undici checks an idle kept-alive connection for a close during one turn of the event loop
    // before writing on it again; once the slow read has arrived it is in flight, as under load.
    while (seen.length === 0) await new Promise((r) => setTimeout(r, 5));
    return { slow }; // wrapped: an async function returning the promise would wait for it
  };

  it('under load, reads written behind one that never answers are re-sent on a new connection and answered; only the slow one times out', async () => {
    const up = gateway(0);
    const { slow: slowRead } = await slowInFlight(up);
    const [slow, ...fast] = await Promise.all([slowRead, read(up, '/a'), read(up, '/b'), read(up, '/c')]);

    expect(slow.code).toBe('UND_ERR_HEADERS_TIMEOUT');
    expect(fast.map((r) => r.status)).toEqual([200, 200, 200]);
    // They were pipelined behind the slow read (same connection, answers held back in order) …
    const first = seen.filter((s) => s.path !== '/slow' && s.socket === seen[0].socket).map((s) => s.path);
    expect(first).toEqual(['/a', '/b', '/c']);
    // … and, when it timed out, sent again on another connection rather than failed with it.
    expect(seen.filter((s) => s.path !== '/slow' && s.socket !== seen[0].socket).map((s) => s.path)).toEqual(['/a', '/b', '/c']);
    for (const r of fast) expect(r.ms).toBeLessThan(up.timeoutMs * 3);
  });

  it('below the threshold each read has its own connection: a slow read makes no other wait', async () => {
    const up = gateway(4);
    const { slow } = await slowInFlight(up);
    const fast = await Promise.all([read(up, '/a'), read(up, '/b')]);

    expect(fast.map((r) => r.status)).toEqual([200, 200]);
    for (const r of fast) expect(r.ms).toBeLessThan(up.timeoutMs);
    expect(seen.filter((s) => s.path !== '/slow').every((s) => s.socket !== seen[0].socket)).toBe(true);
    expect((await slow).code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });

  it('UPSTREAM_READ_PIPELINING=1 never pipelines', async () => {
    const up = new Upstreams(new ConfigService({ REGISTRY_URL: url, DISPATCH_URL: url, BILLING_URL: url, MONITORING_URL: url, UPSTREAM_CONNECTIONS: 8, UPSTREAM_TIMEOUT_MS: 400, UPSTREAM_READ_PIPELINING: 1, UPSTREAM_PIPELINE_ABOVE: 0 }));
    upstreams = up;
    expect(up.readPools).toBeUndefined();
    const { slow } = await slowInFlight(up);
    const fast = await read(up, '/a');
    expect(fast.status).toBe(200);
    expect(fast.ms).toBeLessThan(up.timeoutMs);
    expect((await slow).code).toBe('UND_ERR_HEADERS_TIMEOUT');
  });
});
