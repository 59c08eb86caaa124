import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { createGatewayApp } from '../bootstrap';
import { UPSTREAM_URL_VARIABLE, UPSTREAMS, type Upstream } from '../proxy/routing';

/**
 * The gateway with the REAL services behind it: each service is its own process
 * (`node -r @swc-node/register apps/<svc>/src/main.ts`, as `npm start` runs it — apps may not
 * import each other) on a free port with a database of its own; the gateway runs in this process.
 * Used by the integration tests, the fuzz run and the bench.
 */
export const ROOT = path.resolve(__dirname, '../../../..');
export const ROOT_ADMIN = { username: 'root', password: 'Stack-Admin-2026!' };

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface ServiceProcess {
  name: Upstream;
  port: number;
  url: string;
  child: ChildProcess;
  output: string[];
}

export async function spawnService(name: Upstream, dbName: string, timeoutMs = Number(process.env['STACK_BOOT_TIMEOUT_MS'] ?? 240_000)): Promise<ServiceProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['-r', '@swc-node/register', `apps/${name}/src/main.ts`], {
    cwd: ROOT,
    // Its own consumer groups (named after its database), so a spawned copy never splits partitions
    // with a running `npm start` or another test's copy on the same broker.
    // Dispatch serves only this stack's city (Tangshan, where every gateway test's records live): it
    // shares the command topic with other tests' dispatch apps and must not refuse their orders for
    // elders it has never heard of (an unscoped deployment answers "elder not found" for them).
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', MONGO_DB: dbName, KAFKA_GROUP_NAMESPACE: dbName, DISPATCH_REGION_SCOPE: '130200000000', LOG_LEVEL: 'warn', NODE_ENV: 'development' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never outlive the test or tool that started it, even when that one is killed.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.removeListener('exit', reap));
  const output: string[] = [];
  for (const stream of [child.stdout, child.stderr]) stream?.on('data', (d: Buffer) => output.push(d.toString()) > 200 && output.shift());
  const url = `http://127.0.0.1:${port}`;
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`${name} exited during start-up: ${output.join('').slice(-800)}`);
    try {
      const res = await fetch(`${url}/health`);
      if (res.ok) return { name, port, url, child, output };
    } catch {
      /* not listening yet */
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  await stopProcess(child);
  throw new Error(`${name} not ready within ${timeoutMs} ms: ${output.join('').slice(-800)}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 8_000);
  await exited;
  clearTimeout(timer);
}

export interface Stack {
  gateway: NestFastifyApplication;
  url: string;
  services: Partial<Record<Upstream, ServiceProcess>>;
  /** Services that were asked for but did not come up (their reason). */
  missing: Partial<Record<Upstream, string>>;
  stop(): Promise<void>;
}

export interface StackOptions {
  services: readonly Upstream[];
  /** Base of every database name (the gateway's MONGO_DB; services get `<base>_<service>`). */
  dbBase: string;
  gatewayEnv?: Record<string, string>;
  /** Services that must come up; the others are best effort (built in parallel by other teams). */
  required?: readonly Upstream[];
}

export async function startStack(options: StackOptions): Promise<Stack> {
  const services: Partial<Record<Upstream, ServiceProcess>> = {};
  const missing: Partial<Record<Upstream, string>> = {};
  await Promise.all(
    options.services.map(async (name) => {
      try {
        services[name] = await spawnService(name, `${options.dbBase}_${name}`);
      } catch (error) {
        missing[name] = (error as Error).message;
      }
    }),
  );
  for (const name of options.required ?? []) {
    if (!services[name]) {
      await Promise.all(Object.values(services).map((s) => stopProcess(s.child)));
      throw new Error(`required service ${name} did not start: ${missing[name]}`);
    }
  }
  const env: Record<string, string> = {
    MONGO_DB: options.dbBase,
    YIYANG_ADMIN_USERNAME: ROOT_ADMIN.username,
    YIYANG_ADMIN_PASSWORD: ROOT_ADMIN.password,
    YIYANG_ADMIN_REGION_CODE: '130200000000',
    LOG_LEVEL: 'warn',
    OPENAPI_REFRESH_MS: '2000',
    ...options.gatewayEnv,
  };
  for (const name of UPSTREAMS) {
    // A service not started points at a port nobody listens on: requests to it answer 503.
    env[UPSTREAM_URL_VARIABLE[name]] = services[name]?.url ?? `http://127.0.0.1:${await freePort()}`;
  }
  const gateway = await createGatewayApp(env, { logger: false });
  await gateway.listen(0, '127.0.0.1');
  const address = gateway.getHttpServer().address() as { port: number };
  return {
    gateway,
    url: `http://127.0.0.1:${address.port}`,
    services,
    missing,
    async stop() {
      await gateway.close().catch(() => undefined);
      await Promise.all(Object.values(services).map((s) => stopProcess(s.child)));
    },
  };
}

/** GB 11643 ID-card number for an elder born on `birthDate` in county `county` (check digit computed). */
export function idCardNumber(county: string, birthDate: string, seq: string): string {
  const body = `${county}${birthDate.replace(/-/g, '')}${seq}`;
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  const sum = [...body].reduce((s, d, i) => s + Number(d) * weights[i], 0);
  return `${body}${'10X98765432'[sum % 11]}`;
}
