// Reference for the cost of ONE Ed25519 signature check in workerd:
// GET /verify?n=N awaits N crypto.subtle.verify calls on a fixed, valid
// signature (BoringSSL underneath). The runner reads the workerd process's CPU
// from /proc around requests with n=N and n=0: the difference divided by N is
// one verify. Timing inside the worker would be useless, because workerd's
// clocks do not advance during CPU work (Spectre mitigation).
//
// Bindings (strings, base64url): PUBLIC_KEY (32 raw bytes), SIGNATURE
// (64 bytes), MESSAGE (the signed bytes; a JWT signing input of usual size).

const b64url = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/")), (c) => c.charCodeAt(0));

let material; // imported once per isolate, like a verifier that caches keys

async function load(env) {
  if (!material) {
    const key = await crypto.subtle.importKey("raw", b64url(env.PUBLIC_KEY), { name: "Ed25519" }, false, ["verify"]);
    material = { key, signature: b64url(env.SIGNATURE), message: b64url(env.MESSAGE) };
  }
  return material;
}

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname !== "/verify") return new Response("not found", { status: 404 });
    const n = Number(url.searchParams.get("n") ?? "0");
    if (!Number.isInteger(n) || n < 0 || n > 100_000) return new Response("bad n", { status: 400 });
    const { key, signature, message } = await load(env);
    let valid = 0;
    for (let i = 0; i < n; i++) {
      if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message)) valid++;
    }
    // A wrong count means the benchmark measured failures, not verifies.
    return Response.json({ n, valid }, { status: valid === n ? 200 : 500 });
  },
};
