// The package's typed errors. Every one has a stable `.code` to branch on;
// no message ever contains a key, a token or a secret.

/** Base class of the package's errors. */
export class KeygateError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A malformed or unusable access key (thrown when a TokenProvider is built). */
export class KeyError extends KeygateError {}

/** A request that did not provably come through the edge. */
export class EdgeSignatureError extends KeygateError {}

/** The verification API could not answer (transport, auth, 4xx or 5xx). */
export class VerifyError extends KeygateError {
  constructor(code, message, status) {
    super(code, message);
    this.status = status ?? null;
  }
}

// The WebAssembly core throws "<code>: <message>" strings (see
// sdk/js/wasm/src/lib.rs); turn one into a typed error. Bad arguments (a
// NaN time, an empty audience) are programming errors, hence RangeError.
export function fromWasm(thrown, ErrorClass) {
  if (typeof thrown !== "string") return thrown;
  const at = thrown.indexOf(": ");
  const code = at === -1 ? "internal_error" : thrown.slice(0, at);
  const message = at === -1 ? thrown : thrown.slice(at + 2);
  if (code === "invalid_argument") return new RangeError(message);
  return new ErrorClass(code, message);
}
