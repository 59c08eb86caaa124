/**
 * Preload for profiling a gateway under the bench (BENCH_PROFILE_DIR): SIGWINCH (Nest's shutdown
 * hooks take SIGUSR2) starts the V8 CPU
 * profiler, the next SIGWINCH stops it and writes `<dir>/gateway-<pid>-<n>.cpuprofile`, so only the
 * loaded seconds are in the profile (start-up excluded). Inspect with bench/gateway/profile-summary.cjs.
 */
const inspector = require('node:inspector');
const fs = require('node:fs');
const path = require('node:path');

const dir = process.env.BENCH_PROFILE_DIR;
const session = new inspector.Session();
session.connect();
let running = false;
let n = 0;
process.on('SIGWINCH', () => {
  if (!running) {
    running = true;
    session.post('Profiler.enable', () => session.post('Profiler.setSamplingInterval', { interval: 200 }, () => session.post('Profiler.start')));
    return;
  }
  running = false;
  session.post('Profiler.stop', (error, result) => {
    if (error) return process.stderr.write(`profile: ${error.message}\n`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, `gateway-${process.pid}-${n++}.cpuprofile`), JSON.stringify(result.profile));
  });
});
