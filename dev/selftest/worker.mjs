// Minimal stand-in for the Rust edge worker, used only by selftest.mjs to prove
// the local stack (Miniflare host, KV REST API, demo origin) works on its own:
// it touches exactly the two things the real worker relies on, the KEYS KV
// binding and outbound fetch() to a loopback origin.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (request.method === "GET" && url.pathname === "/kv") {
      const value = await env.KEYS.get(url.searchParams.get("key") ?? "");
      return value === null
        ? new Response("not found\n", { status: 404 })
        : new Response(value, { headers: { "content-type": "text/plain" } });
    }
    // Forward everything else to the live origin, keeping path and query, the
    // way the real edge forwards an authorised request.
    const target = new URL(url.pathname + url.search, env.LIVE_ORIGIN);
    return fetch(new Request(target, request));
  },
};
