// `npm start`: fresh clone → install → Kafka + database up → every service up → the demo district
// loaded → the living-demo simulator running → the console at http://127.0.0.1:3000.
// Stays in the foreground; Ctrl-C stops the services gracefully (Kafka and the database keep
// running for the next start; `npm run infra:down` stops them).
import { ensureInstalled, infra, say } from './common.mjs';
import { buildConsole, createStack, loadDemo } from './stack.mjs';

const stack = createStack({ basePort: Number(process.env.YIYANG_PORT ?? 3000) });
let exiting = false;

async function shutdown(code) {
  if (exiting) return;
  exiting = true;
  say('stopping services…');
  await stack.stop();
  say('services stopped; Kafka and the database keep running (npm run infra:down stops them)');
  process.exit(code);
}

stack.onCrash((name, exit) => {
  say(`${name} exited (${exit}); see .infra/logs/services/${name}.log — stopping the others`);
  void shutdown(1);
});
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  await ensureInstalled();
  await infra('up');
  // The console builds while the services boot; the gateway serves whatever is in dist/ on request.
  const built = buildConsole();
  say('starting services…');
  await Promise.all([stack.startServices(), built]);

  // DEMO_DATA=0 skips the demo; DEMO_ELDERS sets the roster size (default 2,000: a first start
  // stays within a few minutes on FerretDB; "full" loads Lubei's 188,200).
  if (process.env.DEMO_DATA !== '0') {
    say('loading the demo district (Lubei, Tangshan)…');
    // A demo step that fails is reported, and the platform keeps running without it.
    await loadDemo(stack, { elders: process.env.DEMO_ELDERS ?? '2000' }).catch((error) =>
      say(`${error instanceof Error ? error.message : String(error)} — the services keep running`),
    );
    say('starting the living demo (orders, visits, telemetry, settlement)…');
    stack.startSimulator();
  }

  const { secrets } = stack;
  say('Yiyang is up:');
  process.stdout.write(
    [
      `  console      ${stack.url('gateway')}/        (API: /api/v1, docs: /api/docs)`,
      `  sign in as   admin, street-admin, operator, caregiver, guardian, elder, assessor, auditor`,
      `  password     ${secrets.demoPassword}`,
      `  first admin  ${secrets.adminUsername} / ${secrets.adminPassword}   (kept in .infra/secrets.json)`,
      ...['registry', 'dispatch', 'billing', 'monitoring'].map((n) => `  ${n.padEnd(12)} ${stack.url(n)}   (internal: /docs, /health, /metrics)`),
      '',
    ].join('\n'),
  );
  say('logs: .infra/logs/services/<service>.log — Ctrl-C stops the services');
} catch (error) {
  say(error instanceof Error ? error.message : String(error));
  await shutdown(1);
}
