// The lightest shim worker-build takes (CUSTOM_SHIM): the WASM instantiated
// once at module scope and a plain-object module entry, no WorkerEntrypoint
// class and no Proxy. worker-build fills in the $… placeholders.
import * as imports from "./index_bg.js";
import wasmModule from "./index.wasm";
$SNIPPET_JS_IMPORTS

const instance = new WebAssembly.Instance(wasmModule, {
  "./index_bg.js": imports,
  $SNIPPET_WASM_IMPORTS
});
imports.__wbg_set_wasm(instance.exports);
instance.exports.__wbindgen_start?.();

export default {
  fetch(request, env, ctx) {
    return imports.fetch(request, env, ctx);
  },
};
