// The installed package inside workerd: worker.mjs is bundled by the repo's
// wrangler (`deploy --dry-run`, as a deploy would) and run by its Miniflare.
// The token minted in workerd must pass the real edge; the origin check in
// workerd must accept the real edge's signature and refuse a tampered one;
// and a golden token must come out byte for byte.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { after, before, test } from "node:test";

function env(name) {
  const value = process.env[name];
  assert.ok(value, `${name} is set`);
  return value;
}
const ROOT = env("KEYGATE_REPO_ROOT");
const EDGE = env("KEYGATE_EDGE_URL");
const here = dirname(fileURLToPath(import.meta.url));

let mf;
let out;
before(async () => {
  out = mkdtempSync(join(tmpdir(), "keygate-sdk-worker-"));
  const config = join(here, "wrangler-sdk-test.toml");
  writeFileSync(config, 'name = "keygate-sdk-test"\nmain = "worker.mjs"\ncompatibility_date = "2026-04-01"\n');
  execFileSync(join(ROOT, "node_modules/.bin/wrangler"), ["deploy", "--dry-run", "--outdir", out, "--config", config], {
    cwd: here,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const bundle = readFileSync(join(out, "worker.js"), "utf8");
  assert.ok(!bundle.includes("node:fs"), "the workerd entry was bundled, not the Node one");
  const { Miniflare } = await import(pathToFileURL(createRequire(join(ROOT, "package.json")).resolve("miniflare")).href);
  mf = new Miniflare({
    scriptPath: join(out, "worker.js"),
    modules: true,
    modulesRoot: out,
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    compatibilityDate: "2026-04-01",
    bindings: { ACCESS_KEY: env("KEYGATE_ACCESS_KEY"), AUDIENCE: EDGE, SIGNING_SECRET: env("KEYGATE_SIGNING_SECRET") },
  });
  await mf.ready;
});
after(async () => {
  await mf?.dispose();
  if (out) rmSync(out, { recursive: true, force: true });
});

const worker = async (path, init) => {
  const response = await mf.dispatchFetch(`http://worker.example${path}`, init);
  return { status: response.status, body: await response.json() };
};

test("a token minted in workerd is accepted at the real edge", async () => {
  const { status, body } = await worker("/token");
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.token, body.again, "concurrent callers share one token");
  const response = await fetch(`${EDGE}/sdk-js/from-workers`, { headers: { authorization: `Bearer ${body.token}` } });
  const echo = await response.json();
  assert.equal(response.status, 200, JSON.stringify(echo));
  assert.equal(echo.headers["x-keygate-key-id"], body.keyId);
  assert.equal(echo.headers["x-keygate-auth"], "jwt");
});

test("workerd reproduces a golden token byte for byte", async () => {
  const [v] = JSON.parse(readFileSync(join(env("KEYGATE_VECTORS_DIR"), "tokens.json"), "utf8")).vectors;
  const options = { audience: v.mint.audience, issuedAt: v.mint.issued_at, lifetimeSeconds: v.mint.ttl, jti: v.mint.jti };
  const { body } = await worker("/mint", { method: "POST", body: JSON.stringify({ key: v.key, options }) });
  assert.equal(body.token, v.token);
});

test("an origin in workerd accepts the edge's signature and refuses a tampered one", async () => {
  const response = await fetch(`${EDGE}/sdk-js/orders?x=1`, { headers: { authorization: `Bearer ${env("KEYGATE_ACCESS_KEY")}` } });
  const echo = await response.json();
  assert.equal(response.status, 200, JSON.stringify(echo));
  const headers = Object.fromEntries(Object.entries(echo.headers).filter(([name]) => name.startsWith("x-keygate-")));
  const accepted = await worker(`${echo.path}?x=1`, { method: echo.method, headers });
  assert.equal(accepted.status, 200, JSON.stringify(accepted.body));
  assert.equal(accepted.body.identity.clientId, env("KEYGATE_CLIENT_ID"));
  assert.equal(accepted.body.identity.auth, "static");
  const tampered = await worker(echo.path, { headers: { ...headers, "x-keygate-env": "test" } });
  assert.deepEqual([tampered.status, tampered.body], [401, { refused: "invalid" }]);
  const moved = await worker("/sdk-js/admin", { headers });
  assert.deepEqual([moved.status, moved.body], [401, { refused: "invalid" }]);
  const direct = await worker(echo.path);
  assert.deepEqual([direct.status, direct.body], [401, { refused: "missing" }]);
});
