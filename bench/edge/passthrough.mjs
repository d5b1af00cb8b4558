// Baseline worker: forwards every request to ORIGIN_LIVE unchanged and
// verifies nothing. Its workerd CPU per request is what any worker pays
// locally (Miniflare's entry worker, HTTP parsing, the outbound fetch, the
// response stream), so every other target's overhead is measured against it.
export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    const target = env.ORIGIN_LIVE + url.pathname + url.search;
    // Same redirect handling as keygate's forward(): the origin's answer is
    // returned as is.
    return fetch(new Request(target, request), { redirect: "manual" });
  },
};
