/**
 * Property-based fuzzing of the public API: every operation in the merged OpenAPI document
 * (/api/docs/openapi.json) gets FUZZ_RUNS generated requests (fast-check; default 1,000) — path
 * parameters from real ids and hostile strings, documented and undocumented query parameters,
 * bodies shaped by the documented schema mixed with arbitrary JSON, every role's token, none, or a
 * forged one — against the gateway with the REAL services behind it (spawned as processes, real
 * Kafka and database). Properties: no 5xx; every JSON response matches its documented schema (error
 * bodies the public error shape); no status the operation does not document.
 *
 *   node -r @swc-node/register tools/fuzz/run.ts
 * Env: FUZZ_RUNS (1000; e.g. 50 for a quick run)  FUZZ_SEED (42)  FUZZ_CONCURRENCY (6)
 *      FUZZ_ONLY (substrings of "METHOD /path", comma-separated)  FUZZ_SERVICES (registry,dispatch,billing,monitoring)
 *      FUZZ_SLOW_MS (5000: a slower answer counts as a failure — a hang must not stall the run)
 *      FUZZ_OUT (bench/results/fuzz-gateway.json)
 * Exit code 1 when a property fails (the report lists the first failing requests per operation).
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { Pool } from 'undici';
import { seedScenario } from '../../apps/gateway/src/testing/scenario';
import { ROOT, startStack } from '../../apps/gateway/src/testing/stack';
import { UPSTREAMS, type Upstream } from '../../apps/gateway/src/proxy/routing';
import { arbitraryFor, validate, type Components, type Schema } from './schema';

process.env['KAFKAJS_NO_PARTITIONER_WARNING'] ??= '1';
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 1_000);
const SEED = Number(process.env['FUZZ_SEED'] ?? 42);
const CONCURRENCY = Number(process.env['FUZZ_CONCURRENCY'] ?? 6);
const ONLY = process.env['FUZZ_ONLY'];
const SERVICES = (process.env['FUZZ_SERVICES']?.split(',') ?? [...UPSTREAMS]) as Upstream[];
const SLOW_MS = Number(process.env['FUZZ_SLOW_MS'] ?? 5_000);
const OUT = path.resolve(ROOT, process.env['FUZZ_OUT'] ?? 'bench/results/fuzz-gateway.json');
const say = (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} [fuzz] ${line}\n`);

interface Operation {
  method: string;
  path: string;
  parameters?: { name: string; in: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

interface Generated {
  path: string;
  query: [string, string][];
  token: string | undefined;
  body: { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string; text: string } | undefined;
  lang: string;
}

interface OpReport {
  operation: string;
  requests: number;
  statuses: Record<string, number>;
  failures: number;
  /** Answers slower than FUZZ_SLOW_MS: reported with the request, not a property failure (a hang becomes a 504, which is). */
  slow: number;
  seconds: number;
  p99ms: number;
  maxMs: number;
  examples: { request: Generated; status: number; ms: number; problem: string; body: string }[];
  slowExamples: { request: Generated; status: number; ms: number }[];
}

