// Starting the targets: each worker in its own workerd (one Miniflare
// instance, port 0), so the CPU that /proc reports for that process over a
// batch belongs to that target alone. Also the build snapshot, bundle sizes
// and the jose worker's bundle.

import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";
import { Log, LogLevel, Miniflare } from "miniflare";
import { COMPAT_DATE, HERE, HOST, log, sleep } from "./common.mjs";
import { keepOnlyOurSignalHandlers, pidListeningOn, readCpu, stops } from "./procs.mjs";

class StderrLog extends Log {
  log(message) {
    process.stderr.write(`${message}\n`);
  }
}

/**
 * Starts one worker in its own workerd; returns its URL, workerd pid, how
 * long `new Miniflare` took to become ready and workerd's CPU by then.
 * `quiet`: a RegExp; worker output lines matching it are counted
 * (`dropped()`), not printed (the flood's 10,000 refusals).
 */
export async function startWorker(name, worker, kv = {}, { quiet } = {}) {
  const started = process.hrtime.bigint();
  let dropped = 0;
  const forward = (d) => {
    if (!quiet) return process.stderr.write(d);
    const kept = d
      .toString()
      .split("\n")
      .filter((line) => (quiet.test(line) ? (dropped++, false) : true))
      .join("\n");
    if (kept.trim()) process.stderr.write(kept.endsWith("\n") ? kept : `${kept}\n`);
  };
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
      stdout.on("data", forward);
      stderr.on("data", forward);
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
  const readyCpu = readCpu(pid);
  const comm = readFileSync(`/proc/${pid}/comm`, "utf8").trim();
  if (!comm.startsWith("workerd")) throw new Error(`${name}: port ${port} is served by ${comm} (${pid}), not workerd`);
  if (Object.keys(kv).length) await putKv(mf, kv);
  return { name, mf, pid, port, started, readyMs, readyCpu, dispose, dropped: () => dropped };
}

/** Writes records (objects, stored as JSON) into the KEYS namespace. */
export async function putKv(mf, records) {
  const ns = await mf.getKVNamespace("KEYS");
  const entries = Object.entries(records);
  for (let i = 0; i < entries.length; i += 64) {
    await Promise.all(entries.slice(i, i + 64).map(([k, v]) => ns.put(k, JSON.stringify(v))));
  }
}

/** Raw and `gzip -9` size of a file. */
export function sizes(file) {
  const raw = readFileSync(file);
  const r = spawnSync("gzip", ["-9c", file], { maxBuffer: 64 << 20 });
  const gz = r.status === 0 ? r.stdout.length : gzipSync(raw, { level: 9 }).length; // zlib only if gzip is missing
  return { raw: raw.length, gz };
}

// A copy of the build, so a concurrent `make build-edge` cannot swap the
// worker under a running measurement; sizes are of this copy. A build may
// write index.js first and rewrite index_bg.wasm seconds later (wasm-opt),
// so copy only once nothing in the directory has changed for a few seconds,
// and check that nothing changed while copying.
export async function snapshotBuild(src, dest) {
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
    await sleep(2000);
  }
  throw new Error(`${src} kept changing for 3 minutes; run again when the build is done`);
}

/** jose is a bare import: bundle the jose worker the way wrangler would. */
export async function joseBundle() {
  const out = await build({
    entryPoints: [join(HERE, "jose-worker.mjs")],
    bundle: true,
    format: "esm",
    platform: "browser",
    conditions: ["workerd", "worker", "browser"],
    write: false,
    minify: true,
    logLevel: "warning",
  });
  const script = out.outputFiles[0].text;
  return { script, raw: Buffer.byteLength(script), gz: gzipSync(script, { level: 9 }).length };
}
