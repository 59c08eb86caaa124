/**
 * Gateway benchmark: what does the public door cost on an authenticated read? Five targets measured
 * in ONE run on this machine, each its own process:
 *
 *   hello     a raw Node `http` server answering a fixed JSON body (the baseline of the issue)
 *   direct    the registry's list endpoint GET /regions (the caller's region subtree), called with
 *             an internal token (what the gateway does on the caller's behalf)
 *   gateway   the same list through the gateway: GET /api/v1/regions with a
 *             user's access token — JWT check, session check, route matrix, rate limit, internal
 *             token, undici forwarding, security headers
 *   gatewayToStub  a second gateway process whose "registry" is the hello server: the same
 *             authenticated request, all gateway work, an upstream that costs nothing
 *   bareProxy a reference, not a product: 6 lines of node:http + an undici Pool forwarding to the
 *             hello server with no auth, no limits, no logs — the ceiling of ANY Node forwarder
 *             on this machine (two HTTP hops per request instead of one)
 *   gatewayToStubUnpipelined  gatewayToStub with UPSTREAM_READ_PIPELINING=1 (the A/B of pipelined
 *             reads, same run)
 *
 * Every target is loaded by two generators, one after the other, with the same connections:
 *   bombardier (primary) a native load generator (Go, fasthttp), pinned in bench/gateway/loadgen and
 *             installed by this script into ~/.cache/yiyang/bin when missing (needs `go`);
 *   autocannon (comparison) in this Node process, as before — on a 2-core machine it takes about a
 *             core of its own at the hello server's rate, which caps the single-process targets
 *             differently from the multi-process ones.
 * Per target and generator: saturation (BENCH_CONNECTIONS connections, req/s and p99) in
 * BENCH_ROUNDS rounds with the targets taking turns (median round reported, every round kept), then
 * a fixed rate (BENCH_RATE req/s: achieved req/s and p99). The headline is gateway→stub ÷ hello
 * at saturation with bombardier (target ≥ 0.25×); gateway ÷ direct shows the gateway's share with
 * the real registry behind it. Each saturation pass also records the CPU the target's processes
 * spent per request, how long the target waited for a core and what the rest of the machine used
 * (cpu.ts). Results: bench/results/gateway.json. A measurement, not a gate; the machine is shared,
 * so figures vary.
 *
 *   node -r @swc-node/register bench/gateway/run.ts
 * Env: BENCH_SECONDS (10)  BENCH_ROUNDS (3)  BENCH_CONNECTIONS (32)  BENCH_RATE (500)  BENCH_OUT (bench/results/gateway.json)
 *      BENCH_GENERATORS (bombardier,autocannon)  BENCH_TARGETS (all)  BOMBARDIER (path to a binary)
 *      BENCH_PROFILE_DIR (CPU profile of the gateway→stub process during its saturation pass;
 *      summarise with `node bench/gateway/profile-summary.cjs <file>`)
 */
