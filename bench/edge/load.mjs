// Requests: one GET, and batches of GETs with the target's workerd CPU read
// around them.

import { request as httpRequest } from "node:http";
import { HOST, PATH } from "./common.mjs";
import { CLK_TCK, cpuDelta, readCpu } from "./procs.mjs";

/** One GET; resolves with status, latency (ns, until the body's last byte) and body. */
export function get(agent, port, path, headers) {
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
 * `n` requests to a target ({ name, agent, proc: { pid, port }, headers() })
 * at `concurrency`, CPU read around the batch. Any non-200 aborts the run: a
 * refused request is cheap and would make the verifier look fast.
 */
export async function batch(target, n, concurrency) {
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

/**
 * Sends `items` ({ headers, status, code? }: the answer expected) at
 * `concurrency`; CPU is not read. Any other answer aborts the run: a flood
 * refused for the wrong reason (say malformed_credential, before any KV
 * read) would not load the caches it is meant to load.
 */
export async function sendAll(agent, port, items, concurrency, what) {
  let next = 0;
  const loop = async () => {
    while (next < items.length) {
      const item = items[next++];
      const r = await get(agent, port, PATH, item.headers);
      const body = r.body.toString();
      if (r.status !== item.status || (item.code && !body.includes(`"${item.code}"`))) {
        throw new Error(`${what}: expected HTTP ${item.status}${item.code ? ` ${item.code}` : ""}, got ${r.status}: ${body.slice(0, 300)}`);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, loop));
}
