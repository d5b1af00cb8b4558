// Key material: a real keygate secret key from the CLI (no control plane),
// tokens minted with jose, the KV records the control plane would publish,
// and more static keys of the same format generated here (format + CRC-32,
// checked against `keygate key inspect`), for the flood and the cold-record
// measurement.

import { createHash, randomBytes } from "node:crypto";
import { statSync } from "node:fs";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { SignJWT, importJWK } from "jose";
import { AUDIENCE, CLIENT_ID, b64url, run } from "./common.mjs";

/** A real keygate secret key, its public and private JWK, from the CLI. */
export function keyMaterial(keygate, dir) {
  try {
    statSync(keygate);
  } catch {
    throw new Error(`${keygate} not found: run \`cargo build --bin keygate\``);
  }
  // `admin-key create` mints a valid secret key offline into a throwaway
  // SQLite database; only the key text is used.
  const key = run(keygate, ["admin-key", "create", "--out", "-"], { DATABASE_URL: `sqlite://${join(dir, "keys.db")}` });
  const info = JSON.parse(run(keygate, ["--json", "key", "inspect", key]));
  const jwk = JSON.parse(run(keygate, ["key", "jwk", key]));
  const privateJwk = JSON.parse(run(keygate, ["key", "jwk", "--private", key]));
  if (info.type !== "secret" || info.env !== "live" || jwk.kid !== info.id) throw new Error(`unexpected key: ${JSON.stringify(info)}`);
  return { key, keyId: info.id, jwk, privateJwk };
}

/** `count` valid EdDSA access tokens for `kid`, each with its own jti. */
export async function mintTokens(privateJwk, kid, count) {
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
const common = () => ({ scopes: [], expires_at: null, revoked_at: null, client_disabled: false, rev: 1 });
const staticRecord = (key, keyId) => [`sk:${sha256Hex(key)}`, { v: 1, client_id: CLIENT_ID, key_id: keyId, env: "live", key_type: "secret", ...common() }];

export function kvRecords(km) {
  return Object.fromEntries([
    staticRecord(km.key, km.keyId),
    [`jwk:${km.keyId}`, { v: 1, client_id: CLIENT_ID, env: "live", jwk: km.jwk, ...common() }],
    [`client:${CLIENT_ID}`, { v: 1, client_id: CLIENT_ID, revoked_before: null, disabled: false, rev: 1 }],
  ]);
}

// ------------------------------------------- static keys generated here --

// shared/src/base62.rs: fixed width, big-endian, 0-9A-Za-z.
const ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const encodedLen = (bytes) => Math.ceil((bytes * 8) / Math.log2(62));
function base62(bytes) {
  let n = BigInt(`0x${Buffer.from(bytes).toString("hex") || "0"}`);
  let out = "";
  for (let i = 0; i < encodedLen(bytes.length); i++) {
    out = ALPHABET[Number(n % 62n)] + out;
    n /= 62n;
  }
  return out;
}
const KEY_RE = /^kg_(sk|pk)_([a-z][a-z0-9]{0,15})_([0-9A-Za-z]{17})_(?:([0-9A-Za-z]{1,24})_)?[0-9A-Za-z]+$/;

/**
 * A generator of new, well-formed static keys like `template` (same type,
 * environment and client segment; fresh random key id and 256-bit secret;
 * CRC-32 checksum as shared/src/key/mod.rs computes it). The first key is
 * checked with `keygate key inspect` (format and checksum), so a generator
 * that drifted from the format fails the run instead of measuring 401
 * malformed_credential refusals (which never reach KV).
 */
export function staticKeyGenerator(keygate, template) {
  const m = KEY_RE.exec(template);
  if (!m) throw new Error("the CLI's key does not have the expected layout kg_<type>_<env>_<id>_<client>_<secret><crc>");
  const [, tag, env, , client] = m;
  const next = () => {
    const keyId = base62(randomBytes(12));
    let text = `kg_${tag}_${env}_${keyId}_${client ? `${client}_` : ""}${base62(randomBytes(32))}`;
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(text) >>> 0);
    text += base62(crc);
    return { key: text, keyId };
  };
  const probe = next();
  const info = JSON.parse(run(keygate, ["--json", "key", "inspect", probe.key]));
  if (info.id !== probe.keyId || info.type !== "secret") throw new Error(`keygate key inspect disagrees with the generated key: ${JSON.stringify(info)}`);
  return next;
}

/** KV records for generated keys (so they are real, known keys). */
export const recordsFor = (keys) => Object.fromEntries(keys.map((k) => staticRecord(k.key, k.keyId)));
