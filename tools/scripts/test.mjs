// `npm test`: fresh clone → install → Kafka + database up → lint, type-check, unit and integration
// tests of every project → one closing line with the counts. Infra this run started is stopped again.
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { ROOT, ensureInstalled, infra, infraRunning, run, say, serviceEnv } from './common.mjs';

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
    ['nx', 'run-many', '-t', 'lint', 'typecheck', 'test', '--outputStyle=static', ...process.argv.slice(2)],
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
