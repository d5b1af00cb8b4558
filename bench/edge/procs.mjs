// Processes: cleanup of everything the benchmark starts, the demo origin,
// and the /proc accounting (which pid serves a port, how much CPU it used).
//
// * The workerd pid of an instance is found from its listening socket:
//   Miniflare tells us the port; /proc/net/tcp{,6} maps the LISTEN socket on
//   that port to an inode; the child process of this Node process that holds
//   `socket:[inode]` among its fds is that instance's workerd. (Scanning for
//   "any new workerd child" would also work, but the socket proves the pid is
//   the process that actually serves the port we load.)
// * CPU is the sum over the process's threads of
//   /proc/<pid>/task/<tid>/schedstat field 1 (ns on CPU), because utime+stime
//   in /proc/<pid>/stat (fields 14+15) only has 10 ms ticks; the tick figure
//   is still read as a cross-check.

import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { readFileSync, readdirSync, readlinkSync } from "node:fs";
import { resolve } from "node:path";
import { REPO, log } from "./common.mjs";

// ---------------------------------------------------------------- cleanup --

// Everything started here registers its stop function; they run once, in
// reverse order, on normal exit, on error and on SIGINT/SIGTERM.
export const stops = [];
// Synchronous last resorts for an exit that skips stopAll (a second Ctrl-C,
// an exit from library code): they run in process.on("exit").
export const onExitSync = [];
let stopping;
export const isStopping = () => Boolean(stopping);
export function stopAll() {
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
export function installCleanup() {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("exit", () => onExitSync.forEach((f) => f()));
}
// Miniflare's exit hook adds its own SIGINT/SIGTERM listeners, which kill
// workerd and exit(130) at once, before the origin and the temp dir are
// cleaned up (dev/edge-host.mjs does the same). Called after each
// `new Miniflare`; its "exit" listener stays, still killing workerd on any exit.
export function keepOnlyOurSignalHandlers() {
  for (const sig of ["SIGINT", "SIGTERM"]) {
    for (const l of process.listeners(sig)) if (l !== onSignal) process.removeListener(sig, l);
  }
}

// ----------------------------------------------------------------- /proc --

/** CPU used so far by every thread of `pid`: ns from schedstat, and utime+stime ticks. */
export function readCpu(pid) {
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
export const cpuDelta = (a, b) => ({ ns: b.ns - a.ns, ticks: b.ticks - a.ticks, threadsChanged: a.threads !== b.threads });
export const CLK_TCK = Number(spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).stdout.trim()) || 100;

/** Resident memory of `pid` in KB (VmRSS), or NaN if unreadable. */
export function readRssKb(pid) {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN);
  } catch {
    return NaN;
  }
}

function ppidOf(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return -1;
  }
}

/** The pid of the process holding the LISTEN socket on 127.0.0.1:`port` (see header). */
export function pidListeningOn(port) {
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

// ------------------------------------------------------------ the origin --

/** Starts dev/demo-origin.mjs on two free ports; resolves with their URLs. */
export async function startOrigin() {
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