import 'reflect-metadata';
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { cpus, homedir, loadavg } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { accountPass, type PassCpu } from './cpu';
import { mintInternalToken } from '@yiyang/service-kit';
import { freePort, ROOT, ROOT_ADMIN, spawnService, stopProcess } from '../../apps/gateway/src/testing/stack';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 32);
const RATE = Number(process.env['BENCH_RATE'] ?? 500);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 3);
const OUT = path.resolve(ROOT, process.env['BENCH_OUT'] ?? 'bench/results/gateway.json');
const SECRET = 'yiyang-local-development-internal-token-secret';
const GENERATORS = (process.env['BENCH_GENERATORS'] ?? 'bombardier,autocannon').split(',').map((g) => g.trim()) as Generator[];
const TARGETS = process.env['BENCH_TARGETS']?.split(',').map((t) => t.trim());
type Generator = 'bombardier' | 'autocannon';
/** Where to write a CPU profile of the gateway→stub process during its saturation pass (see cpu-profile.cjs). */
const PROFILE_DIR = process.env['BENCH_PROFILE_DIR'];
const PROFILE_ARGS = PROFILE_DIR ? ['-r', path.join(__dirname, 'cpu-profile.cjs')] : [];
const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} [bench] ${line}\n`);

const BARE_PROXY = `const { Pool } = require('undici'); const pool = new Pool(process.env.UPSTREAM, { connections: 64 }); require('node:http').createServer(async (req, res) => { const r = await pool.request({ method: req.method, path: req.url, headers: { authorization: req.headers.authorization ?? '' } }); const body = Buffer.from(await r.body.arrayBuffer()); res.writeHead(r.statusCode, { 'content-type': r.headers['content-type'], 'content-length': body.length }); res.end(body); }).listen(Number(process.env.PORT), '127.0.0.1');`;
// Content-Length like every service answer (Fastify sets it): the gateway passes such a body as one buffer.
const HELLO = `require('node:http').createServer((req, res) => { res.writeHead(200, { 'content-type': 'application/json', 'content-length': '17' }); res.end('{"hello":"world"}'); }).listen(Number(process.env.PORT), '127.0.0.1', () => process.stdout.write('ready\\n'));`;

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
  /** 2xx answers in the pass */
  requests: number;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

async function loadAutocannon(url: string, headers: Record<string, string>, seconds: number, rate?: number): Promise<Pass> {
  const result = await autocannon({ url, headers, connections: CONNECTIONS, duration: seconds, ...(rate ? { overallRate: rate } : {}) });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    requests: result.requests.total - result.non2xx,
    p50ms: result.latency.p50,
    p99ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

/** The pinned bombardier (bench/gateway/loadgen/go.mod), installed into the user's cache on first use. */
function bombardierBinary(): string {
  const configured = process.env['BOMBARDIER'];
  if (configured) return configured;
  const bin = path.join(process.env['XDG_CACHE_HOME'] ?? path.join(homedir(), '.cache'), 'yiyang', 'bin');
  const binary = path.join(bin, 'bombardier');
  if (existsSync(binary)) return binary;
  say(`installing bombardier (Go) into ${bin}`);
  mkdirSync(bin, { recursive: true });
  execFileSync('go', ['install', 'github.com/codesenberg/bombardier'], {
    cwd: path.join(ROOT, 'bench/gateway/loadgen'),
    env: { ...process.env, GOBIN: bin, GOFLAGS: '-mod=readonly' },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return binary;
}

interface BombardierResult {
  result: { timeTakenSeconds: number; req2xx: number; req1xx: number; req3xx: number; req4xx: number; req5xx: number; others: number; latency: { percentiles: Record<string, number> } };
}

async function loadBombardier(binary: string, url: string, headers: Record<string, string>, seconds: number, rate?: number): Promise<Pass> {
  const args = ['-c', String(CONNECTIONS), '-d', `${seconds}s`, '-t', '10s', '-l', '-p', 'r', '-o', 'j', ...(rate ? ['-r', String(rate)] : [])];
  for (const [name, value] of Object.entries(headers)) args.push('-H', `${name}: ${value}`);
  args.push(url);
  const out = await new Promise<string>((resolve, reject) =>
    execFile(binary, args, { maxBuffer: 1 << 20 }, (error, stdout) => (error ? reject(error) : resolve(stdout))),
  );
  const { result } = JSON.parse(out) as BombardierResult;
  const ms = (us: number | undefined) => Math.round((us ?? 0) / 10) / 100;
  return {
    requestsPerSecond: Math.round(result.req2xx / result.timeTakenSeconds),
    requests: result.req2xx,
    p50ms: ms(result.latency.percentiles['50']),
    p99ms: ms(result.latency.percentiles['99']),
    non2xx: result.req1xx + result.req3xx + result.req4xx + result.req5xx,
    errors: result.others,
    timeouts: 0,
  };
}

async function main(): Promise<void> {
  const children: ChildProcess[] = [];
  const gatewayChildren = new Map<string, ChildProcess>();
  const dbBase = `bench_gateway_${Date.now().toString(36)}`;
  try {
    say('starting hello, registry and gateway (each its own process)');
    const helloPort = await freePort();
    const hello = spawn(process.execPath, ['-e', HELLO], { env: { ...process.env, PORT: String(helloPort) }, stdio: 'ignore' });
    children.push(hello);
    const registry = await spawnService('registry', `${dbBase}_registry`);
    children.push(registry.child);
    const startGateway = async (registryUrl: string, env: Record<string, string> = {}) => {
      const port = await freePort();
      const child = spawn(process.execPath, [...PROFILE_ARGS, '-r', '@swc-node/register', 'apps/gateway/src/main.ts'], {
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
          ...env,
        },
        stdio: 'ignore',
      });
      children.push(child);
      const url = `http://127.0.0.1:${port}`;
      await waitHttp(`${url}/health/live`, child);
      gatewayChildren.set(url, child);
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
    // The same again with pipelined reads off (UPSTREAM_READ_PIPELINING=1): the A/B of that setting in every run.
    const unpipelinedGatewayUrl = await startGateway(`http://127.0.0.1:${helloPort}`, { UPSTREAM_READ_PIPELINING: '1' });

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

    // The processes that serve each target (the target first, then its upstream), for the CPU accounting.
    const gatewayPid = gatewayChildren.get(gatewayUrl)?.pid as number;
    const stubGatewayPid = gatewayChildren.get(stubGatewayUrl)?.pid as number;
    const targets: [string, string, Record<string, string>, number[]][] = [
      ['hello', `http://127.0.0.1:${helloPort}/`, {}, [hello.pid as number]],
      ['direct', `${registry.url}/regions`, internal, [registry.child.pid as number]],
      ['gateway', listUrl, auth, [gatewayPid, registry.child.pid as number]],
      ['gatewayToStub', `${stubGatewayUrl}/api/v1/regions`, auth, [stubGatewayPid, hello.pid as number]],
      ['bareProxy', `http://127.0.0.1:${bareProxyPort}/regions`, auth, [bareProxy.pid as number, hello.pid as number]],
      ['gatewayToStubUnpipelined', `${unpipelinedGatewayUrl}/api/v1/regions`, auth, [gatewayChildren.get(unpipelinedGatewayUrl)?.pid as number, hello.pid as number]],
    ];
    const bombardier = GENERATORS.includes('bombardier') ? bombardierBinary() : '';
    const load = (generator: Generator, url: string, headers: Record<string, string>, seconds: number, rate?: number) =>
      generator === 'bombardier' ? loadBombardier(bombardier, url, headers, seconds, rate) : loadAutocannon(url, headers, seconds, rate);
    type Runs = Record<string, { saturation: Pass & { cpu?: PassCpu }; saturationRounds: number[]; cpuRounds: (PassCpu | undefined)[]; fixedRate: Pass }>;
    const results = Object.fromEntries(GENERATORS.map((g) => [g, {} as Runs])) as Record<Generator, Runs>;
    const chosen = targets.filter(([name]) => !TARGETS || TARGETS.includes(name));
    for (const [, url, headers] of chosen) for (const generator of GENERATORS) await load(generator, url, headers, Math.min(SECONDS, 3)); // warm-up (JIT, pools, caches) — not recorded
    // Saturation in ROUNDS rounds, the targets taking turns inside each round: on a shared machine the
    // load from other work changes within minutes, and measuring each target once, one after the
    // other, compared targets under different conditions. Each target's figure is its median round.
    const rounds = Object.fromEntries(GENERATORS.map((g) => [g, {} as Record<string, (Pass & { cpu?: PassCpu })[]>])) as Record<Generator, Record<string, (Pass & { cpu?: PassCpu })[]>>;
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, url, headers, pids] of chosen) {
        for (const generator of GENERATORS) {
          // BENCH_PROFILE_DIR: the gateway→stub process profiles its first saturation pass.
          const profiled = PROFILE_DIR && round === 0 && name === 'gatewayToStub' && generator === GENERATORS[0] ? gatewayChildren.get(stubGatewayUrl) : undefined;
          profiled?.kill('SIGWINCH');
          const account = accountPass(pids);
          const pass = await load(generator, url, headers, SECONDS);
          const cpu = account(pass.requests);
          profiled?.kill('SIGWINCH');
          (rounds[generator][name] ??= []).push({ ...pass, cpu });
          const cpuNote = cpu ? ` | CPU µs/req ${cpu.usPerRequest.join(' + ')}, target on a core ${cpu.targetOnCpu} / waiting for one ${cpu.targetRunQueueWait}, others ${cpu.othersCores} cores, steal ${cpu.stealCores}` : '';
          say(`round ${round + 1}/${ROUNDS} ${name} [${generator}]: ${pass.requestsPerSecond} req/s p99 ${pass.p99ms} ms${cpuNote}`);
        }
      }
    }
    for (const [name, url, headers] of chosen) {
      for (const generator of GENERATORS) {
        const passes = rounds[generator][name];
        const saturation = [...passes].sort((a, b) => a.requestsPerSecond - b.requestsPerSecond)[Math.floor((passes.length - 1) / 2)];
        const fixedRate = await load(generator, url, headers, SECONDS, RATE);
        results[generator][name] = { saturation, saturationRounds: passes.map((p) => p.requestsPerSecond), cpuRounds: passes.map((p) => p.cpu), fixedRate };
        say(`${name} [${generator}]: saturation ${saturation.requestsPerSecond} req/s p99 ${saturation.p99ms} ms (median of ${passes.map((p) => p.requestsPerSecond).join(', ')}); at ${RATE} req/s → ${fixedRate.requestsPerSecond} req/s p99 ${fixedRate.p99ms} ms (non-2xx ${passes.reduce((n, p) => n + p.non2xx, 0) + fixedRate.non2xx}, errors ${passes.reduce((n, p) => n + p.errors, 0) + fixedRate.errors})`);
      }
    }
    const ratio = (runs: Runs, a: string, b: string) =>
      runs[a] && runs[b] ? Math.round((runs[a].saturation.requestsPerSecond / runs[b].saturation.requestsPerSecond) * 1000) / 1000 : null;
    const ratios = (runs: Runs) => ({
      gatewayToStubOverHello: ratio(runs, 'gatewayToStub', 'hello'),
      gatewayOverHello: ratio(runs, 'gateway', 'hello'),
      gatewayOverDirect: ratio(runs, 'gateway', 'direct'),
      bareProxyOverHello: ratio(runs, 'bareProxy', 'hello'),
      gatewayToStubOverBareProxy: ratio(runs, 'gatewayToStub', 'bareProxy'),
      gatewayToStubOverUnpipelined: ratio(runs, 'gatewayToStub', 'gatewayToStubUnpipelined'),
      // the same ratio within each round (the two passes ran minutes apart at most)
      gatewayToStubOverHelloByRound:
        runs['gatewayToStub'] && runs['hello'] ? runs['gatewayToStub'].saturationRounds.map((rps, i) => Math.round((rps / runs['hello'].saturationRounds[i]) * 1000) / 1000) : null,
    });
    const report = {
      at: new Date().toISOString(),
      machine: { cpus: cpus().length, loadAverage1m: loadavg()[0], note: 'shared machine; other helpers were running tests at the same time' },
      settings: { seconds: SECONDS, rounds: ROUNDS, connections: CONNECTIONS, fixedRate: RATE, generators: GENERATORS, request: 'GET /api/v1/regions (registry list of the caller\'s region subtree, authenticated)' },
      primary: GENERATORS[0],
      results,
      ratios: Object.fromEntries(GENERATORS.map((g) => [g, ratios(results[g])])),
      target: 'issue 7: an authenticated read through the gateway ≥ 0.25× the hello server — gatewayToStubOverHello measures the gateway itself (its upstream costs nothing); gatewayOverHello has the real registry (bound by its FerretDB reads) behind it; bareProxyOverHello is the ceiling of any Node forwarder here',
    };
    mkdirSync(path.dirname(OUT), { recursive: true });
    writeFileSync(OUT, `${JSON.stringify(report, null, 2)}\n`);
    for (const generator of GENERATORS) {
      const r = report.ratios[generator];
      say(`[${generator}] gateway→stub ÷ hello = ${r.gatewayToStubOverHello}× (target ≥ 0.25×), bare proxy ÷ hello = ${r.bareProxyOverHello}×, gateway→stub ÷ bare proxy = ${r.gatewayToStubOverBareProxy}×, pipelined ÷ unpipelined = ${r.gatewayToStubOverUnpipelined}×, gateway→registry ÷ direct = ${r.gatewayOverDirect}×, gateway→registry ÷ hello = ${r.gatewayOverHello}×`);
    }
    say(`→ ${path.relative(ROOT, OUT)}`);
  } finally {
    for (const child of children.reverse()) await stopProcess(child);
  }
}

main().catch((error) => {
  say(`could not run: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
