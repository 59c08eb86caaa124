#!/usr/bin/env node
// Local infrastructure for Yiyang without Docker: a single-node Apache Kafka
// (KRaft, resolved from Maven Central) and FerretDB (MongoDB wire protocol on
// SQLite, built from tools/infra/ferretdb).
//
//   node tools/infra/infra.mjs up | down | status | logs [kafka|ferretdb]
//
// Runs before `npm install`, so it uses node: built-ins only. Everything it
// writes lives under <repo>/.infra/ (git-ignored). See
// docs/adr/0001-local-database.md for why FerretDB.
//
// Env:
//   KAFKA_BROKERS   use this Kafka instead of starting one (host:port[,...])
//   MONGO_URL       use this MongoDB instead of starting FerretDB
//   YIYANG_KAFKA_PORT (9092), YIYANG_KAFKA_CONTROLLER_PORT (9093),
//   YIYANG_MONGO_PORT (27017)

import { spawn, spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..', '..');
const INFRA = path.join(ROOT, '.infra');
const DIRS = {
  bin: path.join(INFRA, 'bin'),
  logs: path.join(INFRA, 'logs'),
  pids: path.join(INFRA, 'pids'),
  kafka: path.join(INFRA, 'kafka'),
  ferretdb: path.join(INFRA, 'ferretdb'),
};
const HOST = '127.0.0.1';
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

const rel = (p) => path.relative(process.cwd(), p) || '.';
const log = (msg) => console.log(`[infra] ${msg}`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

class InfraError extends Error {}

function envPort(name, def) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return def;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InfraError(`${name}=${raw} is not a valid port`);
  return n;
}

function sha256(files) {
  const h = createHash('sha256');
  for (const f of files) h.update(path.basename(f)).update('\0').update(fs.readFileSync(f)).update('\0');
  return h.digest('hex');
}

function readIfExists(file) {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return null;
  }
}

