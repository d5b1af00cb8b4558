// The report: per-target aggregates, the tables, issue 11's goals (PASS or
// MISS, a miss says by how much), setup and notes, as the RESULTS.md text.

import { readFileSync } from "node:fs";
import { cpus } from "node:os";
import { resolve } from "node:path";
import { AUDIENCE, CLIENT_ID, COMPAT_DATE, PATH, REPO, median, quantile, sum } from "./common.mjs";
import { CLK_TCK } from "./procs.mjs";

const f = (x, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : "–");
const spread = (v, d = 3) => `${f(Math.min(...v), d)} / ${f(median(v), d)} / ${f(Math.max(...v), d)}`;
const kb = (b) => `${b.toLocaleString("en-US")} B (${(b / 1000).toFixed(1)} KB)`;
const mb = (k) => `${f(k / 1024, 1)} MB`;
function table(head, rows) {
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(w[i])).join(" | ")} |`;
  return [line(head), `|${w.map((n) => "-".repeat(n + 2)).join("|")}|`, ...rows.map(line)].join("\n");
}

/** Whole-run figures of one target; `pass` is the pass-through target. */
function aggregate(t, pass) {
  const n = sum(t.rounds.map((b) => b.n));
  const all = t.rounds.flatMap((b) => b.latencies);
  const tpN = sum(t.tp.map((b) => b.n));
  return {
    n,
    rps1: n / (sum(t.rounds.map((b) => b.wallMs)) / 1000),
    rpsC: tpN ? tpN / (sum(t.tp.map((b) => b.wallMs)) / 1000) : NaN,
    cpuC: tpN ? sum(t.tp.map((b) => b.cpuMs)) / tpN : NaN,
    p50: quantile(all, 0.5),
    p99: quantile(all, 0.99),
    p50Rounds: t.rounds.map((b) => median(b.latencies)),
    cpuPerReq: sum(t.rounds.map((b) => b.cpuMs)) / n,
    tickPerReq: sum(t.rounds.map((b) => b.tickMs)) / n,
    perRound: t.rounds.map((b, r) => b.cpuMs / b.n - pass.rounds[r].cpuMs / pass.rounds[r].n),
    threadsChanged: t.rounds.some((b) => b.threadsChanged),
  };
}

export function report(x) {
  const { cfg, targets, size, jose, startup, flood } = x;
  const pass = targets[0];
  for (const t of targets) t.r = aggregate(t, pass);
  for (const t of targets) t.r.overhead = t.r.cpuPerReq - pass.r.cpuPerReq;
  const T = Object.fromEntries(targets.map((t) => [t.id, t.r]));
  const verify = { cpu: median(x.verifyUs), min: Math.min(...x.verifyUs), max: Math.max(...x.verifyUs), wall: median(x.verifyWallUs) };
  const bundleGz = size.wasm.gz + size.js.gz;
  const st = (id) => {
    const s = startup[id];
    return {
      ready: median(s.map((v) => v.readyMs)),
      readyCpu: median(s.map((v) => v.readyCpuMs)),
      first: median(s.map((v) => v.firstMs)),
      firstCpu: median(s.map((v) => v.firstCpuMs)),
      total: median(s.map((v) => v.readyMs + v.firstMs)),
      totalCpu: median(s.map((v) => v.readyCpuMs + v.firstCpuMs)),
    };
  };
  const S = { keygate: st("keygate"), pass: st("pass") };
  // One 10 ms tick spread over a round's requests: the coarsest CPU figure
  // (the tick cross-check) resolves this much per request in one round.
  const resolutionMs = 1000 / CLK_TCK / cfg.perRound;

  const mainTable = table(
    ["target", "req/s c=1", `req/s c=${cfg.tpConcurrency}`, "p50 ms", "p99 ms", "CPU ms/req", "overhead ms/req", "overhead per round min / med / max", "CPU ms/req (ticks)"],
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

  const name = (id) => (id === "pass" ? "pass-through" : "keygate");
  const otherRows = [
    [`WebCrypto Ed25519 verify in workerd (CPU, median of ${cfg.verifyReps}; min–max)`, `${f(verify.cpu, 1)} µs (${f(verify.min, 1)}–${f(verify.max, 1)})`],
    ["  same, from wall time (cross-check)", `${f(verify.wall, 1)} µs`],
    ["index_bg.wasm raw / gzip -9", `${kb(size.wasm.raw)} / ${kb(size.wasm.gz)}`],
    ["index.js raw / gzip -9", `${kb(size.js.raw)} / ${kb(size.js.gz)}`],
    ["keygate bundle gzip -9 (wasm + js)", kb(bundleGz)],
    ["jose worker bundle (esbuild, minified) raw / gzip -9", `${kb(jose.raw)} / ${kb(jose.gz)}`],
    ...["keygate", "pass"].map((id) => [`start-up ${name(id)}: new Miniflare → ready, median of ${cfg.startupReps} (workerd CPU by then)`, `${f(S[id].ready, 0)} ms (${f(S[id].readyCpu, 0)} ms CPU)`]),
    ...["keygate", "pass"].map((id) => [`first request after start-up, ${id === "pass" ? "pass-through" : "keygate (static key, KV read)"} (workerd CPU)`, `${f(S[id].first, 1)} ms (${f(S[id].firstCpu, 1)} ms CPU)`]),
    ...["keygate", "pass"].map((id) => [`start-up ${name(id)}: new Miniflare → first response (ready + first request; workerd CPU)`, `${f(S[id].total, 0)} ms (${f(S[id].totalCpu, 0)} ms CPU)`]),
  ];
  if (flood) {
    const F = flood;
    otherRows.push(
      ...["before", "during", "after"].map((p) => [
        `flood: good static key ${p} the flood, ${F.good[p].batches} x ${F.B} (CPU ms/req trimmed mean, plain mean; p50 ms; pass-through CPU ms/req)`,
        `${f(F.good[p].cpuPerReq)}, ${f(F.good[p].meanCpuPerReq)}; ${f(F.good[p].p50)}; ${f(F.control[p].cpuPerReq)}`,
      ]),
      [`flood: ${F.keys.toLocaleString("en-US")} unknown keys + ${F.tokens.toLocaleString("en-US")} fresh tokens, wall time (workerd CPU ms per flood request)`, `${f(F.floodWallS, 1)} s (${f(F.floodCpuPerReq)})`],
      [`flood: a known key's first request (record not cached) vs a hot one, median of ${F.cold.n}, CPU ms`, `${f(F.cold.coldMs)} vs ${f(F.cold.hotMs)} (+${f(F.cold.extraMs)})`],
      [`flood: workerd CPU in the ${F.settlePauseMs} ms pause before each good batch, before / during / after (ms)`, `${f(F.settleMs.before, 2)} / ${f(F.settleMs.during, 2)} / ${f(F.settleMs.after, 2)}`],
      ["flood: keygate workerd resident memory before / after the flood / at the end", `${mb(F.rssKb.before)} / ${mb(F.rssKb.afterFlood)} / ${mb(F.rssKb.end)}`],
    );
  }
  const otherTable = table(["measure", "value"], otherRows);

  // Issue 11's "Done means"; a miss says by how much.
  const goals = [];
  const goal = (label, value, limit, unit, extra = "") => {
    const ok = value <= limit;
    const by = ok ? "" : `; missed by ${f(value - limit)}${unit} (${f(value / limit, 2)}x the limit)`;
    goals.push(`- ${ok ? "PASS" : "MISS"} ${label}: ${f(value)}${unit} vs limit ${f(limit)}${unit}${extra}${by}`);
  };
  const info = (text) => goals.push(`- info ${text}`);
  goal("static key hot overhead ≤ 0.05 ms CPU/request above pass-through", T.static.overhead, 0.05, " ms");
  goal("static key p50 latency (concurrency 1) ≤ 1.10x pass-through", T.static.p50 / pass.r.p50, 1.1, "x", ` (p50 ${f(T.static.p50)} vs ${f(pass.r.p50)} ms)`);
  goal(
    "JWT reused overhead ≤ 0.5x the jose worker's reused overhead",
    T.kgReused.overhead,
    0.5 * T.joseReused.overhead,
    " ms",
    ` (ratio ${f(T.kgReused.overhead / T.joseReused.overhead, 2)}; jose ${f(T.joseReused.overhead)} ms)`,
  );
  goal(
    "JWT fresh (first sight) overhead ≤ the jose worker's fresh overhead",
    T.kgFresh.overhead,
    T.joseFresh.overhead,
    " ms",
    ` (ratio ${f(T.kgFresh.overhead / T.joseFresh.overhead, 2)}; one WebCrypto verify, the floor, ${f(verify.cpu / 1000)} ms)`,
  );
  goal("bundle (wasm + js, gzip -9) ≤ 100 KB (KB = 1000 B)", bundleGz / 1000, 100, " KB");
  if (flood) {
    const F = flood;
    goal(
      "flood: good key cost ≤ 1.10x (CPU/request during and after the flood vs before, trimmed means of batches)",
      Math.max(F.ratio.during, F.ratio.after),
      1.1,
      "x",
      ` (during ${f(F.ratio.during)}x, after ${f(F.ratio.after)}x; plain means ${f(F.meanRatio.during)}x, ${f(F.meanRatio.after)}x; p50 during ${f(F.p50Ratio.during)}x, after ${f(F.p50Ratio.after)}x; pass-through in the same windows ${f(F.controlRatio.during)}x, ${f(F.controlRatio.after)}x, so net of that drift ${f(F.ratio.during / F.controlRatio.during)}x, ${f(F.ratio.after / F.controlRatio.after)}x (not what is judged); one eviction of the good key per chunk would add ${f(100 * F.evictionPerChunk, 1)} %)`,
    );
  } else {
    info("flood: not run (--no-flood)");
  }
  info(`module start-up, keygate / pass-through: new Miniflare → ready ${f(S.keygate.ready, 0)} / ${f(S.pass.ready, 0)} ms (workerd CPU ${f(S.keygate.readyCpu, 0)} / ${f(S.pass.readyCpu, 0)} ms), → first response ${f(S.keygate.total, 0)} / ${f(S.pass.total, 0)} ms (CPU ${f(S.keygate.totalCpu, 0)} / ${f(S.pass.totalCpu, 0)} ms); keygate's module costs ${f(S.keygate.total - S.pass.total, 0)} ms and ${f(S.keygate.totalCpu - S.pass.totalCpu, 0)} ms CPU more to its first response`);
  info(`JWT first sight overhead = ${f((T.kgFresh.overhead * 1000) / verify.cpu, 2)} WebCrypto Ed25519 verifies; JWT reused − static key = ${f(T.kgReused.overhead - T.static.overhead)} ms`);
  info(`resolution: ${cfg.perRound} requests per round, so one ${f(1000 / CLK_TCK, 0)} ms CPU tick is ${f(resolutionMs)} ms/request in a round (the issue asks for 0.02 ms${resolutionMs <= 0.02 ? "" : ": NOT met, use --per-round 500 or more"}); schedstat counts ns`);

  const notes = [];
  const tickGap = targets.map((t) => Math.abs(t.r.tickPerReq - t.r.cpuPerReq)).reduce((a, b) => Math.max(a, b), 0);
  notes.push(`CPU = sum over workerd's threads of /proc/<pid>/task/*/schedstat (ns); the ticks column (utime+stime, ${CLK_TCK}/s) is the cross-check: largest gap ${f(tickGap)} ms/req${targets.some((t) => t.r.threadsChanged) ? " (a workerd thread came or went during a batch: trust the ticks column)" : ""}.`);
  notes.push(`Idle workerd CPU over 1 s before the load, ms: ${targets.map((t) => `${t.id} ${f(x.idleMsPerS[t.id], 2)}`).join(", ")}.`);
  notes.push(`Where keygate's static overhead goes: the public-path row (same worker, same request, credential not checked) costs ${f(T.kgPublic.overhead)} ms/req over pass-through, so the shell and forward() account for ${f((100 * T.kgPublic.overhead) / T.static.overhead, 0)} % of the static overhead and the key check (extract, parse, SHA-256, cached KV record, identity headers) for ${f(T.static.overhead - T.kgPublic.overhead)} ms/req.`);
  notes.push(`p50 per round, keygate static / pass-through: ${spread(T.static.p50Rounds.map((v, r) => v / pass.r.p50Rounds[r]), 3)} (min / median / max).`);
  if (flood) {
    const F = flood;
    notes.push(
      `Flood: its own keygate workerd; before, ${F.good.before.batches} chunks of ${F.chunk} requests repeating one unknown key and one token (cached after first use), each followed by ${F.B} good-key requests; then ${F.chunks} chunks of ${F.chunk} flood requests (unknown static keys, CRC-valid, 401 invalid_credential after a KV miss, alternating with fresh valid tokens, 200) at concurrency ${F.concurrency}, each chunk followed by a ${F.settlePauseMs} ms pause (as before every good batch) and ${F.B} good-key requests with CPU read around them only; after, ${F.good.after.batches} chunks and batches as before (so the phases differ only in the distinctness of the chunks' keys and tokens). Every good batch is followed by ${F.B} pass-through requests (the drift control). Per-batch good-key CPU ms/req min / median / max: before ${spread(F.good.before.perBatch)}, during ${spread(F.good.during.perBatch)}, after ${spread(F.good.after.perBatch)}. A record not in the isolate cache costs ${f(F.cold.extraMs)} ms more than a hot one, so an eviction of the good key on every chunk adds ${f(F.cold.extraMs / F.B)} ms/req (${f(100 * F.evictionPerChunk, 1)} % of before${F.evictionPerChunk > 0.1 ? ", above the 10 % limit: the goal would catch it" : ": below the 10 % limit, so the goal could NOT catch that; lower --flood-good"}). Worker refusal log lines counted (not printed): ${F.refusalsLogged}.`,
    );
  }
  notes.push(`Load average (1/5/15 min) at start ${x.load0.map((v) => v.toFixed(2)).join(" ")}, at end ${x.load1.map((v) => v.toFixed(2)).join(" ")}; ${cpus().length} CPUs (${cpus()[0]?.model ?? "?"}). Other builds may have shared the machine: compare overheads (interleaved, per round), not absolute latencies.`);
  notes.push(`c=${cfg.tpConcurrency} req/s share 2 cores between the Node load generator, the origin and workerd: they rank targets, they are not capacity figures. CPU ms/req at c=${cfg.tpConcurrency}: ${targets.map((t) => `${t.id} ${f(t.r.cpuC)}`).join(", ")}.`);

  const version = (pkg) => JSON.parse(readFileSync(resolve(REPO, `node_modules/${pkg}/package.json`), "utf8")).version;
  const setup = [
    `${cfg.rounds} rounds x ${cfg.perRound} requests per target at concurrency 1 after ${cfg.warmup} warm-up requests, targets interleaved (rotating start), keep-alive, GET ${PATH} → one demo origin on 127.0.0.1; ${cfg.tpRounds} x ${cfg.tpPerRound} more at concurrency ${cfg.tpConcurrency} for the second req/s column.`,
    `Each target in its own workerd (${version("@cloudflare/workerd-linux-64")}, Miniflare ${version("miniflare")}, compatibility date ${COMPAT_DATE}); keygate vars: REQUIRE_HTTPS=false, AUDIENCE=${AUDIENCE}, CACHE_TTL default (30 s).`,
    `Worker measured: ${x.script} + index_bg.wasm (sha256 ${x.buildId.sha256}…, built ${x.buildId.mtime}), copied before the run.`,
    `Tokens: EdDSA at+jwt, iss=sub=${CLIENT_ID}, 1 h lifetime, unique jti, minted with jose in Node from \`keygate key jwk --private\`; "first sight" uses ${x.latencyFresh} distinct tokens per target (each once), "reused" one token.`,
    `Overhead = workerd CPU per request minus the pass-through's, whole run; per-round figures subtract the pass-through of the same round.`,
  ];

  const elapsedS = (Date.now() - x.startedAt.getTime()) / 1000;
  return [
    "# bench-edge results",
    "",
    `Run ${x.startedAt.toISOString()} (${f(elapsedS, 0)} s), command: \`${x.cmdLine}\`${cfg.quick ? " (--quick: harness smoke test, numbers not meaningful)" : ""}`,
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
}
