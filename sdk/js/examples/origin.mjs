// An origin on Node's http module that serves only requests the edge signed,
// and answers with the caller's identity (run by tests/tests/sdk_js.rs).
//   ORIGIN_SIGNING_SECRET=… PORT=8080 node origin.mjs
import { createServer } from "node:http";
import { EdgeSignatureError, verifyEdgeRequest } from "@keygate/sdk";

const server = createServer((req, res) => {
  try {
    const caller = verifyEdgeRequest(req, { secret: process.env.ORIGIN_SIGNING_SECRET });
    res.writeHead(200, { "content-type": "application/json" });
    res.end(JSON.stringify({ hello: caller.clientId, caller }));
  } catch (error) {
    if (!(error instanceof EdgeSignatureError)) throw error;
    res.writeHead(401, { "content-type": "application/json" });
    res.end(JSON.stringify({ error: { code: error.code, message: error.message } }));
  }
});
server.listen(Number(process.env.PORT ?? 8080), "127.0.0.1", () => {
  console.log(`READY origin=http://127.0.0.1:${server.address().port}`);
});
