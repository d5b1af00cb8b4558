#!/usr/bin/env node
// `make bench-edge`: what the keygate edge worker costs per request, measured
// against a pass-through worker in the same kind of workerd. Not a timed test:
// it prints a table, writes bench/edge/RESULTS.md and says which goals were
// met and by how much the others were missed. It never fails on a goal.
//
// Method (why each piece is there):
// * Every target runs in its OWN workerd process (one Miniflare instance
//   each, port 0), so the CPU time that /proc reports for that process over a
//   batch of requests belongs to that target alone. All targets share one
//   loopback demo origin (a separate Node process whose CPU is not counted).
// * The workerd pid of an instance is found from its listening socket:
//   Miniflare tells us the port; /proc/net/tcp{,6} maps the LISTEN socket on
//   that port to an inode; the child process of this Node process that holds
//   `socket:[inode]` among its fds is that instance's workerd. (Scanning for
//   "any new workerd child" would also work, but the socket proves the pid is
//   the process that actually serves the port we load.)
// * CPU per request is read from /proc around each batch: the sum over the
//   process's threads of /proc/<pid>/task/<tid>/schedstat field 1 (ns on CPU)
//   is the primary figure, because utime+stime in /proc/<pid>/stat (fields
//   14+15) only has 10 ms ticks; the tick figure is still reported as a
//   cross-check (they must agree over the whole run).
// * Load is bounded and interleaved: warm-up, then R rounds in which every
//   target gets M sequential requests (concurrency 1, keep-alive), the start
//   target rotating from round to round. Machine drift (other builds on the
//   2 cores) is thereby shared by all targets, and the overhead of a target is
//   computed per round against the pass-through of the same round; the table
//   gives the whole-run figure and the min/median/max across rounds.
// * Overhead (CPU ms per request above pass-through) is the headline, not
//   requests/s: a local pass-through already costs about 1 ms of workerd CPU
//   per request, which drowns a verifier in any latency or throughput figure.
// * One Ed25519 check in WebCrypto is measured in its own worker as the CPU
//   of a request doing N verifies minus one doing none, divided by N (clocks
//   inside workerd do not advance during CPU work, so only /proc can tell).
//
// Usage: node bench/edge/run.mjs [--rounds 20] [--per-round 300] [--warmup 200]
//        [--tp-rounds 3] [--tp-per-round 400] [--tp-concurrency 8]
//        [--verify-n 2000] [--verify-reps 5] [--startup-reps 3]
//        [--out bench/edge/RESULTS.md] [--json FILE] [--quick]
// Everything listens on 127.0.0.1 only; every process started here is
// stopped at the end, on error and on Ctrl-C.

import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from "node:fs";
import { Agent, request as httpRequest } from "node:http";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createHash, randomBytes } from "node:crypto";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { SignJWT, importJWK } from "jose";
import { Log, LogLevel, Miniflare } from "miniflare";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = resolve(HERE, "../..");
const HOST = "127.0.0.1";
const COMPAT_DATE = "2026-04-01"; // as dev/edge-host.mjs and wrangler.toml
const CLIENT_ID = "cl_benchedge";
// A fixed audience (AUDIENCE var) so tokens can be minted before the
// workers' random ports are known.
const AUDIENCE = "https://bench.keygate.invalid";
const PATH = "/v1/bench?x=1";

// ---------------------------------------------------------------- options --

