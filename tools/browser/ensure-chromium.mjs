// Makes sure Debian's Chromium is installed at /usr/bin/chromium for the console's browser tests
// (apps/console/e2e). Idempotent: does nothing when the binary is there. Needs root (apt-get), as
// on the CI and demo machines; caches nothing in the repository.
//
//   node tools/browser/ensure-chromium.mjs          # install if missing, print the path
//   CHROMIUM_PATH=/opt/chrome/chrome node ...        # use another binary, never install
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

function sh(cmd, args) {
  const res = spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  if (res.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed with ${res.status ?? res.signal}`);
}

export function ensureChromium() {
  if (existsSync(CHROMIUM)) return CHROMIUM;
  if (process.env.CHROMIUM_PATH) throw new Error(`CHROMIUM_PATH=${CHROMIUM} does not exist`);
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    throw new Error('Chromium is missing and installing it needs root: run `sudo apt-get install -y chromium`');
  }
  process.stdout.write('[browser] installing Debian chromium (apt-get install -y chromium)…\n');
  sh('apt-get', ['update']);
  sh('apt-get', ['install', '-y', '--no-install-recommends', 'chromium', 'fonts-noto-cjk']);
  if (!existsSync(CHROMIUM)) throw new Error(`apt-get finished but ${CHROMIUM} is still missing`);
  return CHROMIUM;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  try {
    process.stdout.write(`${ensureChromium()}\n`);
  } catch (error) {
    process.stderr.write(`[browser] ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  }
}
