// A tiny Cloudflare Worker that uses the installed package as a Workers user
// would (bundled by wrangler through the package's "workerd" export): it
// mints tokens and checks the edge's origin signature inside workerd.
import { EdgeSignatureError, TokenProvider, mintToken, verifyEdgeRequest } from "@keygate/sdk";

export default {
  async fetch(request, env) {
    const url = new URL(request.url);
    if (url.pathname === "/token") {
      const provider = new TokenProvider(env.ACCESS_KEY, { audience: env.AUDIENCE });
      const [token, again] = await Promise.all([provider.getToken(), provider.getToken()]);
      return Response.json({ token, again, keyId: provider.keyId });
    }
    if (url.pathname === "/mint") {
      const { key, options } = await request.json();
      return Response.json({ token: mintToken(key, options) });
    }
    // Any other path: an origin behind the edge.
    try {
      return Response.json({ identity: verifyEdgeRequest(request, { secret: env.SIGNING_SECRET }) });
    } catch (error) {
      if (!(error instanceof EdgeSignatureError)) throw error;
      return Response.json({ refused: error.code }, { status: 401 });
    }
  },
};
