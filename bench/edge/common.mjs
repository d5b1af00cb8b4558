// Constants and small helpers shared by the bench-edge modules (run.mjs is
// the entry point and says how the benchmark works).

import { spawnSync } from "node:child_process";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const HERE = dirname(fileURLToPath(import.meta.url));
export const REPO = resolve(HERE, "../..");
export const HOST = "127.0.0.1";
export const COMPAT_DATE = "2026-04-01"; // as dev/edge-host.mjs and wrangler.toml
export const CLIENT_ID = "cl_benchedge";
// A fixed audience (AUDIENCE var) so tokens can be minted before the
// workers' random ports are known.
export const AUDIENCE = "https://bench.keygate.invalid";
export const PATH = "/v1/bench?x=1";

export const log = (...a) => console.error("bench-edge:", ...a);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export const sum = (a) => a.reduce((x, y) => x + y, 0);
export function quantile(values, q) {
  if (values.length === 0) return NaN;
  const s = Float64Array.from(values).sort();
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]; // nearest rank
}
export const median = (v) => quantile(v, 0.5);
export const b64url = (buf) => Buffer.from(buf).toString("base64url");

/** Runs a command to completion; its trimmed stdout, or an error with its stderr. */
export function run(cmd, args, env = {}) {
  const r = spawnSync(cmd, args, { encoding: "utf8", env: { ...process.env, ...env } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  return r.stdout.trim();
}
