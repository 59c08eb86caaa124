// `npm test`: fresh clone → install → Kafka + database up → lint, type-check, unit and integration
// tests of every project → the console's browser tests against a whole running platform → one
// closing line with the counts. Infra this run started is stopped again.
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, ensureInstalled, infra, infraRunning, run, say, serviceEnv } from './common.mjs';
import { buildConsole, createStack, loadDemo } from './stack.mjs';

/**
 * The browser tests need the platform running: a copy of it on its own ports (3100+), databases
 * (e2e_*) and consumer groups, so it never touches a demo started with `npm start` on this machine.
 * Chromium comes from Debian (tools/browser). Returns [passed, failed].
 */
async function browserTests() {
  const artifacts = path.join(ROOT, 'tmp', 'e2e-artifacts');
  rmSync(artifacts, { recursive: true, force: true });
  if ((await run(process.execPath, ['tools/browser/ensure-chromium.mjs'])) !== 0) return [0, 1];
  const stack = createStack({ basePort: Number(process.env.YIYANG_E2E_PORT ?? 3100), dbPrefix: 'e2e', groupNamespace: 'e2e', logTag: '-e2e' });
  browserStack = stack;
  stack.onCrash((name, exit) => say(`browser tests: ${name} exited (${exit}); see .infra/logs/services/${name}-e2e.log`));
  try {
    await Promise.all([stack.startServices(), buildConsole()]);
    await loadDemo(stack, { elders: process.env.E2E_ELDERS ?? '300' });
    stack.startSimulator({ SIM_TICK_MS: '1000' });
    const code = await run(process.execPath, ['-r', '@swc-node/register', 'apps/console/e2e/run.ts'], {
      env: stack.env({ CONSOLE_URL: stack.url('gateway'), E2E_ARTIFACTS: artifacts }),
    });
    const runs = existsSync(artifacts) ? readdirSync(artifacts) : [];
    const file = runs.length ? path.join(artifacts, runs.sort().at(-1), 'results.json') : undefined;
    if (!file || !existsSync(file)) return [0, 1];
    const { results } = JSON.parse(readFileSync(file, 'utf8'));
    const failed = results.filter((r) => !r.ok).length;
    return [results.length - failed, code === 0 ? failed : Math.max(failed, 1)];
  } catch (error) {
    say(`browser tests could not run: ${error instanceof Error ? error.message : String(error)}`);
    return [0, 1];
  } finally {
    await stack.stop();
    browserStack = undefined;
  }
}

// The browser phase runs a whole platform as children of this process; an interrupted run must stop
// it (and the infra this run started) rather than leave services holding ports 3100+.
let browserStack;
let interrupted = false;
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]]) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    say(`${signal}: stopping…`);
    void (async () => {
      await browserStack?.stop().catch(() => undefined);
      if (startedInfra) await infra('down').catch(() => undefined);
      process.exit(code);
    })();
  });
}

const started = Date.now();
let exitCode = 1;
let startedInfra = false;
try {
  await ensureInstalled();
  startedInfra = !infraRunning();
  await infra('up');
  const results = path.join(ROOT, 'tmp', 'test-results');
  rmSync(results, { recursive: true, force: true });

  exitCode = await run(
    'npx',
    // Two tasks at a time: the integration suites share one broker and one database (one writer at
    // a time on FerretDB), and a third suite in parallel only makes each of them slower.
    ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', '--outputStyle=static', '--parallel=2', ...process.argv.slice(2)],
    { env: serviceEnv({ NX_DAEMON: 'false', NX_NO_CLOUD: 'true', LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' }) },
  );

  let passed = 0;
  let failed = 0;
  let skipped = 0;
  let files = [];
  try {
    files = readdirSync(results).filter((f) => f.endsWith('.json'));
  } catch {
    files = [];
  }
  for (const file of files) {
    const r = JSON.parse(readFileSync(path.join(results, file), 'utf8'));
    passed += r.passed;
    failed += r.failed;
    skipped += r.skipped;
  }
  if (process.env.YIYANG_BROWSER_TESTS !== '0') {
    say('browser tests: the console in Chromium against the whole platform…');
    const [browserPassed, browserFailed] = await browserTests();
    passed += browserPassed;
    failed += browserFailed;
    if (browserFailed > 0) exitCode = exitCode || 1;
  }
  if (exitCode === 0 && passed === 0) {
    say('no test ran — treating that as a failure');
    exitCode = 1;
  }
  say(`finished in ${Math.round((Date.now() - started) / 1000)} s across ${files.length} test projects`);
  process.stdout.write(`tests: ${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`);
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  exitCode = 1;
} finally {
  if (startedInfra) await infra('down').catch(() => undefined);
}
process.exit(exitCode);