async function main(): Promise<void> {
  const started = Date.now();
  const dbBase = `fuzz_${Date.now().toString(36)}`;
  say(`starting the gateway with ${SERVICES.join(', ')} (databases ${dbBase}_*)`);
  const stack = await startStack({
    services: SERVICES,
    required: ['registry'],
    dbBase,
    // Upstream timeout below the client's and the slow threshold's sum, so a hanging service answers 504 (and is reported) instead of stalling the run.
    gatewayEnv: { UPSTREAM_TIMEOUT_MS: String(Math.max(SLOW_MS * 2, 2_000)), RATE_LIMIT_USER_PER_MINUTE: '10000000', RATE_LIMIT_IP_PER_MINUTE: '10000000', RATE_LIMIT_LOGIN_PER_MINUTE: '10000000', ACCESS_TOKEN_TTL_SECONDS: '3600' },
  });
  // Interrupted (Ctrl-C, a CI timeout): stop the spawned services too — the partial report is already on disk.
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      say(`${signal}: stopping the services`);
      // at once: the in-process gateway's own shutdown hook ends this process right after
      for (const service of Object.values(stack.services)) service.child.kill('SIGTERM');
      void stack.stop().finally(() => process.exit(130));
    });
  }
  for (const [name, reason] of Object.entries(stack.missing)) say(`${name} did not start, its operations are not fuzzed: ${reason?.slice(0, 200)}`);
  let pool = new Pool(stack.url, { connections: CONCURRENCY * 2 });
  try {
    const scenario = await seedScenario(stack.url, `F${Date.now().toString(36).toUpperCase()}`);
    await new Promise((r) => setTimeout(r, 2_500)); // one OpenAPI refresh after the services came up
    const doc = (await (await fetch(`${stack.url}/api/docs/openapi.json`)).json()) as { paths: Record<string, Record<string, Operation>>; components: { schemas: Components } };
    const components = doc.components.schemas;
    const operations: Operation[] = [];
    for (const [p, item] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(item)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        if (ONLY && !ONLY.split(',').some((only) => `${method.toUpperCase()} ${p}`.includes(only.trim()))) continue;
        operations.push({ ...op, method: method.toUpperCase(), path: p });
      }
    }
    say(`${operations.length} operations × ${RUNS} requests (seed ${SEED}, ${CONCURRENCY} at a time)`);

    const sides = [scenario.lubei, scenario.lunan];
    const tokens = [scenario.root, ...sides.flatMap((s) => Object.values(s.tokens))];
    const ids = sides.flatMap((s) => [s.elderId, s.providerId, s.caregiverId, s.facilityId]).concat(['130203000000', '130203001001', '130202000000', 'MEAL_DELIVERY', 'root']);
    const tokenArb = fc.oneof({ arbitrary: fc.constantFrom(...tokens), weight: 8 }, { arbitrary: fc.constantFrom(undefined, 'garbage', `${tokens[0]}x`), weight: 1 });
    // Path tricks sent exactly as written (already encoded); everything else is percent-encoded.
    const RAW_SEGMENTS = ['..', '%2e%2e', '%2F', '%00'];
    const segmentArb = fc.oneof({ arbitrary: fc.constantFrom(...ids), weight: 3 }, { arbitrary: fc.string({ minLength: 1, maxLength: 30 }), weight: 2 }, { arbitrary: fc.constantFrom(...RAW_SEGMENTS, 'x'.repeat(300), '老人'), weight: 1 });

    const reports: OpReport[] = [];
    const queue = [...operations];
    const writeReport = (final: boolean) => {
      const failures = reports.reduce((n, r) => n + r.failures, 0);
      const requests = reports.reduce((n, r) => n + r.requests, 0);
      const summary = {
        at: new Date().toISOString(),
        complete: final,
        seed: SEED,
        runsPerOperation: RUNS,
        slowMs: SLOW_MS,
        operations: `${reports.length} of ${operations.length}`,
        requests,
        failures,
        slow: reports.reduce((n, r) => n + r.slow, 0),
        fiveHundreds: reports.reduce((n, r) => n + Object.entries(r.statuses).filter(([st]) => Number(st) >= 500).reduce((m, [, c]) => m + c, 0), 0),
        noResponse: reports.reduce((n, r) => n + (r.statuses['0'] ?? 0), 0),
        seconds: Math.round((Date.now() - started) / 1000),
        servicesFuzzed: Object.keys(stack.services),
        servicesMissing: Object.keys(stack.missing),
        reports: [...reports].sort((a, b) => a.operation.localeCompare(b.operation)),
      };
      mkdirSync(path.dirname(OUT), { recursive: true });
      writeFileSync(OUT, `${JSON.stringify(summary, null, 2)}\n`);
      return summary;
    };
    const inFlight = new Map<string, { done: number; since: number }>();
    const heartbeat = setInterval(() => {
      const now = Date.now();
      const busy = [...inFlight].map(([label, p]) => `${label} ${p.done}/${RUNS} (${Math.round((now - p.since) / 1000)} s)`);
      say(`${reports.length}/${operations.length} done; in flight: ${busy.join(', ') || 'none'}`);
    }, 30_000);
    heartbeat.unref();
    const worker = async () => {
      for (let op = queue.shift(); op; op = queue.shift()) {
        reports.push(await fuzzOperation(op));
        writeReport(false); // a partial report survives an interrupted run
      }
    };

    const fuzzOperation = async (op: Operation): Promise<OpReport> => {
      const label = `${op.method} ${op.path}`;
      const pathParams = [...op.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
      const bodySchema = op.requestBody?.content?.['application/json']?.schema;
      const hasBody = op.method !== 'GET' && op.method !== 'DELETE';
      const generator: fc.Arbitrary<Generated> = fc.record({
        path: fc.tuple(...pathParams.map(() => segmentArb), fc.constant('')).map((values) => {
          let out = op.path;
          pathParams.forEach((name, i) => {
            const value = String(values[i]);
            out = out.replace(`{${name}}`, () => (RAW_SEGMENTS.includes(value) ? value : encodeURIComponent(value)));
          });
          return out;
        }),
        query: fc.tuple(
          ...queryParams.map((p) => fc.option(arbitraryFor(p.schema, components).map((v) => [p.name, typeof v === 'string' ? v : JSON.stringify(v)] as [string, string]), { freq: 2 })),
          fc.option(fc.tuple(fc.constantFrom('reveal', 'page', 'pageSize', 'sort', '$where', 'regionCode'), fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('true', '-1', '0', '1e9', '[]'))), { freq: 3 }),
        ).map((pairs) => pairs.filter((x): x is [string, string] => x !== null)),
        token: tokenArb,
        body: hasBody
          ? fc.oneof(
              { arbitrary: arbitraryFor(bodySchema, components).map((value) => ({ kind: 'json' as const, value })), weight: 8 },
              { arbitrary: fc.constantFrom({ kind: 'raw' as const, contentType: 'text/plain', text: 'hello' }, { kind: 'raw' as const, contentType: 'application/json', text: '{"a":' }, { kind: 'raw' as const, contentType: 'application/xml', text: '<a/>' }), weight: 1 },
              { arbitrary: fc.constant(undefined), weight: 1 },
            )
          : fc.constant(undefined),
        lang: fc.constantFrom('zh-CN', 'en', 'en-US,en;q=0.9', ''),
      });
      const report: OpReport = { operation: label, requests: 0, statuses: {}, failures: 0, slow: 0, seconds: 0, p99ms: 0, maxMs: 0, examples: [], slowExamples: [] };
      const progress = { done: 0, since: Date.now() };
      inFlight.set(label, progress);
      const latencies: number[] = [];
      for (const g of fc.sample(generator, { numRuns: RUNS, seed: SEED })) {
        const qs = g.query.length ? `?${g.query.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&')}` : '';
        const headers: Record<string, string> = {};
        if (g.token) headers['authorization'] = `Bearer ${g.token}`;
        if (g.lang) headers['accept-language'] = g.lang;
        let body: string | undefined;
        if (g.body?.kind === 'json') {
          headers['content-type'] = 'application/json';
          body = JSON.stringify(g.body.value ?? null);
        } else if (g.body?.kind === 'raw') {
          headers['content-type'] = g.body.contentType;
          body = g.body.text;
        }
        let status = 0;
        let text = '';
        let contentType = '';
        const t0 = performance.now();
        try {
          // One deadline for the whole exchange: whatever hangs (a service, the gateway, the client's
          // own connection pool), the request is recorded as unanswered and the run moves on.
          const res = await pool.request({ method: op.method as 'GET', path: `${g.path}${qs}`, headers, body, signal: AbortSignal.timeout(SLOW_MS * 4 + 5_000) });
          status = res.statusCode;
          contentType = String(res.headers['content-type'] ?? '');
          text = await res.body.text();
        } catch (error) {
          text = (error as Error).message;
          if ((error as Error).name === 'TimeoutError' || (error as { code?: string }).code === 'UND_ERR_ABORTED') {
            // a fresh pool, so a wedged connection cannot hold up the following requests
            const old = pool;
            pool = new Pool(stack.url, { connections: CONCURRENCY * 2 });
            void old.destroy().catch(() => undefined);
          }
        }
        const ms = Math.round(performance.now() - t0);
        latencies.push(ms);
        progress.done++;
        report.requests++;
        report.statuses[status] = (report.statuses[status] ?? 0) + 1;
        const problem = check(op, status, contentType, text, components);
        if (ms > SLOW_MS) {
          report.slow++;
          if (report.slowExamples.length < 3) report.slowExamples.push({ request: g, status, ms });
        }
        if (problem) {
          report.failures++;
          if (report.examples.length < 5) report.examples.push({ request: g, status, ms, problem, body: text.slice(0, 300) });
        }
      }
      inFlight.delete(label);
      latencies.sort((a, b) => a - b);
      report.seconds = Math.round((Date.now() - progress.since) / 100) / 10;
      report.p99ms = latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] ?? 0;
      report.maxMs = latencies[latencies.length - 1] ?? 0;
      say(`${label}: ${report.requests} requests in ${report.seconds} s (p99 ${report.p99ms} ms), ${JSON.stringify(report.statuses)}${report.failures ? `, ${report.failures} FAILED` : ''}${report.slow ? `, ${report.slow} slower than ${SLOW_MS} ms` : ''}`);
      return report;
    };

    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
    clearInterval(heartbeat);
    const summary = writeReport(true);
    const { failures, requests } = summary;
    say(`${requests} requests over ${reports.length} operations in ${summary.seconds} s: ${failures} failed, ${summary.fiveHundreds} 5xx, ${summary.noResponse} without an answer, ${summary.slow} slower than ${SLOW_MS} ms → ${path.relative(ROOT, OUT)}`);
    process.exitCode = failures > 0 ? 1 : 0;
  } finally {
    await pool.close();
    await stack.stop();
  }
}

function check(op: Operation, status: number, contentType: string, text: string, components: Components): string | undefined {
  if (status === 0) return `no response: ${text}`;
  if (status >= 500) return `server error ${status}`;
  const documented = op.responses?.[String(status)] ?? op.responses?.['default'];
  if (!documented) return `status ${status} is not documented for this operation`;
  if (!contentType.includes('json') || !text) return undefined;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return 'content-type says JSON but the body is not';
  }
  const schema = status >= 400 ? ({ $ref: '#/components/schemas/Error' } as Schema) : documented.content?.['application/json']?.schema;
  if (!schema) return undefined;
  const problems = validate(json, schema, components);
  if (status >= 400 && json && typeof json === 'object' && 'messageZh' in json) problems.push('error body leaks messageZh (not the public shape)');
  return problems.length ? problems.slice(0, 3).join('; ') : undefined;
}

main().catch((error) => {
  say(`could not run: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
