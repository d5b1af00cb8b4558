// The public API, shared by the entry points (index.node.js, index.workerd.js),
// which only differ in how they load the WebAssembly.
export { KeygateError, KeyError, EdgeSignatureError, VerifyError } from "./errors.js";
export { parseKey } from "./keys.js";
export { mintToken } from "./mint.js";
export { TokenProvider } from "./token.js";
export { verifyEdgeRequest } from "./origin.js";
export { Verifier } from "./verifier.js";