function tail(file, lines) {
  let fd;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return `(no ${rel(file)} yet)`;
  }
  try {
    // Logs can grow large; the last 256 KiB is plenty for a few hundred lines.
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------------------
// Process bookkeeping. A PID file alone can't be trusted: after a reboot or a
// crash the PID may belong to something else, so we also require our marker
// (an exact argv element holding an absolute path under this checkout's
// .infra/) in /proc/<pid>/cmdline.

function procCmdline(pid) {
  const raw = readIfExists(`/proc/${pid}/cmdline`);
  return raw === null ? null : raw.split('\0').filter(Boolean);
}

function isZombie(pid) {
  const stat = readIfExists(`/proc/${pid}/stat`);
  // Field 3 follows the parenthesised command name, which may contain spaces.
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
}

function ourPid(c) {
  const pid = Number((readIfExists(c.pidFile) ?? '').trim());
  if (!Number.isInteger(pid) || pid <= 0) return null;
  const argv = procCmdline(pid);
  if (!argv || isZombie(pid) || !argv.includes(c.marker)) return null;
  return pid;
}

function alive(pid) {
  return procCmdline(pid) !== null && !isZombie(pid);
}

function startDetached(c, cmd, args, opts = {}) {
  fs.mkdirSync(DIRS.logs, { recursive: true });
  fs.mkdirSync(DIRS.pids, { recursive: true });
  const out = fs.openSync(c.logFile, 'a');
  fs.writeSync(out, `\n===== ${new Date().toISOString()} infra.mjs starting ${c.name} =====\n`);
  // detached => setsid(): own session and process group, so the server keeps
  // running after this script exits and doesn't get the terminal's Ctrl-C.
  const child = spawn(cmd, args, { ...opts, detached: true, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  child.on('error', () => {}); // surfaced by the readiness wait instead
  child.unref();
  fs.writeFileSync(c.pidFile, `${child.pid}\n`);
  return child.pid;
}

async function stop(c) {
  const pid = ourPid(c);
  if (pid === null) {
    if (fs.existsSync(c.pidFile)) {
      fs.rmSync(c.pidFile);
      log(`${c.name}: not running (removed stale ${rel(c.pidFile)})`);
    } else {
      log(`${c.name}: not running`);
    }
    return;
  }
  log(`${c.name}: stopping pid ${pid}…`);
  try {
    process.kill(pid, 'SIGTERM');
  } catch {} // exited in the meantime
  const deadline = Date.now() + STOP_TIMEOUT_MS;
  while (alive(pid) && Date.now() < deadline) await sleep(200);
  if (alive(pid)) {
    log(`${c.name}: still running after ${STOP_TIMEOUT_MS / 1000}s, sending SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
    while (alive(pid)) await sleep(100);
  }
  fs.rmSync(c.pidFile, { force: true });
  log(`${c.name}: stopped`);
}

// ---------------------------------------------------------------------------
// Wire-level probes. An open TCP port only means the JVM/Go runtime bound it;
// these check that the server actually answers a protocol request.

function request(host, port, payload, isComplete, timeoutMs = 3000) {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection({ host, port });
    const chunks = [];
    const done = (err, val) => {
      sock.destroy();
      err ? reject(err) : resolve(val);
    };
    sock.setTimeout(timeoutMs, () => done(new Error('timeout')));
    sock.on('error', done);
    sock.on('connect', () => sock.write(payload));
    sock.on('data', (d) => {
      chunks.push(d);
      const buf = Buffer.concat(chunks);
      if (isComplete(buf)) done(null, buf);
    });
    sock.on('end', () => done(new Error('connection closed before a full reply')));
  });
}

const int32Framed = (buf) => buf.length >= 4 && buf.length >= 4 + buf.readInt32BE(0);

let kafkaCorrelation = 1;

function kafkaRequest(apiKey, apiVersion, body) {
  // Request header v1: api_key, api_version, correlation_id, client_id.
  const clientId = Buffer.from('yiyang-infra');
  const corr = kafkaCorrelation++;
  const header = Buffer.alloc(10 + clientId.length);
  header.writeInt16BE(apiKey, 0);
  header.writeInt16BE(apiVersion, 2);
  header.writeInt32BE(corr, 4);
  header.writeInt16BE(clientId.length, 8);
  clientId.copy(header, 10);
  const size = Buffer.alloc(4);
  size.writeInt32BE(header.length + body.length);
  return { corr, bytes: Buffer.concat([size, header, body]) };
}

function kafkaString(buf, off) {
  const len = buf.readInt16BE(off);
  if (len < 0) return [null, off + 2];
  return [buf.toString('utf8', off + 2, off + 2 + len), off + 2 + len];
}

// Returns { apis: Map(apiKey -> [min,max]), brokers: [{nodeId, host, port}] }
// or throws with a reason.
async function probeKafka(host, port) {
  // ApiVersions v0 (key 18): every broker version answers it, even before
  // the client knows which versions the broker speaks.
  const av = kafkaRequest(18, 0, Buffer.alloc(0));
  const res = await request(host, port, av.bytes, int32Framed);
  const r = res.subarray(4, 4 + res.readInt32BE(0));
  if (r.length < 10 || r.readInt32BE(0) !== av.corr) throw new Error('malformed ApiVersions reply');
  const err = r.readInt16BE(4);
  if (err !== 0) throw new Error(`ApiVersions error_code ${err}`);
  const n = r.readInt32BE(6);
  if (n <= 0 || r.length < 10 + n * 6) throw new Error('malformed ApiVersions reply');
  const apis = new Map();
  for (let i = 0, off = 10; i < n; i++, off += 6) {
    apis.set(r.readInt16BE(off), [r.readInt16BE(off + 2), r.readInt16BE(off + 4)]);
  }

  // Metadata v0 (key 3) with an empty topic list: answers with the broker
  // list once the broker has registered with the controller, i.e. it can
  // actually serve clients. Skipped if a future broker dropped v0.
  const brokers = [];
  const md = apis.get(3);
  if (md && md[0] === 0) {
    const mreq = kafkaRequest(3, 0, Buffer.from([0, 0, 0, 0]));
    const mres = await request(host, port, mreq.bytes, int32Framed);
    const m = mres.subarray(4, 4 + mres.readInt32BE(0));
    if (m.readInt32BE(0) !== mreq.corr) throw new Error('malformed Metadata reply');
    let off = 4;
    const count = m.readInt32BE(off);
    off += 4;
    for (let i = 0; i < count; i++) {
      const nodeId = m.readInt32BE(off);
      let bhost;
      [bhost, off] = kafkaString(m, off + 4);
      brokers.push({ nodeId, host: bhost, port: m.readInt32BE(off) });
      off += 4;
    }
    if (brokers.length === 0) throw new Error('broker is up but not registered yet (Metadata lists no brokers)');
  }
  return { apis, brokers };
}

// Minimal BSON: enough to encode a command and read a command reply.
function bsonEncode(obj) {
  const parts = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = Buffer.from(`${k}\0`);
    if (typeof v === 'string') {
      const s = Buffer.from(`${v}\0`);
      const len = Buffer.alloc(4);
      len.writeInt32LE(s.length);
      parts.push(Buffer.from([0x02]), key, len, s);
    } else if (Number.isInteger(v)) {
      const n = Buffer.alloc(4);
      n.writeInt32LE(v);
      parts.push(Buffer.from([0x10]), key, n);
    } else {
      throw new Error(`bsonEncode: unsupported value for ${k}`);
    }
  }
  const body = Buffer.concat([...parts, Buffer.from([0])]);
  const len = Buffer.alloc(4);
  len.writeInt32LE(body.length + 4);
  return Buffer.concat([len, body]);
}

function bsonDecode(buf, start = 0) {
  const end = start + buf.readInt32LE(start) - 1;
  const out = {};
  let off = start + 4;
  while (off < end) {
    const type = buf[off++];
    const nul = buf.indexOf(0, off);
    const key = buf.toString('utf8', off, nul);
    off = nul + 1;
    switch (type) {
      case 0x01: out[key] = buf.readDoubleLE(off); off += 8; break;
      case 0x02: { const l = buf.readInt32LE(off); out[key] = buf.toString('utf8', off + 4, off + 3 + l); off += 4 + l; break; }
      case 0x03: case 0x04: { const d = bsonDecode(buf, off); out[key] = type === 0x04 ? Object.values(d) : d; off += buf.readInt32LE(off); break; }
      case 0x05: off += 5 + buf.readInt32LE(off); break;
      case 0x07: off += 12; break;
      case 0x08: out[key] = buf[off] === 1; off += 1; break;
      case 0x09: case 0x11: off += 8; break;
      case 0x0a: out[key] = null; break;
      case 0x10: out[key] = buf.readInt32LE(off); off += 4; break;
      case 0x12: out[key] = Number(buf.readBigInt64LE(off)); off += 8; break;
      case 0x13: off += 16; break;
      default: throw new Error(`bsonDecode: unsupported BSON type 0x${type.toString(16)}`);
    }
  }
  return out;
}

let mongoRequestId = 1;

async function mongoCommand(host, port, cmd) {
  // OP_MSG (opCode 2013): header, flagBits=0, one kind-0 section (the command).
  const doc = bsonEncode(cmd);
  const header = Buffer.alloc(21);
  const id = mongoRequestId++;
  header.writeInt32LE(21 + doc.length, 0);
  header.writeInt32LE(id, 4);
  header.writeInt32LE(0, 8);
  header.writeInt32LE(2013, 12);
  header.writeUInt32LE(0, 16);
  header[20] = 0;
  const res = await request(host, port, Buffer.concat([header, doc]), (b) => b.length >= 4 && b.length >= b.readInt32LE(0));
  if (res.readInt32LE(8) !== id || res.readInt32LE(12) !== 2013 || res[20] !== 0) throw new Error('malformed OP_MSG reply');
  return bsonDecode(res, 21);
}

async function probeMongo(host, port) {
  const ping = await mongoCommand(host, port, { ping: 1, $db: 'admin' });
  if (ping.ok !== 1 && ping.ok !== true) throw new Error(`ping returned ${JSON.stringify(ping)}`);
  const info = await mongoCommand(host, port, { buildInfo: 1, $db: 'admin' }).catch(() => ({}));
  return { version: info.version, ferretdbVersion: info.ferretdbVersion };
}

// ---------------------------------------------------------------------------
// Components.

function hostPort(s, defPort) {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(s.trim());
  if (!m) throw new InfraError(`cannot parse host:port from "${s}"`);
  return { host: m[1], port: m[2] ? Number(m[2]) : defPort };
}

function which(cmd) {
  return (process.env.PATH ?? '')
    .split(path.delimiter)
    .filter(Boolean)
    .map((d) => path.join(d, cmd))
    .find((p) => {
      try {
        fs.accessSync(p, fs.constants.X_OK);
        return fs.statSync(p).isFile();
      } catch {
        return false;
      }
    });
}

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, ...opts });
  return { ok: r.status === 0 && !r.error, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

const kafka = {
  name: 'kafka',
  pidFile: path.join(DIRS.pids, 'kafka.pid'),
  logFile: path.join(DIRS.logs, 'kafka.log'),
  // A JVM system property we pass; unique to this checkout.
  marker: `-Dyiyang.infra=${INFRA}`,
  pom: path.join(HERE, 'kafka', 'pom.xml'),
  log4j: path.join(HERE, 'kafka', 'log4j.properties'),
  classpathFile: path.join(DIRS.kafka, 'classpath.txt'),
  classpathHash: path.join(DIRS.kafka, 'classpath.sha256'),
  propsFile: path.join(DIRS.kafka, 'server.properties'),
  clusterIdFile: path.join(DIRS.kafka, 'cluster-id'),
  dataDir: path.join(DIRS.kafka, 'data'),

  external() {
    return process.env.KAFKA_BROKERS?.trim() || null;
  },
  // The running broker's port comes from the config it was started with, not
  // from the current env, so `status` works whatever the env says now.
  runningEndpoint() {
    const m = /^listeners=PLAINTEXT:\/\/[^:]+:(\d+)/m.exec(readIfExists(this.propsFile) ?? '');
    return { host: HOST, port: m ? Number(m[1]) : envPort('YIYANG_KAFKA_PORT', 9092) };
  },
  wantedEndpoint() {
    return { host: HOST, port: envPort('YIYANG_KAFKA_PORT', 9092) };
  },
  url({ host, port }) {
    return `${host}:${port}`;
  },
  envLine(ep) {
    return `KAFKA_BROKERS=${this.url(ep)}`;
  },
  async probe({ host, port }) {
    const { brokers } = await probeKafka(host, port);
    return brokers.length ? `Kafka broker ${brokers.map((b) => b.nodeId).join(',')}` : 'Kafka';
  },
  async probeExternal(value) {
    const errors = [];
    for (const b of value.split(',')) {
      const ep = hostPort(b, 9092);
      try {
        return `${await this.probe(ep)} at ${this.url(ep)}`;
      } catch (e) {
        errors.push(`${this.url(ep)}: ${e.message}`);
      }
    }
    throw new Error(errors.join('; '));
  },
  tools: ['java', 'mvn'],
  async checkPorts() {
    const { port } = this.wantedEndpoint();
    const ctrlPort = envPort('YIYANG_KAFKA_CONTROLLER_PORT', 9093);
    if (port === ctrlPort) throw new InfraError('YIYANG_KAFKA_PORT and YIYANG_KAFKA_CONTROLLER_PORT must differ');
    for (const p of [port, ctrlPort]) await ensurePortFree(p, 'Kafka', 'KAFKA_BROKERS');
  },

  async prepare() {
    fs.mkdirSync(this.dataDir, { recursive: true });
    const want = sha256([this.pom]);
    const cp = readIfExists(this.classpathFile)?.trim();
    const stale = !cp || readIfExists(this.classpathHash)?.trim() !== want || cp.split(':').some((j) => !fs.existsSync(j));
    if (stale) {
      log('resolving Kafka jars from Maven Central (first time takes a minute)…');
      const r = run('mvn', ['-q', '-B', '-f', this.pom, 'dependency:build-classpath', `-Dmdep.outputFile=${this.classpathFile}`]);
      if (!r.ok || !readIfExists(this.classpathFile)?.includes('kafka_2.13')) {
        throw new InfraError(`Maven could not resolve ${rel(this.pom)}:\n${r.out.trim()}`);
      }
      fs.writeFileSync(this.classpathHash, `${want}\n`);
    }
    return readIfExists(this.classpathFile).trim();
  },

  async start() {
    const classpath = await this.prepare();
    const { port } = this.wantedEndpoint();
    const ctrlPort = envPort('YIYANG_KAFKA_CONTROLLER_PORT', 9093);

    // Rewritten on every start so port overrides apply; the data dir keeps the
    // cluster identity (meta.properties) across restarts.
    const esc = (s) => s.replaceAll('\\', '\\\\');
    fs.writeFileSync(
      this.propsFile,
      [
        '# Generated by tools/infra/infra.mjs on every `up`; edits are overwritten.',
        'process.roles=broker,controller',
        'node.id=1',
        `controller.quorum.voters=1@${HOST}:${ctrlPort}`,
        `listeners=PLAINTEXT://${HOST}:${port},CONTROLLER://${HOST}:${ctrlPort}`,
        `advertised.listeners=PLAINTEXT://${HOST}:${port}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        'listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
        `log.dirs=${esc(this.dataDir)}`,
        '# Topics must be created explicitly, as in production.',
        'auto.create.topics.enable=false',
        'num.partitions=1',
        'default.replication.factor=1',
        'min.insync.replicas=1',
        'offsets.topic.replication.factor=1',
        'transaction.state.log.replication.factor=1',
        'transaction.state.log.min.isr=1',
        '# Fewer internal partitions: faster first consumer-group join / transaction on a dev box.',
        'offsets.topic.num.partitions=3',
        'transaction.state.log.num.partitions=3',
        'group.initial.rebalance.delay.ms=0',
        'num.network.threads=2',
        'num.io.threads=4',
        '',
      ].join('\n'),
    );

    let clusterId = readIfExists(this.clusterIdFile)?.trim();
    if (!clusterId) {
      // Same shape as Kafka's Uuid: 16 random bytes, base64url, no padding.
      // A leading '-' would be parsed as a CLI flag by StorageTool.
      do clusterId = randomBytes(16).toString('base64url');
      while (clusterId.startsWith('-'));
      fs.writeFileSync(this.clusterIdFile, `${clusterId}\n`);
    }

    const jvm = [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:+ExplicitGCInvokesConcurrent',
      '-Djava.awt.headless=true',
      `-Dkafka.logs.dir=${DIRS.logs}`,
      `-Dlog4j.configuration=file:${this.log4j}`,
      this.marker,
      '-cp',
      classpath,
    ];

    if (!fs.existsSync(path.join(this.dataDir, 'meta.properties'))) {
      log(`formatting Kafka storage in ${rel(this.dataDir)} (cluster id ${clusterId})…`);
      fs.mkdirSync(DIRS.logs, { recursive: true });
      const r = run('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', this.propsFile, '--ignore-formatted']);
      if (!r.ok) throw new InfraError(`Kafka StorageTool format failed:\n${r.out.trim()}`);
    }

    return startDetached(this, 'java', [...jvm, 'kafka.Kafka', this.propsFile], { cwd: DIRS.kafka });
  },
};

const FERRETDB_MODULE = 'github.com/FerretDB/FerretDB@v1.24.2';

/**
 * Small fixes applied to FerretDB's source at build time (ADR 0001). Each names what it fixes;
 * a patch that no longer matches fails the build loudly rather than being skipped.
 */
const FERRETDB_PATCHES = [
  ...['tx', 'db'].flatMap((v) =>
    ['>>>', '<<<'].map((arrow) => ({
      file: `internal/util/fsql/${v}.go`,
      times: 3,
      from: `\t${v}.l.With(fields...).DebugContext(ctx, fmt.Sprintf("${arrow} %s", query))\n`,
      to: `\tif ${v}.l.Enabled(ctx, slog.LevelDebug) {\n\t\t${v}.l.With(fields...).DebugContext(ctx, fmt.Sprintf("${arrow} %s", query))\n\t}\n`,
      why:
        'Every SQL statement was logged at debug level through `l.With(args).DebugContext(...)`; slog\'s text ' +
        'handler formats `With` attributes eagerly, so each statement quoted all its arguments (whole ' +
        'documents) even with debug logging off: 13% of the database\'s CPU in a roster import (pprof).',
    })),
  ),
  {
    file: 'internal/backends/sqlite/metadata/metadata.go',
    from: `IDColumn = DefaultColumn + "->'$._id'"`,
    to: 'IDColumn = DefaultColumn + `->"_id"`',
    why:
      'FerretDB v1 indexes _id as `_ferretdb_sjson->"_id"` but looks it up as `->\'$._id\'`; SQLite matches ' +
      'index expressions by their text, so every update and delete by _id scanned the whole table ' +
      '(measured: updateOne by _id 5 ms at 1,000 documents, 67 ms at 10,000; patched: 1.3 ms at 10,000).',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '\t// that logic should exist in one place\n\t// TODO https://github.com/FerretDB/FerretDB/issues/3235\n\tif params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")\n\t\tswitch v.(type) {\n\t\tcase string, types.ObjectID:\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n\t\t}\n\t}\n',
    to: '\twhereClause, args = yiyangWhere(params.Filter)\n',
    why:
      'FerretDB v1 pushed a filter down to SQLite only when it was exactly {_id: <string>}; every other read, ' +
      'update or delete fetched and decoded the whole collection in Go (a guarded write {_id, version}, a ' +
      'lookup by elderId, every outbox relay\'s {outboxPending: true} poll). yiyangWhere (appended below) narrows ' +
      'by every top-level string, ObjectID or boolean equality and $in it can: _id by its index, other fields by their expression index ' +
      'with an OR-branch that keeps array values (Mongo matches an array that contains the value), so it ' +
      'returns a superset. Every caller (find, count, distinct, update, delete, findAndModify, aggregate ' +
      '$match) still applies the whole filter to the rows returned.',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '\tif params.Filter.Len() == 1 {\n\t\tv, _ := params.Filter.Get("_id")\n\t\tswitch v.(type) {\n\t\tcase string, types.ObjectID:\n\t\t\tfilterPushdown = true\n\t\t\twhereClause = fmt.Sprintf(` WHERE %s = ?`, metadata.IDColumn)\n\t\t\targs = []any{string(must.NotFail(sjson.MarshalSingleValue(v)))}\n\t\t}\n\t}\n',
    to: '\twhereClause, args = yiyangWhere(params.Filter)\n\tfilterPushdown = whereClause != ""\n',
    why: 'explain shows the same WHERE clause as the query it explains (the pushdown above).',
  },
  {
    file: 'internal/backends/sqlite/collection.go',
    from: '// check interfaces\n',
    to: `// yiyangWhere returns a WHERE clause that narrows a query by the filter's top-level string, ObjectID
// and boolean equalities and $in lists, so SQLite can answer them from the expression indexes FerretDB
// creates (_ferretdb_sjson->"field"). It may return a superset of the matches, never a subset: callers
// apply the whole filter afterwards. Mongo's {f: v} also matches an array f containing v, so for fields
// other than _id the clause keeps every row whose f is a JSON array ('[' .. '\\\\' is exactly the text of
// JSON arrays); SQLite answers both branches from the same index (MULTI-INDEX OR).
// Strings that sjson escapes are left to the Go filter: SQLite and Go need not escape them alike.
func yiyangWhere(filter *types.Document) (string, []any) {
\tif filter == nil {
\t\treturn "", nil
\t}

\tvar conds []string
\tvar args []any

\tfor _, k := range filter.Keys() {
\t\tif k == "" || strings.HasPrefix(k, "$") || strings.ContainsRune(k, '.') {
\t\t\tcontinue
\t\t}

\t\tvar values []any

\t\tswitch v := must.NotFail(filter.Get(k)).(type) {
\t\tcase string, types.ObjectID, bool:
\t\t\tvalues = []any{v}
\t\tcase *types.Document:
\t\t\tif v.Len() != 1 {
\t\t\t\tcontinue
\t\t\t}
\t\t\tif eq, err := v.Get("$eq"); err == nil {
\t\t\t\tvalues = []any{eq}
\t\t\t}
\t\t\tif in, err := v.Get("$in"); err == nil {
\t\t\t\tif arr, ok := in.(*types.Array); ok && arr.Len() > 0 && arr.Len() <= 500 {
\t\t\t\t\tfor i := 0; i < arr.Len(); i++ {
\t\t\t\t\t\tvalues = append(values, must.NotFail(arr.Get(i)))
\t\t\t\t\t}
\t\t\t\t}
\t\t\t}
\t\t}

\t\tif len(values) == 0 {
\t\t\tcontinue
\t\t}

\t\tmarks := make([]string, 0, len(values))
\t\tvalueArgs := make([]any, 0, len(values))
\t\tpushable := true

\t\tfor _, value := range values {
\t\t\tswitch value.(type) {
\t\t\tcase string, types.ObjectID, bool:
\t\t\tdefault:
\t\t\t\tpushable = false
\t\t\t}
\t\t\tif !pushable {
\t\t\t\tbreak
\t\t\t}
\t\t\ttext := string(must.NotFail(sjson.MarshalSingleValue(value)))
\t\t\tif strings.ContainsRune(text, '\\\\') {
\t\t\t\tpushable = false
\t\t\t\tbreak
\t\t\t}
\t\t\tmarks = append(marks, "?")
\t\t\tvalueArgs = append(valueArgs, text)
\t\t}

\t\tif !pushable {
\t\t\tcontinue
\t\t}

\t\tcolumn := fmt.Sprintf("%s->%q", metadata.DefaultColumn, k)
\t\tin := fmt.Sprintf("%s IN (%s)", column, strings.Join(marks, ", "))

\t\tif k == "_id" {
\t\t\tconds = append(conds, in)
\t\t\targs = append(args, valueArgs...)
\t\t\tcontinue
\t\t}

\t\tconds = append(conds, fmt.Sprintf("(%s OR (%s >= ? AND %s < ?))", in, column, column))
\t\targs = append(args, valueArgs...)
\t\targs = append(args, "[", "\\\\")
\t}

\tif len(conds) == 0 {
\t\treturn "", nil
\t}

\treturn " WHERE " + strings.Join(conds, " AND "), args
}

// check interfaces
`,
    why: 'yiyangWhere, used by the two patches above.',
  },
  {
    file: 'internal/util/fsql/db.go',
    from: '\t"log/slog"\n\t"time"\n',
    to: '\t"log/slog"\n\t"sync"\n\t"time"\n',
    why: 'sync, for the write mutex below.',
  },
  {
    file: 'internal/util/fsql/db.go',
    from: '\ttoken     *resource.Token\n\tBatchSize int\n}\n',
    to:
      '\ttoken     *resource.Token\n\tBatchSize int\n\n' +
      '\t// writes admits one write (a transaction or a statement outside one) at a time to this\n' +
      '\t// database file, in arrival order. SQLite takes one writer per file anyway; without this a\n' +
      '\t// second writer got SQLITE_BUSY and slept in SQLite\'s busy handler (1, 2, 5, ... 100 ms steps),\n' +
      '\t// so it woke up to 100 ms after the file was free. Reads take no lock (WAL).\n' +
      '\twrites sync.Mutex\n}\n',
    why:
      'Since the proxy (serialize.go) no longer runs all writes one at a time, writers to one database ' +
      'meet in SQLite; this hands the file over in Go instead of by sleeping and retrying.',
  },
  {
    file: 'internal/util/fsql/db.go',
    from: '\tres, err := db.sqlDB.ExecContext(ctx, query, args...)\n',
    to: '\tdb.writes.Lock()\n\tres, err := db.sqlDB.ExecContext(ctx, query, args...)\n\tdb.writes.Unlock()\n',
    why: 'statements outside a transaction (deleteMany, DDL) are writes too.',
  },
  {
    file: 'internal/util/fsql/db.go',
    from: '\tvar sqlTx *sql.Tx\n\n\tif sqlTx, err = db.sqlDB.BeginTx(ctx, nil); err != nil {\n',
    to: '\tvar sqlTx *sql.Tx\n\n\tdb.writes.Lock()\n\tdefer db.writes.Unlock()\n\n\tif sqlTx, err = db.sqlDB.BeginTx(ctx, nil); err != nil {\n',
    why: 'FerretDB uses transactions only to write (insert, update).',
  },
  {
    file: 'internal/backends/sqlite/metadata/registry.go',
    from:
      'func (r *Registry) initCollections(ctx context.Context, dbName string, db *fsql.DB) error {\n' +
      '\trows, err := db.QueryContext(',
    to:
      'func (r *Registry) initCollections(ctx context.Context, dbName string, db *fsql.DB) error {\n' +
      '\tif _, err := db.ExecContext(ctx, fmt.Sprintf(\n' +
      '\t\t"CREATE TABLE IF NOT EXISTS %q ("+\n' +
      '\t\t\t"name TEXT NOT NULL UNIQUE CHECK(name != \'\'), "+\n' +
      '\t\t\t"table_name TEXT NOT NULL UNIQUE CHECK(table_name != \'\'), "+\n' +
      '\t\t\t"settings TEXT NOT NULL CHECK(settings != \'\')"+\n' +
      '\t\t\t") STRICT",\n' +
      '\t\tmetadataTableName,\n' +
      '\t)); err != nil {\n' +
      '\t\treturn lazyerrors.Error(err)\n' +
      '\t}\n\n' +
      '\trows, err := db.QueryContext(',
    why:
      'A database file is created first and its metadata table right after; a crash in between ' +
      'left a file without the table, and FerretDB then refused to start at all ("no such table: ' +
      '_ferretdb_collections"). Such a file holds no collections: it now opens as the empty database it is.',
  },
  {
    file: 'internal/handler/msg_update.go',
    from: '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n',
    to: '\t\tresult, err := common.UpdateDocument(ctx, c, "update", iter, &u)\n\t\tcloser.Close()\n',
    why:
      'FerretDB v1 closed each statement\'s query of an update command with a defer inside the loop, so ' +
      'they all stayed open until the command returned: an update command of more than ~100 statements ' +
      '(a bulkWrite of updateOne) held all 100 SQLite connections of its database and waited for a ' +
      '101st forever, and with the write lock held, every writer on the machine waited with it.',
  },
];

const ferretdb = {
  name: 'ferretdb',
  pidFile: path.join(DIRS.pids, 'ferretdb.pid'),
  logFile: path.join(DIRS.logs, 'ferretdb.log'),
  src: path.join(HERE, 'ferretdb'),
  binary: path.join(DIRS.bin, 'yiyang-ferretdb'),
  binaryHash: path.join(DIRS.bin, 'yiyang-ferretdb.sha256'),
  dataDir: path.join(DIRS.ferretdb, 'data'),
  get marker() {
    return this.binary;
  },

  external() {
    return process.env.MONGO_URL?.trim() || null;
  },
  runningEndpoint() {
    const pid = ourPid(this);
    const argv = pid ? procCmdline(pid) : null;
    const listen = argv?.[argv.indexOf('-listen') + 1];
    return listen && argv.includes('-listen') ? hostPort(listen, 27017) : this.wantedEndpoint();
  },
  wantedEndpoint() {
    return { host: HOST, port: envPort('YIYANG_MONGO_PORT', 27017) };
  },
  url({ host, port }) {
    return `mongodb://${host}:${port}/`;
  },
  envLine(ep) {
    return `MONGO_URL=${this.url(ep)}`;
  },
  async probe({ host, port }) {
    const { ferretdbVersion, version } = await probeMongo(host, port);
    return ferretdbVersion ? `FerretDB ${ferretdbVersion} (MongoDB ${version} compatible)` : `MongoDB ${version ?? ''}`.trim();
  },
  async probeExternal(value) {
    let u;
    try {
      u = new URL(value);
    } catch {
      throw new Error(`MONGO_URL is not a URL: ${value}`);
    }
    // SRV records and TLS need a real driver; trust the user there.
    if (u.protocol !== 'mongodb:' || /(^|&)(tls|ssl)=true/.test(u.search.slice(1))) return 'not probed (SRV/TLS URL)';
    const hosts = value.replace(/^mongodb:\/\/([^@/]*@)?/, '').split(/[/?]/)[0];
    const ep = hostPort(hosts.split(',')[0], 27017);
    return `${await this.probe(ep)} at ${ep.host}:${ep.port}`;
  },
  tools: ['go'],
  async checkPorts() {
    await ensurePortFree(this.wantedEndpoint().port, 'MongoDB', 'MONGO_URL');
  },

  async prepare() {
    // Every Go file counts (main.go and the proxy in serialize.go), so an edit always rebuilds;
    // so do the upstream patches below.
    const sources = fs
      .readdirSync(this.src)
      .filter((f) => f.endsWith('.go') || f === 'go.mod' || f === 'go.sum')
      .sort()
      .map((f) => path.join(this.src, f));
    const want = createHash('sha256').update(sha256(sources)).update(JSON.stringify(FERRETDB_PATCHES)).digest('hex');
    if (fs.existsSync(this.binary) && readIfExists(this.binaryHash)?.trim() === want) return;
    log('building FerretDB (first time takes a few minutes)…');
    fs.mkdirSync(DIRS.bin, { recursive: true });
    const env = { ...process.env, CGO_ENABLED: '0' };
    const modfile = this.patchedModule(env);
    // Pure-Go SQLite (modernc.org/sqlite), so no C toolchain is needed.
    const r = run('go', ['build', `-modfile=${modfile}`, '-o', this.binary, './'], { cwd: this.src, env });
    if (!r.ok) throw new InfraError(`go build in ${rel(this.src)} failed:\n${r.out.trim()}`);
    fs.writeFileSync(this.binaryHash, `${want}\n`);
  },

  /**
   * Copies FerretDB's module out of the Go module cache into .infra/, applies FERRETDB_PATCHES and
   * returns a go.mod (beside the committed one, never replacing it) that builds against the copy.
   */
  patchedModule(env) {
    const dl = run('go', ['mod', 'download', '-json', FERRETDB_MODULE], { cwd: this.src, env });
    if (!dl.ok) throw new InfraError(`go mod download ${FERRETDB_MODULE} failed:\n${dl.out.trim()}`);
    const upstream = JSON.parse(dl.out.slice(dl.out.indexOf('{'))).Dir;
    const copy = path.join(DIRS.ferretdb, 'patched-module');
    fs.rmSync(copy, { recursive: true, force: true });
    fs.cpSync(upstream, copy, { recursive: true });
    for (const patch of FERRETDB_PATCHES) {
      const file = path.join(copy, patch.file);
      fs.chmodSync(file, 0o644); // the module cache is read-only, and so is its copy
      const text = fs.readFileSync(file, 'utf8');
      if (text.split(patch.from).length !== (patch.times ?? 1) + 1) {
        throw new InfraError(`FerretDB patch no longer applies to ${patch.file} (upstream changed?): ${patch.why}`);
      }
      fs.writeFileSync(file, text.split(patch.from).join(patch.to));
    }
    const modfile = path.join(DIRS.ferretdb, 'go.patched.mod');
    const gomod = fs.readFileSync(path.join(this.src, 'go.mod'), 'utf8');
    fs.writeFileSync(modfile, `${gomod}\nreplace ${FERRETDB_MODULE.split('@')[0]} => ${copy}\n`);
    fs.copyFileSync(path.join(this.src, 'go.sum'), modfile.replace(/\.mod$/, '.sum'));
    return modfile;
  },

  async start() {
    await this.prepare();
    const { host, port } = this.wantedEndpoint();
    fs.mkdirSync(this.dataDir, { recursive: true });
    return startDetached(this, this.binary, ['-listen', `${host}:${port}`, '-data-dir', this.dataDir, '-log-level', 'info'], {
      cwd: DIRS.ferretdb,
    });
  },
};

const COMPONENTS = [kafka, ferretdb];

async function ensurePortFree(port, what, envName) {
  const inUse = await new Promise((resolve) => {
    const s = net.createConnection({ host: HOST, port });
    s.setTimeout(1000, () => (s.destroy(), resolve(false)));
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
  if (inUse) {
    throw new InfraError(
      `${HOST}:${port} is already in use by a process this script didn't start. ` +
        `If it is a ${what} you want to use, set ${envName}; otherwise stop it or pick another port (see tools/infra/infra.mjs header).`,
    );
  }
}

// ---------------------------------------------------------------------------
// Commands.

function preflight(components) {
  const missing = [...new Set(components.flatMap((c) => c.tools))].filter((t) => !which(t));
  const problems = [];
  if (missing.length) problems.push(`missing: ${missing.join(', ')}`);

  if (!missing.includes('java') && components.includes(kafka)) {
    const out = run('java', ['-version']).out;
    const major = Number(/version "(1\.)?(\d+)/.exec(out)?.[2]);
    if (!(major >= 17)) problems.push(`java is version ${major || 'unknown'}, need 17+`);
  }
  if (!missing.includes('go') && components.includes(ferretdb)) {
    const need = /^go (\d+)\.(\d+)/m.exec(readIfExists(path.join(ferretdb.src, 'go.mod')) ?? '') ?? [0, 1, 22];
    const have = /go(\d+)\.(\d+)/.exec(run('go', ['env', 'GOVERSION']).out) ?? [0, 0, 0];
    if (Number(have[1]) * 1000 + Number(have[2]) < Number(need[1]) * 1000 + Number(need[2])) {
      problems.push(`go is ${have[0] === 0 ? 'unknown' : `go${have[1]}.${have[2]}`}, need go${need[1]}.${need[2]}+`);
    }
  }
  if (problems.length) {
    throw new InfraError(
      'Yiyang needs a JDK 17+ (java), Maven (mvn) and Go 1.24+ (go) to run Kafka and FerretDB locally; ' +
        `${problems.join('; ')}. Install them (Debian/Ubuntu: apt-get install openjdk-17-jdk-headless maven, Go from go.dev), ` +
        'or set KAFKA_BROKERS and MONGO_URL to use existing ones, or use docker compose.',
    );
  }
}

async function waitReady(c, pid) {
  const ep = c.runningEndpoint();
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer yet';
  while (Date.now() < deadline) {
    if (pid !== null && !alive(pid)) {
      fs.rmSync(c.pidFile, { force: true });
      throw new InfraError(`${c.name} exited during startup. Last lines of ${rel(c.logFile)}:\n${tail(c.logFile, 30)}`);
    }
    try {
      return await c.probe(ep);
    } catch (e) {
      last = e.message;
    }
    await sleep(500);
  }
  throw new InfraError(
    `${c.name} did not answer on ${c.url(ep)} within ${READY_TIMEOUT_MS / 1000}s (${last}). ` +
      `It is left running (pid ${pid}) — see \`node tools/infra/infra.mjs logs ${c.name}\`. Last lines of ${rel(c.logFile)}:\n${tail(c.logFile, 30)}`,
  );
}

async function up() {
  const t0 = Date.now();
  const toStart = [];
  for (const c of COMPONENTS) {
    const ext = c.external();
    if (ext) {
      try {
        log(`${c.name}: using external ${ext} — ${await c.probeExternal(ext)}`);
      } catch (e) {
        throw new InfraError(`${c.name}: external ${ext} does not answer: ${e.message}`);
      }
    } else if (ourPid(c) === null) {
      toStart.push(c);
    }
  }
  preflight(toStart);
  // Before starting anything, so a busy port doesn't leave half the stack up.
  for (const c of toStart) await c.checkPorts();

  // Start everything first, then wait, so Kafka's JVM warm-up overlaps with
  // FerretDB's build/start.
  const started = new Map();
  for (const c of toStart) {
    fs.rmSync(c.pidFile, { force: true }); // stale: process gone or PID reused
    const pid = await c.start();
    log(`${c.name}: started pid ${pid}, log ${rel(c.logFile)}`);
    started.set(c, pid);
  }
  for (const c of COMPONENTS) {
    if (c.external()) continue;
    const pid = started.get(c) ?? ourPid(c);
    const wanted = c.wantedEndpoint();
    const actual = c.runningEndpoint();
    if (!started.has(c) && actual.port !== wanted.port) {
      log(`${c.name}: already running on port ${actual.port}; the requested port ${wanted.port} applies after \`down\``);
    }
    if (!started.has(c)) log(`${c.name}: already running (pid ${pid}), checking it answers…`);
    const what = await waitReady(c, pid);
    log(`${c.name}: ready — ${what} at ${c.url(actual)}`);
  }
  log(toStart.length ? `up in ${((Date.now() - t0) / 1000).toFixed(1)}s` : 'everything was already running');
  printEnv();
}

function printEnv() {
  const lines = COMPONENTS.map((c) => (c.external() ? `${c.name === 'kafka' ? 'KAFKA_BROKERS' : 'MONGO_URL'}=${c.external()}` : c.envLine(c.runningEndpoint())));
  log(`use: ${lines.join('  ')}`);
}

async function down() {
  for (const c of COMPONENTS) {
    if (c.external() && ourPid(c) === null) {
      log(`${c.name}: external (${c.external()}), nothing to stop`);
      continue;
    }
    await stop(c);
  }
}

async function status() {
  let healthy = true;
  for (const c of COMPONENTS) {
    const ext = c.external();
    let line;
    if (ext) {
      try {
        line = `external ${ext}, answering — ${await c.probeExternal(ext)}`;
      } catch (e) {
        line = `external ${ext}, NOT answering (${e.message})`;
        healthy = false;
      }
    } else {
      const pid = ourPid(c);
      if (pid === null) {
        line = 'not running';
        healthy = false;
      } else {
        const ep = c.runningEndpoint();
        try {
          line = `running (pid ${pid}), answering at ${c.url(ep)} — ${await c.probe(ep)}`;
        } catch (e) {
          line = `running (pid ${pid}), NOT answering at ${c.url(ep)} (${e.message}); see ${rel(c.logFile)}`;
          healthy = false;
        }
      }
    }
    console.log(`${c.name.padEnd(9)} ${line}`);
  }
  return healthy ? 0 : 1;
}

function logs(which) {
  const list = which ? COMPONENTS.filter((c) => c.name === which) : COMPONENTS;
  if (list.length === 0) throw new InfraError(`unknown component "${which}" (kafka or ferretdb)`);
  for (const c of list) {
    console.log(`===== ${rel(c.logFile)} (last 100 lines) =====`);
    console.log(tail(c.logFile, 100));
  }
}

const USAGE = `usage: node tools/infra/infra.mjs <up|down|status|logs [kafka|ferretdb]>`;

async function main([cmd, arg]) {
  switch (cmd) {
    case 'up':
      await up();
      return 0;
    case 'down':
      await down();
      return 0;
    case 'status':
      return status();
    case 'logs':
      logs(arg);
      return 0;
    default:
      console.error(USAGE);
      return cmd === undefined || cmd === 'help' || cmd === '--help' || cmd === '-h' ? 0 : 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e) => {
    console.error(e instanceof InfraError ? `[infra] ${e.message}` : e);
    if (process.argv[2] === 'up') console.error('[infra] `node tools/infra/infra.mjs down` stops whatever did start.');
    process.exit(1);
  },
);