const { values: opt } = parseArgs({
  options: {
    rounds: { type: "string", default: "20" },
    "per-round": { type: "string", default: "300" },
    warmup: { type: "string", default: "200" },
    "tp-rounds": { type: "string", default: "3" },
    "tp-per-round": { type: "string", default: "400" },
    "tp-concurrency": { type: "string", default: "8" },
    "verify-n": { type: "string", default: "2000" },
    "verify-reps": { type: "string", default: "5" },
    "startup-reps": { type: "string", default: "3" },
    keygate: { type: "string", default: resolve(REPO, "target/debug/keygate") },
    script: { type: "string", default: resolve(REPO, "edge/build/index.js") },
    out: { type: "string", default: resolve(HERE, "RESULTS.md") },
    // Optional: every batch's raw numbers (n, wall, CPU, latencies), for
    // looking at drift or outliers after the fact.
    json: { type: "string" },
    // Smoke test of the harness itself; its numbers mean little.
    quick: { type: "boolean", default: false },
  },
});
const int = (name) => {
  const n = Number(opt[name]);
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a non-negative integer`);
  return n;
};
const cfg = {
  rounds: int("rounds"),
  perRound: int("per-round"),
  warmup: int("warmup"),
  tpRounds: int("tp-rounds"),
  tpPerRound: int("tp-per-round"),
  tpConcurrency: Math.max(1, int("tp-concurrency")),
  verifyN: Math.max(1, int("verify-n")),
  verifyReps: Math.max(1, int("verify-reps")),
  startupReps: Math.max(1, int("startup-reps")),
};
if (opt.quick) Object.assign(cfg, { rounds: 2, perRound: 50, warmup: 20, tpRounds: 1, tpPerRound: 50, verifyN: 200, verifyReps: 2, startupReps: 1 });
if (cfg.rounds < 1 || cfg.perRound < 1) throw new Error("--rounds and --per-round must be at least 1");

const log = (...a) => console.error("bench-edge:", ...a);

// ---------------------------------------------------------------- cleanup --

// Everything started here registers its stop function; they run once, in
// reverse order, on normal exit, on error and on SIGINT/SIGTERM.
const stops = [];
// Synchronous last resorts for an exit that skips stopAll (a second Ctrl-C,
// an exit from library code): they run in process.on("exit").
const onExitSync = [];
let stopping;
function stopAll() {
  stopping ??= (async () => {
    for (const stop of stops.reverse()) await stop().catch((e) => log(`cleanup: ${e.message}`));
  })();
  return stopping;
}
const onSignal = async (sig) => {
  if (stopping) process.exit(130); // second signal: stop waiting
  log(`${sig}: stopping`);
  await stopAll();
  process.exit(130);
};
process.on("SIGINT", onSignal);
process.on("SIGTERM", onSignal);
process.on("exit", () => onExitSync.forEach((f) => f()));
// Miniflare's exit hook adds its own SIGINT/SIGTERM listeners, which kill
// workerd and exit(130) at once, before the origin and the temp dir are
// cleaned up (dev/edge-host.mjs does the same). Called after each
// `new Miniflare`; its "exit" listener stays, still killing workerd on any exit.
function keepOnlyOurSignalHandlers() {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    for (const l of process.listeners(sig)) if (l !== onSignal) process.removeListener(sig, l);
  }
}

// ----------------------------------------------------------------- /proc --

/** CPU used so far by every thread of `pid`: ns from schedstat, and utime+stime ticks. */
function readCpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after "(comm)": index 0 is field 3, so utime (14) is 11, stime (15) is 12.
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(f[11]) + Number(f[12]);
  let ns = 0;
  let threads = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      threads++;
    } catch {
      // the thread ended between readdir and read
    }
  }
  return { ns, ticks, threads };
}
const cpuDelta = (a, b) => ({ ns: b.ns - a.ns, ticks: b.ticks - a.ticks, threadsChanged: a.threads !== b.threads });
const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

function ppidOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

/** The pid of the process holding the LISTEN socket on 127.0.0.1:`port` (see header). */
function pidListeningOn(port) {
  const portHex = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let lines = [];
    try {
      lines = readFileSync(table, "utf8").trim().split("\n").slice(1);
    } catch {
      continue;
    }
    for (const line of lines) {
      const col = line.trim().split(/\s+/);
      // col[1] local "ADDR:PORT", col[3] state (0A = LISTEN), col[9] inode
      if (col[1].endsWith(`:${portHex}`) && col[3] === "0A") inodes.add(`socket:[${col[9]}]`);
    }
  }
  if (inodes.size === 0) throw new Error(`no LISTEN socket on port ${port}`);
  const pids = readdirSync("/proc").filter((d) => /^\d+$/.test(d)).map(Number);
  // Our own children first (Miniflare spawns workerd directly); then anyone.
  const ordered = [...pids.filter((p) => ppidOf(p) === process.pid), ...pids];
  for (const pid of ordered) {
    let fds;
    try {
      fds = readdirSync(`/proc/${pid}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      try {
        if (inodes.has(readlinkSync(`/proc/${pid}/fd/${fd}`))) return pid;
      } catch {
        // fd closed meanwhile
      }
    }
  }
  throw new Error(`no process holds the LISTEN socket on port ${port}`);
}

// ------------------------------------------------------------- utilities --

const sum = (a) => a.reduce((x, y) => x + y, 0);
function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]; // nearest rank
}
const median = (v) => quantile(v, 0.5);
const b64url = (buf) => Buffer.from(buf).toString("base64url");

function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}

// ---------------------------------------------------------- key material --

/** A real keygate secret key, its public and private JWK, from the CLI; no control plane. */
function keyMaterial(dir) {
  const kg = opt.keygate;
  try {
    statSync(kg);
  } catch {
    throw new Error(`${kg} not found: run \`cargo build --bin keygate\``);
  }
  // `admin-key create` mints a valid secret key offline into a throwaway
  // SQLite database; only the key text is used.
  const key = run(kg, ["admin-key", "create", "--out", "-"], { DATABASE_URL: `sqlite://${join(dir, "keys.db")}` });
  const info = JSON.parse(run(kg, ["--json", "key", "inspect", key]));
  const jwk = JSON.parse(run(kg, ["key", "jwk", key]));
  const privateJwk = JSON.parse(run(kg, ["key", "jwk", "--private", key]));
  if (info.type !== "secret" || info.env !== "live" || jwk.kid !== info.id) throw new Error(`unexpected key: ${JSON.stringify(info)}`);
  return { key, keyId: info.id, jwk, privateJwk };
}

