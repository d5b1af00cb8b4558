// Entry point for Cloudflare Workers (package.json "workerd"/"worker"
// conditions): Workers may not compile WebAssembly from bytes at run time, so
// the module is imported, and wrangler uploads it as a compiled module.
import wasmModule from "../dist/keygate_sdk_wasm_bg.wasm";
import { initSync } from "../dist/keygate_sdk_wasm.js";

initSync({ module: wasmModule });

export * from "./api.js";
