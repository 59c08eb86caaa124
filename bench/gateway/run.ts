/**
 * Gateway benchmark: what does the public door cost on an authenticated read? Three targets measured
 * in ONE run on this machine, each its own process, each loaded by autocannon from this process:
 *
 *   hello     a raw Node `http` server answering a fixed JSON body (the baseline of the issue)
 *   direct    the registry's list endpoint GET /regions (the caller's region subtree), called with
 *             an internal token (what the gateway does on the caller's behalf)
 *   gateway   the same list through the gateway: GET /api/v1/regions with a
 *             user's access token — JWT check, session check, route matrix, rate limit, internal
 *             token, undici forwarding, security headers
 *
 *   gatewayToStub  a second gateway process whose "registry" is the hello server: the same
 *             authenticated request, all gateway work, an upstream that costs nothing
 *   bareProxy a reference, not a product: 6 lines of node:http + an undici Pool forwarding to the
 *             hello server with no auth, no limits, no logs — the ceiling of ANY Node forwarder
 *             on this machine (two HTTP hops per request instead of one)
 *
 * Two passes per target: saturation (as fast as it goes, BENCH_CONNECTIONS connections, req/s and
 * p99) and a fixed rate (BENCH_RATE req/s: achieved req/s and p99). The headline is gateway ÷ hello
 * at saturation (target ≥ 0.25×); gateway ÷ direct shows the gateway's own share. Results:
 * bench/results/gateway.json. A measurement, not a gate; the machine is shared, so figures vary.
 *
 *   node -r @swc-node/register bench/gateway/run.ts
 * Env: BENCH_SECONDS (10)  BENCH_CONNECTIONS (32)  BENCH_RATE (500)  BENCH_OUT (bench/results/gateway.json)
 */
