// `npm start`: fresh clone → install → Kafka + database up → every service up → where to find them.
// Stays in the foreground; Ctrl-C stops the services gracefully (Kafka and the database keep
// running for the next start; `npm run infra:down` stops them).
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, ensureInstalled, infra, run, say, serviceEnv } from './common.mjs';

export const SERVICES = [
  { name: 'gateway', port: 3000 },
  { name: 'registry', port: 3001 },
  { name: 'dispatch', port: 3002 },
  { name: 'billing', port: 3003 },
  { name: 'monitoring', port: 3004 },
];

const LOGS = path.join(ROOT, '.infra', 'logs', 'services');
const children = new Map();
let stopping = false;

function startService({ name, port }) {
  mkdirSync(LOGS, { recursive: true });
  const logFile = createWriteStream(path.join(LOGS, `${name}.log`), { flags: 'a' });
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
    cwd: ROOT,
    env: serviceEnv({ PORT: String(port), HOST: process.env.HOST ?? '127.0.0.1' }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Full JSON logs go to a file per service; the terminal shows warnings, errors and crashes.
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => {
      logFile.write(`${line}\n`);
      let level = 50;
      try {
        level = JSON.parse(line).level ?? 30;
      } catch {
        /* not JSON: a crash or a boot error — always show it */
      }
      if (level >= 40) process.stdout.write(`[${name}] ${line}\n`);
    });
  }
  child.on('exit', (code, signal) => {
    children.delete(name);
    logFile.end();
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); see .infra/logs/services/${name}.log — stopping the others`);
      void stopAll(1);
    }
  });
  children.set(name, child);
}

async function waitReady({ name, port }, timeoutMs = 120_000) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (!children.has(name)) throw new Error(`${name} exited during start-up`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/health`);
      if (res.ok) return;
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`${name} was not ready on port ${port} within ${timeoutMs / 1000} s`);
}

async function stopAll(code) {
  if (stopping) return;
  stopping = true;
  say('stopping services…');
  const exits = [...children.values()].map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of children.values()) child.kill('SIGTERM');
  const timer = setTimeout(() => {
    for (const child of children.values()) child.kill('SIGKILL');
  }, 15_000);
  await Promise.all(exits);
  clearTimeout(timer);
  say('services stopped; Kafka and the database keep running (npm run infra:down stops them)');
  process.exit(code);
}

/**
 * The demo district (tools/demo-data): Lubei district's streets, communities, service points,
 * providers, caregivers, catalogue and an elder roster, loaded through the registry's own API.
 * Idempotent and quick when already loaded. DEMO_ELDERS sets the roster size (FerretDB imports a
 * few hundred rows a second, so the default keeps a first start short); DEMO_DATA=0 skips it.
 */
async function loadDemoData() {
  if (process.env.DEMO_DATA === '0') return;
  say('loading the demo district (Lubei, Tangshan)…');
  const code = await run(process.execPath, ['-r', '@swc-node/register', 'tools/demo-data/load.ts'], {
    env: serviceEnv({ DEMO_ELDERS: process.env.DEMO_ELDERS ?? '2000', REGISTRY_URL: `http://127.0.0.1:${SERVICES.find((x) => x.name === 'registry').port}` }),
  });
  if (code !== 0) say('demo data did not load completely (see above); the services keep running');
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));

try {
  await ensureInstalled();
  await infra('up');
  say('starting services…');
  for (const service of SERVICES) startService(service);
  await Promise.all(SERVICES.map((s) => waitReady(s)));
  await loadDemoData();
  say('Yiyang is up:');
  for (const { name, port } of SERVICES) {
    process.stdout.write(`  ${name.padEnd(11)} http://127.0.0.1:${port}   (API docs /docs, health /health, metrics /metrics)\n`);
  }
  say('logs: .infra/logs/services/<service>.log — Ctrl-C stops the services');
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  await stopAll(1);
}
