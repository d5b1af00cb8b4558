#!/usr/bin/env node
// Demo origin for the local keygate stack: two HTTP listeners ("live" and
// "test") that answer every request with a JSON echo of what they received.
//
// Why it exists: the edge routes a key to the origin of its environment and
// adds/strips headers on the way. An echo that reports *which* origin answered
// and *exactly* what arrived (headers, query, body size) lets end-to-end tests
// and people running `make dev` see that routing and header rewriting worked,
// without any real backend.
//
// With --signing-secret (or KEYGATE_ORIGIN_SIGNING_SECRET in its environment,
// which `make dev` uses: argv shows in ps) it also checks the edge's
// X-Keygate-Signature the way any origin would (this is the recipe of the
// README, in JavaScript) and reports "signature": "valid" | "invalid" |
// "stale" | "missing".
// A request header `x-demo-response-bytes: N` makes it answer with N bytes
// (a deterministic pattern) instead of the echo, to test response streaming.
// A request header `x-demo-received: 1` makes it answer with the list of the
// requests it received so far ({method, path, raw_query}, oldest first, the
// last 10,000), instead of the echo: tests ask the origin directly whether a
// refused request ever reached it.
//
// Usage:
//   node dev/demo-origin.mjs [--live-port 7071] [--test-port 7072] [--signing-secret S]
//   (or KEYGATE_ORIGIN_SIGNING_SECRET=S node dev/demo-origin.mjs …)
// Port 0 picks a free port. Once both listen, exactly one line goes to stdout:
//   READY live=http://127.0.0.1:<p> test=http://127.0.0.1:<q>

import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import { createServer } from "node:http";
import { once } from "node:events";
import { parseArgs } from "node:util";

const HOST = "127.0.0.1"; // loopback only: this is a dev/test fixture, never a public server

const { values: args } = parseArgs({
  options: {
    "live-port": { type: "string", default: "7071" },
    "test-port": { type: "string", default: "7072" },
    "signing-secret": { type: "string" },
  },
});

// The origin side of X-Keygate-Signature: `t=<unix>,v1=<hex HMAC-SHA256>` over
// "keygate-v1\n<t>\n<METHOD>\n<path>\n<client id>\n<key id>\n<env>\n<key type>\n<auth>".
function checkSignature(req, path, secret) {
  const header = req.headers["x-keygate-signature"];
  if (!header) return "missing";
  const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!match) return "invalid";
  const [, t, given] = match;
  if (Math.abs(Date.now() / 1000 - Number(t)) > 300) return "stale";
  const h = (name) => req.headers[`x-keygate-${name}`] ?? "";
  const canonical = ["keygate-v1", t, req.method, path, h("client-id"), h("key-id"), h("env"), h("key-type"), h("auth")].join("\n");
  const expected = createHmac("sha256", secret).update(canonical).digest();
  return timingSafeEqual(expected, Buffer.from(given, "hex")) ? "valid" : "invalid";
}

// An empty secret means none (an unset variable must not become "sign with ''").
const signingSecret = args["signing-secret"] || process.env.KEYGATE_ORIGIN_SIGNING_SECRET || undefined;

function parsePort(name) {
  const port = Number(args[name]);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    console.error(`demo-origin: --${name} must be a port number (0 for any free port), got ${args[name]}`);
    process.exit(2);
  }
  return port;
}

// Repeated query params become arrays so a test can tell `?a=1&a=2` from `?a=2`
// (an edge that rewrites the query must not silently drop duplicates).
function queryObject(searchParams) {
  const query = {};
  for (const [name, value] of searchParams) {
    if (!Object.hasOwn(query, name)) query[name] = value;
    else if (Array.isArray(query[name])) query[name].push(value);
    else query[name] = [query[name], value];
  }
  return query;
}

function echoServer(originName) {
  const received = [];
  return createServer(async (req, res) => {
    if (req.headers["x-demo-received"] === "1") {
      const body = JSON.stringify(received);
      res.writeHead(200, { "content-type": "application/json", "cache-control": "no-store" });
      res.end(body);
      return;
    }
    // Count the body as it streams instead of buffering it: uploads through the
    // edge may be large, and only the size matters for the echo.
    let bodyBytes = 0;
    const bodyHash = createHash("sha256");
    try {
      for await (const chunk of req) {
        bodyBytes += chunk.length;
        bodyHash.update(chunk);
      }
    } catch {
      return; // client went away mid-upload; nothing to answer
    }
    // Keep the path exactly as received (still percent-encoded), so the echo
    // shows what the edge actually forwarded rather than a normalised form.
    const rawTarget = req.url ?? "/";
    const queryAt = rawTarget.indexOf("?");
    const path = queryAt === -1 ? rawTarget : rawTarget.slice(0, queryAt);
    // The query exactly as it arrived (bytes and order), besides the parsed form.
    const rawQuery = queryAt === -1 ? null : rawTarget.slice(queryAt + 1);
    received.push({ method: req.method, path, raw_query: rawQuery });
    if (received.length > 10_000) received.shift();
    const url = new URL(rawTarget, `http://${HOST}`);
    const responseBytes = Number(req.headers["x-demo-response-bytes"] ?? -1);
    if (Number.isInteger(responseBytes) && responseBytes >= 0) {
      // i mod 251: a pattern whose corruption (or truncation) shows in a hash.
      const bytes = Buffer.alloc(responseBytes);
      for (let i = 0; i < responseBytes; i++) bytes[i] = i % 251;
      res.writeHead(200, { "content-type": "application/octet-stream", "content-length": responseBytes });
      res.end(bytes);
      return;
    }
    const body = JSON.stringify({
      origin: originName,
      method: req.method,
      path,
      query: queryObject(url.searchParams),
      raw_query: rawQuery,
      headers: req.headers, // Node already lower-cases names and joins repeats
      body_bytes: bodyBytes,
      body_sha256: bodyHash.digest("hex"),
      ...(signingSecret ? { signature: checkSignature(req, path, signingSecret) } : {}),
    });
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(body),
      "cache-control": "no-store",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  });
}

async function listen(server, port) {
  server.listen(port, HOST);
  await once(server, "listening");
  return `http://${HOST}:${server.address().port}`;
}

const live = echoServer("live");
const test = echoServer("test");
try {
  const [liveUrl, testUrl] = await Promise.all([
    listen(live, parsePort("live-port")),
    listen(test, parsePort("test-port")),
  ]);
  process.stdout.write(`READY live=${liveUrl} test=${testUrl}\n`);
} catch (err) {
  console.error(`demo-origin: cannot listen: ${err.message}`);
  process.exit(1);
}

function shutdown() {
  live.close();
  test.close();
  // Keep-alive sockets would hold close() open; a fixture has nothing to drain.
  live.closeAllConnections();
  test.closeAllConnections();
}
process.once("SIGINT", shutdown);
process.once("SIGTERM", shutdown);
