// What a user would deploy instead of keygate: a plain JavaScript worker that
// verifies `Authorization: Bearer <jwt>` with the `jose` library (WebCrypto
// Ed25519 underneath) against the public JWK keygate publishes to KV at
// `jwk:<kid>`, then forwards to ORIGIN_LIVE with identity headers.
//
// It is deliberately given every advantage a careful user would give it: the
// record and the imported CryptoKey are cached per kid for the isolate's
// lifetime (keygate re-reads KV every CACHE_TTL seconds). It does not cache
// verification results, which is how jose is normally used, so reused and
// fresh tokens cost it the same signature check.
//
// The run script bundles this file with esbuild (jose is a bare import).
// Vars: ORIGIN_LIVE, AUDIENCE. KV binding: KEYS.
import { importJWK, jwtVerify } from "jose";

const MAX_TOKEN_LIFETIME = 3600; // keygate's defaults, so both check the same things
const CLOCK_SKEW = 60;

const byKid = new Map(); // kid -> Promise<{ key, record }>

function lookup(env, kid) {
  let entry = byKid.get(kid);
  if (!entry) {
    entry = (async () => {
      const record = await env.KEYS.get(`jwk:${kid}`, "json");
      if (!record || record.v !== 1) throw new Error("unknown kid");
      return { record, key: await importJWK(record.jwk, "EdDSA") };
    })();
    byKid.set(kid, entry);
    entry.catch(() => byKid.delete(kid)); // do not cache failures
  }
  return entry;
}

const refuse = (message) =>
  Response.json({ error: { code: "invalid_token", message } }, {
    status: 401,
    headers: { "www-authenticate": 'Bearer error="invalid_token"', "cache-control": "no-store" },
  });

export default {
  async fetch(request, env) {
    const match = /^Bearer ([A-Za-z0-9_.-]+)$/.exec(request.headers.get("authorization") ?? "");
    if (!match) return refuse("missing bearer token");
    let record;
    try {
      const { payload } = await jwtVerify(
        match[1],
        async (header) => {
          const found = await lookup(env, header.kid ?? "");
          record = found.record;
          return found.key;
        },
        {
          algorithms: ["EdDSA"],
          typ: "at+jwt",
          audience: env.AUDIENCE,
          requiredClaims: ["exp", "iat", "iss", "sub"],
          maxTokenAge: MAX_TOKEN_LIFETIME,
          clockTolerance: CLOCK_SKEW,
        },
      );
      if (payload.iss !== record.client_id || payload.sub !== record.client_id) return refuse("wrong issuer");
      const now = Date.now() / 1000;
      if (record.revoked_at != null || (record.expires_at != null && record.expires_at <= now)) return refuse("key revoked or expired");
    } catch (err) {
      return refuse(err.code ?? "invalid token");
    }

    const url = new URL(request.url);
    const headers = new Headers(request.headers);
    headers.delete("authorization");
    headers.delete("host");
    headers.set("x-keygate-client-id", record.client_id);
    headers.set("x-keygate-key-id", record.jwk.kid);
    headers.set("x-keygate-env", record.env);
    return fetch(env.ORIGIN_LIVE + url.pathname + url.search, {
      method: request.method,
      headers,
      body: request.method === "GET" || request.method === "HEAD" ? undefined : request.body,
      redirect: "manual",
    });
  },
};
