// Entry point for Node (and anything with node:fs): the WebAssembly is read
// from the package and compiled synchronously, so importing the package is
// all the setup there is (no top-level await, no init call).
import { readFileSync } from "node:fs";
import { initSync } from "../dist/keygate_sdk_wasm.js";

initSync({ module: readFileSync(new URL("../dist/keygate_sdk_wasm_bg.wasm", import.meta.url)) });

export * from "./api.js";
