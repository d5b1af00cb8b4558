// Type-checked (tsc --strict, never run) against the installed package's
// index.d.ts: the README's uses compile, and misuses do not
// (@ts-expect-error fails the check if a line unexpectedly compiles).
import {
  EdgeSignatureError,
  KeyError,
  TokenProvider,
  Verifier,
  VerifyError,
  mintToken,
  parseKey,
  verifyEdgeRequest,
  type EdgeIdentity,
  type KeyErrorCode,
  type Verification,
} from "@keygate/sdk";

export async function uses(request: Request, headers: Headers): Promise<void> {
  const provider = new TokenProvider("kg_sk_live_…", { audience: "https://edge.example.com", lifetimeSeconds: 300 });
  const token: string = await provider.getToken();
  const header: string = await provider.authorizationHeader();
  const legacy = new TokenProvider("kg_sk_live_…", { audience: "https://edge.example.com", clientId: "cl_x" });
  const ids: string[] = [provider.keyId, legacy.clientId, token, header];

  const identity: EdgeIdentity = verifyEdgeRequest(request, { secret: "s", maxAgeSeconds: 60 });
  verifyEdgeRequest(headers, { secret: "s", method: "GET", path: "/v1/x" });
  verifyEdgeRequest({ "x-keygate-signature": "t=1,v1=00" }, { secret: "s", method: "GET", path: "/" });
  verifyEdgeRequest({ method: "GET", url: "/x", headers: { "x-keygate-auth": ["a"] } }, { secret: "s" });
  ids.push(identity.clientId, identity.keyId, identity.env, identity.keyType, identity.auth);

  const verifier = new Verifier({ url: "https://keygate.example.com", verifyKey: "kg_sk_…", cacheTtlSeconds: 30, cacheSize: 100 });
  const result: Verification = await verifier.verify(token, { method: "GET", path: "/v1/x" });
  const valid: boolean = result.valid;
  const scopes: readonly string[] = result.scopes;
  ids.push(String(valid), ...scopes, parseKey("kg_…").keyId);
  ids.push(mintToken("kg_…", { audience: "a", issuedAt: 1, lifetimeSeconds: 60, jti: "j" }));

  try {
    await verifier.verify(token);
  } catch (error) {
    if (error instanceof VerifyError) ids.push(error.code, String(error.status));
    if (error instanceof KeyError) {
      const code: KeyErrorCode = error.code;
      ids.push(code);
    }
    if (error instanceof EdgeSignatureError && error.code === "stale") ids.push(error.message);
  }
}

export async function misuses(): Promise<void> {
  // @ts-expect-error the audience is required
  new TokenProvider("kg_sk_live_…", {});
  // @ts-expect-error the secret is required
  verifyEdgeRequest(new Headers(), { method: "GET", path: "/" });
  // @ts-expect-error a verify key is required
  new Verifier({ url: "https://keygate.example.com" });
  const provider = new TokenProvider("kg_sk_live_…", { audience: "a" });
  // @ts-expect-error getToken is asynchronous
  const token: string = provider.getToken();
  // @ts-expect-error not an edge signature code
  const code: EdgeSignatureError["code"] = "expired";
  void token;
  void code;
}