async function mintTokens(privateJwk, kid, count) {
  const signingKey = await importJWK(privateJwk, "EdDSA");
  const now = Math.floor(Date.now() / 1000);
  const one = () =>
    new SignJWT({})
      .setProtectedHeader({ alg: "EdDSA", typ: "at+jwt", kid })
      .setIssuer(CLIENT_ID)
      .setSubject(CLIENT_ID)
      .setAudience(AUDIENCE)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600) // keygate's default maximum lifetime
      .setJti(b64url(randomBytes(16)))
      .sign(signingKey);
  const tokens = [];
  for (let i = 0; i < count; i += 256) {
    tokens.push(...(await Promise.all(Array.from({ length: Math.min(256, count - i) }, one))));
  }
  return tokens;
}

// KV records exactly as the control plane publishes them (shared/src/record.rs).
const sha256Hex = (text) => createHash("sha256").update(text).digest("hex");
function kvRecords(km) {
  const common = { scopes: [], expires_at: null, revoked_at: null, client_disabled: false, rev: 1 };
  return {
    [`sk:${sha256Hex(km.key)}`]: { v: 1, client_id: CLIENT_ID, key_id: km.keyId, env: "live", key_type: "secret", ...common },
    [`jwk:${km.keyId}`]: { v: 1, client_id: CLIENT_ID, env: "live", jwk: km.jwk, ...common },
    [`client:${CLIENT_ID}`]: { v: 1, client_id: CLIENT_ID, revoked_before: null, disabled: false, rev: 1 },
  };
}

// --------------------------------------------------------------- processes --

async function startOrigin() {
  const child = spawn(process.execPath, [resolve(REPO, "dev/demo-origin.mjs"), "--live-port", "0", "--test-port", "0"], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  onExitSync.push(() => child.exitCode === null && child.kill("SIGKILL"));
  stops.push(async () => {
    if (child.exitCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 3000);
      await once(child, "exit");
      clearTimeout(timer);
    }
  });
  let out = "";
  for await (const chunk of child.stdout) {
    out += chunk;
    const m = /READY live=(\S+) test=(\S+)/.exec(out);
    if (m) return { live: m[1], test: m[2] };
  }
  throw new Error("demo origin exited before READY");
}

class StderrLog extends Log {
  log(message) {
    process.stderr.write(`${message}\n`);
  }
}

/**
 * Starts one worker in its own workerd; returns its URL, workerd pid, and how
 * long `new Miniflare` took to become ready.
 */
async function startWorker(name, worker, kv = {}) {
  const started = process.hrtime.bigint();
  const mf = new Miniflare({
    ...worker,
    modules: true,
    compatibilityDate: COMPAT_DATE,
    kvNamespaces: { KEYS: "bench" },
    host: HOST,
    port: 0,
    cf: false, // offline: never fetch the Request.cf template
    log: new StderrLog(LogLevel.WARN),
    // Worker logs (keygate logs every refusal) go to our stderr; write()
    // rather than pipe(), which would add listeners to stderr per instance.
    handleRuntimeStdio(stdout, stderr) {
      stdout.on("data", (d) => process.stderr.write(d));
      stderr.on("data", (d) => process.stderr.write(d));
    },
  });
  keepOnlyOurSignalHandlers();
  let disposed = false;
  const dispose = async () => {
    if (!disposed) {
      disposed = true;
      await mf.dispose();
    }
  };
  stops.push(dispose);
  let url;
  try {
    url = await mf.ready;
  } catch (err) {
    throw new Error(`${name}: workerd did not start the worker (its error is above; a broken or half-written edge/build?): ${err.message}`);
  }
  const readyMs = Number(process.hrtime.bigint() - started) / 1e6;
  const port = Number(url.port);
  const pid = pidListeningOn(port);
  const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  if (!comm.startsWith("workerd")) throw new Error(`${name}: port ${port} is served by ${comm} (${pid}), not workerd`);
  if (Object.keys(kv).length) {
    const ns = await mf.getKVNamespace("KEYS");
    for (const [k, v] of Object.entries(kv)) await ns.put(k, JSON.stringify(v));
  }
  return { name, mf, pid, port, readyMs, readyCpu: readCpu(pid), dispose };
}

// ------------------------------------------------------------ HTTP client --

/** One GET; resolves with status, latency (ns, until the body's last byte) and body. */
function get(agent, port, path, headers) {
  return new Promise((resolveReq, reject) => {
    const t0 = process.hrtime.bigint();
    const req = httpRequest({ host: HOST, port, path, agent, headers }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () =>
        resolveReq({ status: res.statusCode, ns: Number(process.hrtime.bigint() - t0), body: Buffer.concat(chunks) }),
      );
    });
    req.setTimeout(30_000, () => req.destroy(new Error(`timeout on port ${port}`)));
    req.on("error", reject);
    req.end();
  });
}

