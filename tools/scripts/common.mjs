// Shared by `npm start` and `npm test`: dependency-free (they run before node_modules exists).
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const INSTALL_STAMP = path.join(ROOT, 'node_modules', '.yiyang-install-stamp');

export function say(message) {
  process.stdout.write(`[yiyang] ${message}\n`);
}

/** Runs a command in the repo root, inheriting the terminal; resolves with its exit code. */
export function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: 'inherit', ...options });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
    child.on('error', (error) => {
      say(`${command} could not start: ${error.message}`);
      resolve(1);
    });
  });
}

/**
 * Installs when node_modules is missing or package-lock.json or patches/ changed since the last install.
 * `npm install` (which follows the lock) rather than `npm ci`: the npm 11 on our machines leaves
 * other platforms' optional binaries (@swc/core-darwin-*, …) out of the lock, and `npm ci` then
 * refuses the lock as out of sync.
 */
export async function ensureInstalled() {
  // The patches dir counts too: `npm install` applies patches/ (postinstall: patch-package).
  const digest = createHash('sha256').update(readFileSync(path.join(ROOT, 'package-lock.json')));
  const patches = path.join(ROOT, 'patches');
  for (const name of existsSync(patches) ? readdirSync(patches).sort() : []) {
    digest.update(name).update(readFileSync(path.join(patches, name)));
  }
  const hash = digest.digest('hex');
  if (existsSync(INSTALL_STAMP) && readFileSync(INSTALL_STAMP, 'utf8') === hash) return;
  say('installing dependencies (the npm cache in ~/.npm makes repeat installs fast)…');
  const code = await run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error']);
  if (code !== 0) throw new Error('npm install failed');
  mkdirSync(path.dirname(INSTALL_STAMP), { recursive: true });
  writeFileSync(INSTALL_STAMP, hash);
}

/** True when our own Kafka and database are already up (or external ones are configured and answer). */
export function infraRunning() {
  return spawnSync(process.execPath, ['tools/infra/infra.mjs', 'status'], { cwd: ROOT, stdio: 'ignore' }).status === 0;
}

export async function infra(command) {
  const code = await run(process.execPath, ['tools/infra/infra.mjs', command]);
  if (code !== 0) throw new Error(`infra ${command} failed (see above; logs: npm run infra:logs)`);
}

/** Environment for running TypeScript services directly with swc (path aliases from tsconfig.base.json). */
export function serviceEnv(extra = {}) {
  return {
    ...process.env,
    SWC_NODE_PROJECT: path.join(ROOT, 'tsconfig.base.json'),
    // Same defaults as tools/infra/infra.mjs, including its port overrides (two checkouts side by side).
    KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? `127.0.0.1:${process.env.YIYANG_KAFKA_PORT ?? 9092}`,
    MONGO_URL: process.env.MONGO_URL ?? `mongodb://127.0.0.1:${process.env.YIYANG_MONGO_PORT ?? 27017}/`,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...extra,
  };
}
