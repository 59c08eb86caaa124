// The whole platform as child processes: used by `npm start` (the demo) and by `npm test`'s browser
// phase (a second copy on other ports, other databases and other consumer groups, so it can run
// beside a demo on the same Kafka and database).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { ROOT, run, say, serviceEnv } from './common.mjs';

export const SERVICE_NAMES = ['gateway', 'registry', 'dispatch', 'billing', 'monitoring'];
const LOGS = path.join(ROOT, '.infra', 'logs', 'services');
const SECRETS = path.join(ROOT, '.infra', 'secrets.json');

/**
 * Passwords for the first administrator and the demo accounts: made up on this machine at the
 * first start and kept in .infra/ (git-ignored), never a default written in code.
 */
export function localSecrets() {
  if (existsSync(SECRETS)) return JSON.parse(readFileSync(SECRETS, 'utf8'));
  // Meets the gateway's password rules: 10+ characters, lower, upper, digit and symbol.
  const make = () => `Yy-${randomBytes(9).toString('base64url')}-7q`;
  const secrets = { adminUsername: 'city-admin', adminPassword: make(), demoPassword: make() };
  mkdirSync(path.dirname(SECRETS), { recursive: true });
  writeFileSync(SECRETS, `${JSON.stringify(secrets, null, 2)}\n`, { mode: 0o600 });
  return secrets;
}

/**
 * @param {object} o
 * @param {number} o.basePort   gateway's port; registry, dispatch, billing, monitoring follow (+1…+4)
 * @param {string} [o.dbPrefix] prefix of every service's database name (MONGO_DB)
 * @param {string} [o.groupNamespace] KAFKA_GROUP_NAMESPACE for every service
 * @param {string} [o.logTag]   log file suffix
 */
export function createStack({ basePort, dbPrefix = 'yiyang', groupNamespace, logTag = '' }) {
  const secrets = localSecrets();
  const ports = Object.fromEntries(SERVICE_NAMES.map((name, i) => [name, basePort + i]));
  const url = (name) => `http://127.0.0.1:${ports[name]}`;
  const children = new Map();
  let stopping = false;
  let onCrash = () => undefined;

  const env = (extra = {}) =>
    serviceEnv({
      REGISTRY_URL: url('registry'),
      DISPATCH_URL: url('dispatch'),
      BILLING_URL: url('billing'),
      MONITORING_URL: url('monitoring'),
      GATEWAY_URL: url('gateway'),
      YIYANG_ADMIN_USERNAME: secrets.adminUsername,
      YIYANG_ADMIN_PASSWORD: secrets.adminPassword,
      YIYANG_DEMO_PASSWORD: secrets.demoPassword,
      ...(groupNamespace ? { KAFKA_GROUP_NAMESPACE: groupNamespace } : {}),
      // The monitoring demo set-up hands the simulator its vendor key and devices through this file;
      // one per copy of the platform.
      DEMO_SIM_FILE: path.join(ROOT, '.infra', 'demo', `${dbPrefix}-monitoring-devices.json`),
      ...extra,
    });

  /** A long-running child whose full output goes to a log file; the terminal sees warnings and crashes. */
  function spawnLogged(name, args, extraEnv) {
    mkdirSync(LOGS, { recursive: true });
    const logFile = createWriteStream(path.join(LOGS, `${name}${logTag}.log`), { flags: 'a' });
    const child = spawn(process.execPath, args, { cwd: ROOT, env: env(extraEnv), stdio: ['ignore', 'pipe', 'pipe'] });
    for (const stream of [child.stdout, child.stderr]) {
      readline.createInterface({ input: stream }).on('line', (line) => {
        logFile.write(`${line}\n`);
        let level = 50;
        try {
          level = JSON.parse(line).level ?? 30;
        } catch {
          /* not JSON: a crash, a boot error or a script's progress line — show it */
          level = /^\[/.test(line) ? 30 : 50;
        }
        if (level >= 40) process.stdout.write(`[${name}] ${line}\n`);
      });
    }
    child.on('exit', (code, signal) => {
      children.delete(name);
      logFile.end();
      if (!stopping) onCrash(name, signal ?? code);
    });
    children.set(name, child);
    return child;
  }

  async function waitReady(name, timeoutMs = 180_000) {
    const until = Date.now() + timeoutMs;
    while (Date.now() < until) {
      if (!children.has(name)) throw new Error(`${name} exited during start-up (see .infra/logs/services/${name}${logTag}.log)`);
      try {
        if ((await fetch(`${url(name)}/health`)).ok) return;
      } catch {
        /* not listening yet */
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`${name} was not ready on port ${ports[name]} within ${timeoutMs / 1000} s`);
  }

  return {
    ports,
    url,
    secrets,
    env,
    /** Called with (name, exit) when a child dies while the stack is not stopping. */
    onCrash(handler) {
      onCrash = handler;
    },
    async startServices() {
      for (const name of SERVICE_NAMES) {
        spawnLogged(name, ['-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
          PORT: String(ports[name]),
          HOST: process.env.HOST ?? '127.0.0.1',
          MONGO_DB: `${dbPrefix}_${name}`,
        });
      }
      await Promise.all(SERVICE_NAMES.map((name) => waitReady(name)));
    },
    /** One demo-data script to completion (they are idempotent); resolves with its exit code. */
    seed(script, extraEnv = {}) {
      return run(process.execPath, ['-r', '@swc-node/register', `tools/demo-data/${script}.ts`], { env: env(extraEnv) });
    },
    startSimulator(extraEnv = {}) {
      spawnLogged('simulator', ['-r', '@swc-node/register', 'tools/demo-data/simulator.ts'], extraEnv);
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      const exits = [...children.values()].map((child) => new Promise((resolve) => child.once('exit', resolve)));
      for (const child of children.values()) child.kill('SIGTERM');
      const timer = setTimeout(() => {
        for (const child of children.values()) child.kill('SIGKILL');
      }, 15_000);
      await Promise.all(exits);
      clearTimeout(timer);
    },
  };
}

/** Builds the console into dist/apps/console, which the gateway serves at `/`. */
export async function buildConsole() {
  say('building the web console…');
  const code = await run('npx', ['vite', 'build', '--config', 'apps/console/vite.config.mts', '--logLevel', 'warn']);
  if (code !== 0) throw new Error('the console did not build (see above)');
}

/**
 * The demo district in order: the registry's records first (everyone else learns them from Kafka),
 * then the sign-in accounts, then each service's own demo set-up.
 */
export async function loadDemo(stack, { elders }) {
  const steps = [
    ['load', 'the district: regions, providers, caregivers, catalogue, elder roster', { DEMO_ELDERS: String(elders) }],
    ['gateway', 'sign-in accounts for every role'],
    ['dispatch', 'visiting-round rules and duty workers'],
    ['billing', 'subsidy policies and fund budgets'],
    ['monitoring', 'devices and the vendor key for the simulator'],
  ];
  for (const [script, what, extra] of steps) {
    if (!existsSync(path.join(ROOT, 'tools', 'demo-data', `${script}.ts`))) continue;
    say(`demo data: ${what}…`);
    const code = await stack.seed(script, extra);
    if (code !== 0) throw new Error(`demo data step "${script}" failed (see above)`);
  }
}
