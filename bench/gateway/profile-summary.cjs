/**
 * Self time by function (and by script) of a .cpuprofile: `node bench/gateway/profile-summary.cjs <file> [top]`.
 * Shares are of all samples, idle included, and of busy samples (idle, program and GC excluded from the denominator).
 */
const fs = require('node:fs');
const [file, topArg] = process.argv.slice(2);
const top = Number(topArg ?? 40);
const profile = JSON.parse(fs.readFileSync(file, 'utf8'));
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const counts = new Map();
for (const id of profile.samples) counts.set(id, (counts.get(id) ?? 0) + 1);
const total = profile.samples.length;
const fn = new Map();
const script = new Map();
let idle = 0;
for (const [id, c] of counts) {
  const { callFrame } = byId.get(id);
  if (callFrame.functionName === '(idle)') idle += c;
  const url = callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/work\/main\//, '') || '(native)';
  const key = `${callFrame.functionName || '(anonymous)'}  ${url}:${callFrame.lineNumber + 1}`;
  fn.set(key, (fn.get(key) ?? 0) + c);
  const pkg = url.startsWith('node:') ? url : url.split('/').slice(0, url.startsWith('@') ? 2 : 1).join('/');
  script.set(pkg, (script.get(pkg) ?? 0) + c);
}
const busy = total - idle;
const pct = (c, d) => `${((100 * c) / d).toFixed(1).padStart(5)}%`;
console.log(`samples ${total}, idle ${pct(idle, total)}`);
console.log('--- by function (share of busy) ---');
for (const [k, c] of [...fn].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(pct(c, busy), k);
console.log('--- by script/package ---');
for (const [k, c] of [...script].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(pct(c, busy), k);
