// Types of @keygate/sdk (the implementation is src/*.js over WebAssembly).

/** Base class of the package's errors; `code` is stable. */
export class KeygateError extends Error {
  readonly code: string;
}

/** Why an access key cannot be used. */
export type KeyErrorCode =
  | "malformed_key"
  | "checksum_mismatch"
  | "not_signable"
  | "legacy_key_needs_client_id"
  | "client_id_mismatch"
  | "invalid_client_id";

/** A malformed or unusable access key; thrown when a TokenProvider is built. */
export class KeyError extends KeygateError {
  readonly code: KeyErrorCode;
}

/** Why a request is refused at the origin. */
export type EdgeSignatureErrorCode = "missing" | "invalid" | "stale";

/** A request that did not provably come through the edge. */
export class EdgeSignatureError extends KeygateError {
  readonly code: EdgeSignatureErrorCode;
}

/** Why the verification API gave no verdict. */
export type VerifyErrorCode = "transport" | "unauthorized" | "bad_request" | "server_error" | "bad_response";

/** The verification API could not answer; never cached. */
export class VerifyError extends KeygateError {
  readonly code: VerifyErrorCode;
  /** The HTTP status of the call, null for a transport error. */
  readonly status: number | null;
}

/** What anyone can read off a key without using its secret. */
export interface KeyInfo {
  readonly keyId: string;
  /** `cl_…`; null for a key issued before keys carried their client id. */
  readonly clientId: string | null;
  readonly env: string;
  readonly keyType: "secret" | "publishable";
}

/** Checks a key's format and checksum offline. Throws KeyError. */
export function parseKey(accessKey: string): KeyInfo;

export interface MintTokenOptions {
  audience: string;
  /** `iat`, Unix seconds. */
  issuedAt: number;
  /** `exp - iat`, seconds. */
  lifetimeSeconds: number;
  jti: string;
  /** As in TokenProviderOptions. */
  clientId?: string;
}

/**
 * One token from explicit claims, nothing cached or random: the same inputs
 * give the same token, byte for byte (EdDSA is deterministic). Applications
 * want TokenProvider; this is for tools and tests. Throws KeyError.
 */
export function mintToken(accessKey: string, options: MintTokenOptions): string;

export interface TokenProviderOptions {
  /** The edge's public URL: the tokens' `aud`. */
  audience: string;
  /** Token lifetime (`exp - iat`), default 300. */
  lifetimeSeconds?: number;
  /** Renew this long before expiry; default lifetimeSeconds / 5 (60 s). */
  refreshMarginSeconds?: number;
  /** Only for keys issued before keys carried their client id (else optional, and must match). */
  clientId?: string;
  /** The clock, in milliseconds (default Date.now); for tests. */
  now?: () => number;
}

/** An access key as a source of short-lived signed tokens (EdDSA `at+jwt`). */
export class TokenProvider {
  /** Throws KeyError for a malformed, publishable or mismatched key. */
  constructor(accessKey: string, options: TokenProviderOptions);
  readonly keyId: string;
  readonly clientId: string;
  /** The cached token, or a new one once within refreshMarginSeconds of expiry. */
  getToken(): Promise<string>;
  /** `Bearer <token>`. */
  authorizationHeader(): Promise<string>;
}

/** What the edge asserts about a request it forwarded. */
export interface EdgeIdentity {
  readonly clientId: string;
  readonly keyId: string;
  readonly env: string;
  readonly keyType: "secret" | "publishable" | string;
  readonly auth: "static" | "jwt" | string;
}

export interface VerifyEdgeRequestOptions {
  /** The edge's ORIGIN_SIGNING_SECRET. */
  secret: string;
  /** Largest accepted age (either direction) of the signature, default 300. */
  maxAgeSeconds?: number;
  /** Required with bare headers; overrides the request's. */
  method?: string;
  /** Required with bare headers (path as forwarded, no query); overrides the request's. */
  path?: string;
  /** The clock, in milliseconds (default Date.now); for tests. */
  now?: () => number;
}

/** Anything with Node's IncomingMessage shape (Express's req included). */
export interface NodeRequestLike {
  method?: string;
  url?: string;
  originalUrl?: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * Checks the edge's X-Keygate-Signature and returns the identity it signed;
 * throws EdgeSignatureError ("missing" | "invalid" | "stale").
 */
export function verifyEdgeRequest(
  input: Request | { raw: Request } | NodeRequestLike | Headers | Record<string, string | string[] | undefined>,
  options: VerifyEdgeRequestOptions,
): EdgeIdentity;

export interface VerifierOptions {
  /** The control plane's base URL. */
  url: string;
  /** A key with scope `verify` (or an admin key). */
  verifyKey: string;
  /** How long an answer is reused: the revocation window the cache adds. Default 30; 0 disables. */
  cacheTtlSeconds?: number;
  /** Most cached answers (least recently used dropped first). Default 10000. */
  cacheSize?: number;
  /** Default globalThis.fetch. */
  fetch?: typeof fetch;
  /** The clock, in milliseconds (default Date.now); for tests. */
  now?: () => number;
}

export interface VerifyRequest {
  /** Default "GET". */
  method?: string;
  /** Default "/". */
  path?: string;
  /** Overrides the API's configured audience for JWTs. */
  audience?: string;
}

/** The edge's decision on a credential, from POST /v1/verify. */
export interface Verification {
  readonly valid: boolean;
  /** "valid", or the edge's error code ("invalid_credential", "revoked", "expired", …). */
  readonly code: string;
  /** The status the edge would answer (200, 401, 403, 503). */
  readonly status: number | null;
  readonly message: string | null;
  readonly clientId: string | null;
  readonly keyId: string | null;
  readonly env: string | null;
  readonly keyType: "secret" | "publishable" | null;
  readonly auth: "static" | "jwt" | null;
  readonly scopes: readonly string[];
  /** Unix seconds, or null. */
  readonly expiresAt: number | null;
}

/** Verification for services not behind the edge, with a bounded TTL cache. */
export class Verifier {
  constructor(options: VerifierOptions);
  /** Throws VerifyError when the API gives no verdict. */
  verify(credential: string, request?: VerifyRequest): Promise<Verification>;
  /** Drops every cached answer. */
  clear(): void;
}