/**
 * `n` requests to a target at `concurrency`, CPU read around the batch.
 * Any non-200 aborts the run: a refused request is cheap and would make the
 * verifier look fast.
 */
async function batch(target, n, concurrency) {
  const latencies = [];
  let issued = 0;
  const cpu0 = readCpu(target.proc.pid);
  const t0 = process.hrtime.bigint();
  const loop = async () => {
    while (issued < n) {
      issued++;
      const r = await get(target.agent, target.proc.port, PATH, target.headers());
      if (r.status !== 200) throw new Error(`${target.name}: HTTP ${r.status}: ${r.body.toString().slice(0, 300)}`);
      latencies.push(r.ns / 1e6);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = cpuDelta(cpu0, readCpu(target.proc.pid));
  return { n, wallMs, latencies, cpuMs: cpu.ns / 1e6, tickMs: (cpu.ticks * 1000) / CLK_TCK, threadsChanged: cpu.threadsChanged };
}

// ----------------------------------------------------------------- sizes --

function sizes(file) {
  const raw = readFileSync(file);
  let gz;
  const r = spawnSync("gzip", ["-9c", file], { maxBuffer: 64 << 20 });
  gz = r.status === 0 ? r.stdout.length : gzipSync(raw, { level: 9 }).length; // zlib only if gzip is missing
  return { raw: raw.length, gz };
}

// A copy of the build, so a concurrent `make build-edge` cannot swap the
// worker under a running measurement; sizes are of this copy. worker-build
// writes index.js first and rewrites index_bg.wasm seconds later (wasm-opt),
// so copy only once nothing in the directory has changed for a few seconds,
// and check that nothing changed while copying.
async function snapshotBuild(src, dest) {
  const QUIET_MS = 5000;
  // The worker is these two files (index.js imports ./index_bg.wasm).
  const files = ["index.js", "index_bg.wasm"];
  const state = () => files.map((f) => `${f}:${statSync(join(src, f)).size}:${statSync(join(src, f)).mtimeMs}`).join("\n");
  const newest = () => Math.max(...files.map((f) => statSync(join(src, f)).mtimeMs));
  mkdirSync(dest, { recursive: true });
  for (let waited = 0; waited < 180_000; waited += 2000) {
    if (Date.now() - newest() >= QUIET_MS) {
      const before = state();
      for (const f of files) copyFileSync(join(src, f), join(dest, f));
      if (state() === before) return;
    }
    if (waited === 0) log(`${relative(process.cwd(), src)} is being written (a build running?); waiting for it to settle`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  throw new Error(`${src} kept changing for 3 minutes; run again when the build is done`);
}

// ------------------------------------------------------------------ main --

async function main() {
  const startedAt = new Date();
  const load0 = loadavg();
  const tmp = mkdtempSync(join(tmpdir(), "keygate-bench-edge-"));
  const removeTmp = () => rmSync(tmp, { recursive: true, force: true });
  stops.push(async () => removeTmp());
  onExitSync.push(removeTmp);

  const kgDir = join(tmp, "keygate");
  await snapshotBuild(dirname(opt.script), kgDir);
  const kgScript = join(kgDir, "index.js");
  const size = { wasm: sizes(join(kgDir, "index_bg.wasm")), js: sizes(kgScript) };
  const buildId = {
    sha256: createHash("sha256").update(readFileSync(join(kgDir, "index_bg.wasm"))).digest("hex").slice(0, 12),
    mtime: statSync(join(dirname(opt.script), "index_bg.wasm")).mtime.toISOString(),
  };

  log("key material and tokens");
  const km = keyMaterial(tmp);
  const kv = kvRecords(km);
  const latencyFresh = cfg.warmup + cfg.rounds * cfg.perRound;
  // +1: the sanity request before the warm-up.
  const freshNeeded = 1 + latencyFresh + cfg.tpRounds * cfg.tpPerRound;
  // keygate's isolate token cache holds 10,000 entries; past that every new
  // token also pays for eviction, which is then measured too (say so).
  if (freshNeeded > 10_000) log(`warning: ${freshNeeded} fresh tokens overflow keygate's 10,000-entry token cache`);
  const [reusedToken, ...freshTokens] = await mintTokens(km.privateJwk, km.keyId, 1 + freshNeeded);

  // jose is a bare import: bundle it the way wrangler would.
  const joseBundle = await build({
    entryPoints: [join(HERE, "jose-worker.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    minify: true,
    logLevel: "warning",
  });
  const joseScript = joseBundle.outputFiles[0].text;
  const joseGz = gzipSync(joseScript, { level: 9 }).length;

  log("starting the origin and the workers");
  const origin = await startOrigin();
  const keygateVars = {
    ORIGIN_LIVE: origin.live,
    ORIGIN_TEST: origin.test,
    REQUIRE_HTTPS: "false",
    AUDIENCE,
  };
  const keygateWorker = {
    scriptPath: kgScript,
    modulesRoot: kgDir,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"], fallthrough: true }],
    bindings: keygateVars,
  };
  const passWorker = { scriptPath: join(HERE, "passthrough.mjs"), bindings: { ORIGIN_LIVE: origin.live } };
  const joseWorker = { script: joseScript, bindings: { ORIGIN_LIVE: origin.live, AUDIENCE } };
  const [, , sig] = reusedToken.split(".");
  const webcryptoWorker = {
    scriptPath: join(HERE, "webcrypto-worker.mjs"),
    bindings: {
      PUBLIC_KEY: km.jwk.x,
      SIGNATURE: sig,
      MESSAGE: b64url(reusedToken.slice(0, reusedToken.lastIndexOf("."))),
    },
  };

  // One process per target (see header). Started one after another: the
  // machine has 2 cores and other builds may be running.
  const procs = {};
  for (const [name, worker, records] of [
    ["pass", passWorker, {}],
    ["kgStatic", keygateWorker, kv],
    // Diagnostic: the same keygate with the benchmark path public, so it
    // forwards without looking at the credential. Its overhead is the Rust
    // shell plus forward(); static minus it is the key check itself.
    ["kgPublic", { ...keygateWorker, bindings: { ...keygateVars, PUBLIC_PATHS: PATH.split("?")[0] } }, kv],
    ["kgReused", keygateWorker, kv],
    ["kgFresh", keygateWorker, kv],
    ["joseReused", joseWorker, kv],
    ["joseFresh", joseWorker, kv],
    ["webcrypto", webcryptoWorker, {}],
  ]) {
    procs[name] = await startWorker(name, worker, records);
  }
  log(`workerd pids: ${Object.values(procs).map((p) => `${p.name}=${p.pid}`).join(" ")}`);

  // Fresh-token targets each walk the same list with their own cursor: they
  // are separate isolates, so a token is "first sight" for each of them.
  const staticHeaders = { authorization: `Bearer ${km.key}` };
  const bearer = (t) => ({ authorization: `Bearer ${t}` });
  const fresh = () => {
    let i = 0;
    return () => {
      if (i >= freshTokens.length) throw new Error("ran out of fresh tokens");
      return bearer(freshTokens[i++]);
    };
  };
  const targets = [
    { id: "pass", name: "pass-through (JS, no verification)", proc: procs.pass, headers: () => staticHeaders },
    { id: "static", name: "keygate, static key (hot)", proc: procs.kgStatic, headers: () => staticHeaders, identity: true },
    { id: "kgPublic", name: "keygate, public path (diagnostic: no key check)", proc: procs.kgPublic, headers: () => staticHeaders },
    { id: "kgReused", name: "keygate, JWT reused (cache hit)", proc: procs.kgReused, headers: () => bearer(reusedToken), identity: true },
    { id: "kgFresh", name: "keygate, JWT first sight", proc: procs.kgFresh, headers: fresh(), identity: true },
    { id: "joseReused", name: "jose worker, JWT reused", proc: procs.joseReused, headers: () => bearer(reusedToken), identity: true },
    { id: "joseFresh", name: "jose worker, JWT fresh", proc: procs.joseFresh, headers: fresh(), identity: true },
  ];
  for (const t of targets) {
    t.agent = new Agent({ keepAlive: true, maxSockets: cfg.tpConcurrency });
    stops.push(async () => t.agent.destroy());
    t.rounds = [];
    t.tp = [];
  }

  // Sanity: every target answers 200 from the live origin, and the verifying
  // ones add the caller's identity (so the verifier really ran and accepted).
  for (const t of targets) {
    const r = await get(t.agent, t.proc.port, PATH, t.headers());
    const echo = JSON.parse(r.body.toString());
    if (r.status !== 200 || echo.origin !== "live") throw new Error(`${t.name}: sanity request got ${r.status} ${r.body}`);
    const seen = echo.headers?.["x-keygate-client-id"];
    if (t.identity && seen !== CLIENT_ID) throw new Error(`${t.name}: origin saw x-keygate-client-id=${seen}`);
  }

  // Idle background per process: must be ~0, or CPU deltas would include it.
  const idle0 = Object.fromEntries(targets.map((t) => [t.id, readCpu(t.proc.pid)]));
  await new Promise((r) => setTimeout(r, 1000));
  const idleMsPerS = Object.fromEntries(targets.map((t) => [t.id, cpuDelta(idle0[t.id], readCpu(t.proc.pid)).ns / 1e6]));

  log(`warm-up: ${cfg.warmup} requests per target`);
  for (const t of targets) await batch(t, cfg.warmup, 1);

  log(`latency pass: ${cfg.rounds} rounds x ${cfg.perRound} requests per target, concurrency 1`);
  for (let r = 0; r < cfg.rounds; r++) {
    // Rotate who goes first so no target always follows the same neighbour.
    for (let k = 0; k < targets.length; k++) {
      const t = targets[(r + k) % targets.length];
      t.rounds[r] = await batch(t, cfg.perRound, 1);
    }
    process.stderr.write(`  round ${r + 1}/${cfg.rounds}\n`);
  }

  if (cfg.tpRounds > 0) {
    log(`throughput pass: ${cfg.tpRounds} rounds x ${cfg.tpPerRound} requests per target, concurrency ${cfg.tpConcurrency}`);
    for (let r = 0; r < cfg.tpRounds; r++) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[(r + k) % targets.length];
        t.tp[r] = await batch(t, cfg.tpPerRound, cfg.tpConcurrency);
      }
    }
  }

  log(`WebCrypto Ed25519: ${cfg.verifyReps} x (10 requests with n=0, 1 with n=${cfg.verifyN})`);
  const wc = procs.webcrypto;
  const wcAgent = new Agent({ keepAlive: true, maxSockets: 1 });
  stops.push(async () => wcAgent.destroy());
  const verifyReq = async (n) => {
    const r = await get(wcAgent, wc.port, `/verify?n=${n}`, {});
    if (r.status !== 200) throw new Error(`webcrypto worker: HTTP ${r.status}: ${r.body}`);
    return r.ns / 1e6;
  };
  for (let i = 0; i < 20; i++) await verifyReq(0);
  await verifyReq(Math.min(200, cfg.verifyN));
  const verifyUs = [];
  const verifyWallUs = [];
  for (let rep = 0; rep < cfg.verifyReps; rep++) {
    let c0 = readCpu(wc.pid);
    const baseWall = [];
    for (let i = 0; i < 10; i++) baseWall.push(await verifyReq(0));
    const baseCpu = cpuDelta(c0, readCpu(wc.pid)).ns / 10;
    c0 = readCpu(wc.pid);
    const wallN = await verifyReq(cfg.verifyN);
    const cpuN = cpuDelta(c0, readCpu(wc.pid)).ns;
    verifyUs.push((cpuN - baseCpu) / cfg.verifyN / 1e3);
    verifyWallUs.push(((wallN - median(baseWall)) * 1e3) / cfg.verifyN);
  }

  // The load processes are done: stop them before the start-up measurements.
  for (const p of Object.values(procs)) await p.dispose();

  log(`start-up: ${cfg.startupReps} x (keygate, pass-through)`);
  const startup = { keygate: [], pass: [] };
  for (let rep = 0; rep < cfg.startupReps; rep++) {
    for (const [id, worker, records, headers] of [
      ["keygate", keygateWorker, kv, staticHeaders],
      ["pass", passWorker, {}, staticHeaders],
    ]) {
      const p = await startWorker(`startup-${id}`, worker, records);
      const agent = new Agent({ keepAlive: false });
      const first = await get(agent, p.port, PATH, headers);
      if (first.status !== 200) throw new Error(`start-up ${id}: first request got HTTP ${first.status}`);
      startup[id].push({ readyMs: p.readyMs, readyCpuMs: p.readyCpu.ns / 1e6, firstMs: first.ns / 1e6 });
      agent.destroy();
      await p.dispose();
    }
  }

  const load1 = loadavg();
  const elapsedS = (Date.now() - startedAt.getTime()) / 1000;

  // ------------------------------------------------------------ results --

  const pass = targets[0];
  const agg = (t) => {
    const n = sum(t.rounds.map((b) => b.n));
    const all = t.rounds.flatMap((b) => b.latencies);
    const cpuPerReq = sum(t.rounds.map((b) => b.cpuMs)) / n;
    const tickPerReq = sum(t.rounds.map((b) => b.tickMs)) / n;
    const perRound = t.rounds.map((b, r) => b.cpuMs / b.n - pass.rounds[r].cpuMs / pass.rounds[r].n);
    const tpN = sum(t.tp.map((b) => b.n));
    return {
      n,
      rps1: n / (sum(t.rounds.map((b) => b.wallMs)) / 1000),
      rpsC: tpN ? tpN / (sum(t.tp.map((b) => b.wallMs)) / 1000) : NaN,
      cpuC: tpN ? sum(t.tp.map((b) => b.cpuMs)) / tpN : NaN,
      p50: quantile(all, 0.5),
      p99: quantile(all, 0.99),
      p50Rounds: t.rounds.map((b) => median(b.latencies)),
      cpuPerReq,
      tickPerReq,
      overhead: null, // filled below
      perRound,
      threadsChanged: t.rounds.some((b) => b.threadsChanged),
    };
  };
  for (const t of targets) t.r = agg(t);
  for (const t of targets) t.r.overhead = t.r.cpuPerReq - pass.r.cpuPerReq;
  const T = Object.fromEntries(targets.map((t) => [t.id, t.r]));
  const verify = { cpu: median(verifyUs), min: Math.min(...verifyUs), max: Math.max(...verifyUs), wall: median(verifyWallUs) };
  const bundleGz = size.wasm.gz + size.js.gz;
  const st = (id) => ({
    ready: median(startup[id].map((s) => s.readyMs)),
    cpu: median(startup[id].map((s) => s.readyCpuMs)),
    first: median(startup[id].map((s) => s.firstMs)),
  });

  const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "–");
  const spread = (v, d = 3) => `${f(Math.min(...v), d)} / ${f(median(v), d)} / ${f(Math.max(...v), d)}`;
  const table = (head, rows) => {
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
    const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(w[i])).join(" | ")} |`;
    return [line(head), `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`, ...rows.map(line)].join("\n");
  };

  const mainTable = table(
    [
      "target",
      "req/s c=1",
      `req/s c=${cfg.tpConcurrency}`,
      "p50 ms",
      "p99 ms",
      "CPU ms/req",
      "overhead ms/req",
      "overhead per round min / med / max",
      "CPU ms/req (ticks)",
    ],
    targets.map((t) => [
      t.name,
      f(t.r.rps1, 0),
      f(t.r.rpsC, 0),
      f(t.r.p50),
      f(t.r.p99),
      f(t.r.cpuPerReq),
      t.id === "pass" ? "(baseline)" : f(t.r.overhead),
      t.id === "pass" ? "" : spread(t.r.perRound),
      f(t.r.tickPerReq),
    ]),
  );

  const kb = (b) => `${b.toLocaleString("en-US")} B (${(b / 1000).toFixed(1)} KB)`;
  const otherTable = table(
    ["measure", "value"],
    [
      [`WebCrypto Ed25519 verify in workerd (CPU, median of ${cfg.verifyReps}; min–max)`, `${f(verify.cpu, 1)} µs (${f(verify.min, 1)}–${f(verify.max, 1)})`],
      ["  same, from wall time (cross-check)", `${f(verify.wall, 1)} µs`],
      ["index_bg.wasm raw / gzip -9", `${kb(size.wasm.raw)} / ${kb(size.wasm.gz)}`],
      ["index.js raw / gzip -9", `${kb(size.js.raw)} / ${kb(size.js.gz)}`],
      ["keygate bundle gzip -9 (wasm + js)", kb(bundleGz)],
      ["jose worker bundle (esbuild, minified) raw / gzip -9", `${kb(joseScript.length)} / ${kb(joseGz)}`],
      ...["keygate", "pass"].map((id) => [
        `start-up ${id === "pass" ? "pass-through" : "keygate"}: new Miniflare → ready, median of ${cfg.startupReps} (workerd CPU by then)`,
        `${f(st(id).ready, 0)} ms (${f(st(id).cpu, 0)} ms CPU)`,
      ]),
      ...["keygate", "pass"].map((id) => [
        `first request after start-up, ${id === "pass" ? "pass-through" : "keygate (static key, KV read)"}`,
        `${f(st(id).first, 1)} ms`,
      ]),
    ],
  );

  // Goals of the issue; a miss says by how much.
  const goals = [];
  const goal = (name, value, limit, unit, extra = "") => {
    const ok = value <= limit;
    const by = ok ? "" : `; missed by ${f(value - limit)}${unit} (${f(value / limit, 2)}x the limit)`;
    goals.push(`- ${ok ? "PASS" : "MISS"} ${name}: ${f(value)}${unit} vs limit ${f(limit)}${unit}${extra}${by}`);
  };
  goal("static hot p50 latency ≤ 1.05x pass-through", T.static.p50 / pass.r.p50, 1.05, "x", ` (p50 ${f(T.static.p50)} vs ${f(pass.r.p50)} ms)`);
  goal("static hot overhead ≤ 0.05 ms", T.static.overhead, 0.05, " ms");
  // A ratio to a near-zero or negative static overhead means nothing; the
  // limit is then taken as 1.1x max(static, 0) and the difference reported.
  goal(
    "JWT reused overhead ≤ 1.1x static overhead",
    T.kgReused.overhead,
    1.1 * Math.max(T.static.overhead, 0),
    " ms",
    ` (ratio ${T.static.overhead > 0 ? f(T.kgReused.overhead / T.static.overhead, 2) : "n/a"}; reused − static = ${f(T.kgReused.overhead - T.static.overhead)} ms)`,
  );
  goal("JWT first sight overhead ≤ 2x one WebCrypto Ed25519 verify", T.kgFresh.overhead, (2 * verify.cpu) / 1000, " ms", ` (= ${f((T.kgFresh.overhead * 1000) / verify.cpu, 2)} verifies)`);
  goal(
    "keygate JWT reused overhead ≤ 0.5x jose worker's (reused)",
    T.kgReused.overhead,
    0.5 * T.joseReused.overhead,
    " ms",
    ` (ratio ${f(T.kgReused.overhead / T.joseReused.overhead, 2)}; jose ${f(T.joseReused.overhead)} ms)`,
  );
  goal("bundle ≤ 150 KB gzipped (wasm + js, KB = 1000 B)", bundleGz / 1000, 150, " KB");

  const notes = [];
  const tickGap = targets.map((t) => Math.abs(t.r.tickPerReq - t.r.cpuPerReq)).reduce((a, b) => Math.max(a, b), 0);
  notes.push(`CPU = sum over workerd's threads of /proc/<pid>/task/*/schedstat (ns); the ticks column (utime+stime, ${CLK_TCK}/s) is the cross-check: largest gap ${f(tickGap)} ms/req${targets.some((t) => t.r.threadsChanged) ? " (a workerd thread came or went during a batch: trust the ticks column)" : ""}.`);
  notes.push(`Idle workerd CPU over 1 s before the load, ms: ${targets.map((t) => `${t.id} ${f(idleMsPerS[t.id], 2)}`).join(", ")}.`);
  notes.push(`Where keygate's static overhead goes: the public-path row (same worker, same request, credential not checked) costs ${f(T.kgPublic.overhead)} ms/req over pass-through, so the Rust shell and forward() account for ${f((100 * T.kgPublic.overhead) / T.static.overhead, 0)} % of the static overhead and the key check (extract, parse, SHA-256, cached KV record, identity headers) for ${f(T.static.overhead - T.kgPublic.overhead)} ms/req.`);
  notes.push(`p50 per round, keygate static / pass-through: ${spread(T.static.p50Rounds.map((v, r) => v / pass.r.p50Rounds[r]), 3)} (min / median / max).`);
  notes.push(`Load average (1/5/15 min) at start ${load0.map((x) => x.toFixed(2)).join(" ")}, at end ${load1.map((x) => x.toFixed(2)).join(" ")}; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}). Other builds may have shared the machine: compare overheads (interleaved, per round), not absolute latencies.`);
  notes.push(`c=${cfg.tpConcurrency} req/s share 2 cores between the Node load generator, the origin and workerd: they rank targets, they are not capacity figures. CPU ms/req at c=${cfg.tpConcurrency}: ${targets.map((t) => `${t.id} ${f(t.r.cpuC)}`).join(", ")}.`);

  const setup = [
    `${cfg.rounds} rounds x ${cfg.perRound} requests per target at concurrency 1 after ${cfg.warmup} warm-up requests, targets interleaved (rotating start), keep-alive, GET ${PATH} → one demo origin on 127.0.0.1; ${cfg.tpRounds} x ${cfg.tpPerRound} more at concurrency ${cfg.tpConcurrency} for the second req/s column.`,
    `Each target in its own workerd (${readFileSync(resolve(REPO, "node_modules/@cloudflare/workerd-linux-64/package.json"), "utf8").match(/"version": "([^"]+)"/)?.[1] ?? "?"}, Miniflare ${JSON.parse(readFileSync(resolve(REPO, "node_modules/miniflare/package.json"), "utf8")).version}, compatibility date ${COMPAT_DATE}); keygate vars: REQUIRE_HTTPS=false, AUDIENCE=${AUDIENCE}, CACHE_TTL default (30 s).`,
    `Worker measured: ${relative(REPO, opt.script)} + index_bg.wasm (sha256 ${buildId.sha256}…, built ${buildId.mtime}), copied before the run.`,
    `Tokens: EdDSA at+jwt, iss=sub=${CLIENT_ID}, 1 h lifetime, unique jti, minted with jose in Node from \`keygate key jwk --private\`; "first sight" uses ${latencyFresh} distinct tokens per target (each once), "reused" one token.`,
    `Overhead = workerd CPU per request minus the pass-through's, whole run; per-round figures subtract the pass-through of the same round.`,
  ];

  const cmdLine = `node ${relative(process.cwd(), fileURLToPath(import.meta.url))} ${process.argv.slice(2).join(" ")}`.trim();
  const md = [
    "# bench-edge results",
    "",
    `Run ${startedAt.toISOString()} (${f(elapsedS, 0)} s), command: \`${cmdLine}\`${opt.quick ? " (--quick: harness smoke test, numbers not meaningful)" : ""}`,
    "",
    mainTable,
    "",
    otherTable,
    "",
    "## Goals",
    "",
    ...goals,
    "",
    "## Setup",
    "",
    ...setup.map((s) => `- ${s}`),
    "",
    "## Notes",
    "",
    ...notes.map((s) => `- ${s}`),
    "",
  ].join("\n");
  if (opt.json) {
    const raw = { cfg, startedAt, verifyUs, verifyWallUs, startup, size, targets: targets.map(({ id, name, rounds, tp }) => ({ id, name, rounds, tp })) };
    writeFileSync(opt.json, JSON.stringify(raw));
  }
  process.stdout.write(`${md}\n`);
  writeFileSync(opt.out, md);
  log(`wrote ${relative(process.cwd(), opt.out)}`);
}

try {
  await main();
  await stopAll();
  process.exit(0);
} catch (err) {
  // After Ctrl-C, in-flight requests fail as workerd goes away: not news.
  if (!stopping) log(`failed: ${err.stack ?? err}`);
  await stopAll();
  process.exit(1);
}