import 'reflect-metadata';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { mintInternalToken } from '@yiyang/service-kit';
import { freePort, ROOT, ROOT_ADMIN, spawnService, stopProcess } from '../../apps/gateway/src/testing/stack';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const RATE = Number(process.env['BENCH_RATE'] ?? 500);
const OUT = path.resolve(ROOT, process.env['BENCH_OUT'] ?? 'bench/results/gateway.json');
const SECRET = 'yiyang-local-development-internal-token-secret';
const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} [bench] ${line}\n`);

const BARE_PROXY = `const { Pool } = require('undici'); const pool = new Pool(process.env.UPSTREAM, { connections: 64 }); require('node:http').createServer(async (req, res) => { const r = await pool.request({ method: req.method, path: req.url, headers: { authorization: req.headers.authorization ?? '' } }); const body = Buffer.from(await r.body.arrayBuffer()); res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'], 'content-length': body.length }); res.end(body); }).listen(Number(process.env.PORT), '127.0.0.1');`;
const HELLO = `require('node:http').createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"hello":"world"}'); }).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));`;

async function waitHttp(url: string, child: ChildProcess, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`process for ${url} exited`);
    try {
      if ((await fetch(url)).status < 500) return;
    } catch {
      /* not yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`${url} not ready`);
}

interface Pass {
  requestsPerSecond: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function load(url: string, headers: Record<string, string>, rate?: number): Promise<Pass> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: SECONDS, ...(rate ? { overallRate: rate } : {}) });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const dbBase = `bench_gateway_${Date.now().toString(36)}`;
  try {
    say('starting hello, registry and gateway (each its own process)');
    const helloPort = await freePort();
    const hello = spawn(process.execPath, ['-e', HELLO], { env: { ...process.env, PORT: String(helloPort) }, stdio: 'ignore' });
    children.push(hello);
    const registry = await spawnService('registry', `${dbBase}_registry`);
    children.push(registry.child);
    const startGateway = async (registryUrl: string) => {
      const port = await freePort();
      const child = spawn(process.execPath, ['-r', '@swc-node/register', 'apps/gateway/src/main.ts'], {
        cwd: ROOT,
        env: {
          ...process.env,
          PORT: String(port),
          HOST: '127.0.0.1',
          MONGO_DB: dbBase,
          LOG_LEVEL: 'warn',
          REGISTRY_URL: registryUrl,
          YIYANG_ADMIN_USERNAME: ROOT_ADMIN.username,
          YIYANG_ADMIN_PASSWORD: ROOT_ADMIN.password,
          YIYANG_ADMIN_REGION_CODE: '130200000000',
          RATE_LIMIT_USER_PER_MINUTE: '100000000',
          RATE_LIMIT_IP_PER_MINUTE: '100000000',
          ACCESS_TOKEN_TTL_SECONDS: '3600',
        },
        stdio: 'ignore',
      });
      children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitHttp(`${url}/health/live`, child);
      return url;
    };
    await waitHttp(`http://127.0.0.1:${helloPort}/`, hello);
    const bareProxyPort = await freePort();
    const bareProxy = spawn(process.execPath, ['-e', BARE_PROXY], { cwd: ROOT, env: { ...process.env, PORT: String(bareProxyPort), UPSTREAM: `http://127.0.0.1:${helloPort}` }, stdio: 'ignore' });
    children.push(bareProxy);
    await waitHttp(`http://127.0.0.1:${bareProxyPort}/`, bareProxy);
    const gatewayUrl = await startGateway(registry.url);
    // The same gateway code in front of an upstream that answers instantly (the hello server standing
    // in for the registry): what the gateway itself costs, without FerretDB's reads in the way.
    const stubGatewayUrl = await startGateway(`http://127.0.0.1:${helloPort}`);

    const login = await fetch(`${gatewayUrl}/api/v1/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(ROOT_ADMIN) });
    if (!login.ok) throw new Error(`login ${login.status} ${await login.text()}`);
    const { accessToken } = (await login.json()) as { accessToken: string };
    const auth = { authorization: `Bearer ${accessToken}` };
    for (const [code, name] of [['130203000000', '路北区'], ['130203001000', '乔屯街道'], ['130203001001', '文北社区'], ['130203002000', '大里街道']]) {
      const put = await fetch(`${gatewayUrl}/api/v1/regions/${code}`, { method: 'PUT', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ name, centre: { lat: 39.64, lng: 118.17 } }) });
      if (!put.ok) throw new Error(`region ${code}: ${put.status} ${await put.text()}`);
    }
    const listUrl = `${gatewayUrl}/api/v1/regions`;
    const check = await fetch(listUrl, { headers: auth });
    const items = ((await check.json()) as unknown[]).length;
    if (!check.ok || items === 0) throw new Error(`the list answered ${check.status} with ${items} items`);
    // The internal token lives 60 s; the direct pass runs within that.
    const internal = { authorization: `Bearer ${mintInternalToken(SECRET, { userId: 'bench', role: 'civil_affairs_admin', regionCode: '130200000000' }, 600)}` };

    const targets: [string, string, Record<string, string>][] = [
      ['hello', `http://127.0.0.1:${helloPort}/`, {}],
      ['direct', `${registry.url}/regions`, internal],
      ['gateway', listUrl, auth],
      ['gatewayToStub', `${stubGatewayUrl}/api/v1/regions`, auth],
      ['bareProxy', `http://127.0.0.1:${bareProxyPort}/regions`, auth],
    ];
    const results: Record<string, { saturation: Pass; fixedRate: Pass }> = {};
    for (const [name, url, headers] of targets) {
      await load(url, headers); // warm-up (JIT, pools, caches) — not recorded
      const saturation = await load(url, headers);
      const fixedRate = await load(url, headers, RATE);
      results[name] = { saturation, fixedRate };
      say(`${name}: saturation ${saturation.requestsPerSecond} req/s p99 ${saturation.p99ms} ms; at ${RATE} req/s → ${fixedRate.requestsPerSecond} req/s p99 ${fixedRate.p99ms} ms (non-2xx ${saturation.non2xx + fixedRate.non2xx})`);
    }
    const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage1m: loadavg()[0], note: 'shared machine; other helpers were running tests at the same time' },
      settings: { seconds: SECONDS, connections: CONNECTIONS, fixedRate: RATE, request: 'GET /api/v1/regions (registry list of the caller\'s region subtree, authenticated)' },
      results,
      gatewayOverHello: ratio(results['gateway'].saturation.requestsPerSecond, results['hello'].saturation.requestsPerSecond),
      gatewayOverDirect: ratio(results['gateway'].saturation.requestsPerSecond, results['direct'].saturation.requestsPerSecond),
      gatewayToStubOverHello: ratio(results['gatewayToStub'].saturation.requestsPerSecond, results['hello'].saturation.requestsPerSecond),
      bareProxyOverHello: ratio(results['bareProxy'].saturation.requestsPerSecond, results['hello'].saturation.requestsPerSecond),
      gatewayToStubOverBareProxy: ratio(results['gatewayToStub'].saturation.requestsPerSecond, results['bareProxy'].saturation.requestsPerSecond),
      target: 'issue 7: an authenticated read through the gateway ≥ 0.25× the hello server (gatewayOverHello with the registry behind it, gatewayToStubOverHello for the gateway alone); bareProxyOverHello is the ceiling of any Node forwarder here',
    };
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
    say(`gateway→registry ÷ hello = ${report.gatewayOverHello}×, gateway→registry ÷ direct = ${report.gatewayOverDirect}×, gateway→stub ÷ hello = ${report.gatewayToStubOverHello}× (target ≥ 0.25×), bare proxy ÷ hello = ${report.bareProxyOverHello}× → ${path.relative(ROOT, OUT)}`);
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
  }
}

main().catch((error) => {
  say(`could not run: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
