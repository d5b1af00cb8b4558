// GETs a URL through the edge with a token from the access key, and prints
// the response body (run by tests/tests/sdk_js.rs against the local stack).
//   KEYGATE_ACCESS_KEY=kg_sk_… KEYGATE_AUDIENCE=https://edge.example.com node call.mjs https://edge.example.com/v1/orders
import { TokenProvider } from "@keygate/sdk";

const provider = new TokenProvider(process.env.KEYGATE_ACCESS_KEY, { audience: process.env.KEYGATE_AUDIENCE });
const response = await fetch(process.argv[2], { headers: { authorization: await provider.authorizationHeader() } });
console.log(await response.text());
process.exitCode = response.ok ? 0 : 1;
