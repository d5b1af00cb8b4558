//! `/openapi.json`: the API described from one table of its operations.
//!
//! The table is the single place a route's method, path, auth and success
//! status are written for documentation; the tests check it against the
//! router both ways (every operation is routed; every path the router serves,
//! `http::routed_paths()`, is in the table with exactly its methods), so the
//! document cannot drift from the code.

use serde_json::{json, Map, Value};

/// Who may call an operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// No credential.
    None,
    /// An admin key.
    Admin,
    /// Any valid key (static) or a JWT signed with one: self-service.
    KeyHolder,
    /// A verify key (scope `verify`) or an admin key.
    Verifier,
}

/// One operation of the API.
#[derive(Debug, Clone, Copy)]
pub struct Operation {
    /// HTTP method, upper case.
    pub method: &'static str,
    /// Path template as routed (`{param}`).
    pub path: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// Who may call it.
    pub auth: Auth,
    /// Status on success.
    pub ok: u16,
}

const fn op(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    auth: Auth,
    ok: u16,
) -> Operation {
    Operation {
        method,
        path,
        summary,
        auth,
        ok,
    }
}

/// Every operation the router serves.
pub const OPERATIONS: &[Operation] = &[
    op(
        "GET",
        "/healthz",
        "Liveness and database reachability.",
        Auth::None,
        200,
    ),
    op(
        "GET",
        "/metrics",
        "Prometheus metrics (text format 0.0.4).",
        Auth::None,
        200,
    ),
    op("GET", "/openapi.json", "This document.", Auth::None, 200),
    op("POST", "/v1/clients", "Create a client.", Auth::Admin, 201),
    op(
        "GET",
        "/v1/clients",
        "List clients (cursor pagination; filters owner_id, name).",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/clients/{client_id}",
        "Get a client.",
        Auth::Admin,
        200,
    ),
    op(
        "PATCH",
        "/v1/clients/{client_id}",
        "Update a client's name, owner or metadata.",
        Auth::Admin,
        200,
    ),
    op(
        "DELETE",
        "/v1/clients/{client_id}",
        "Delete a client and revoke all its keys.",
        Auth::Admin,
        204,
    ),
    op(
        "POST",
        "/v1/clients/{client_id}/keys",
        "Create a key; the plaintext is returned once.",
        Auth::Admin,
        201,
    ),
    op(
        "GET",
        "/v1/clients/{client_id}/keys",
        "List a client's keys (env filter, cursor pagination).",
        Auth::Admin,
        200,
    ),
    op(
        "POST",
        "/v1/clients/{client_id}/keys/regenerate",
        "Revoke an environment's keys and issue one per type.",
        Auth::Admin,
        201,
    ),
    op(
        "POST",
        "/v1/clients/{client_id}/revoke-tokens",
        "Refuse every JWT the client signed until now.",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/clients/{client_id}/jwks",
        "The client's active public signing keys (JWKS).",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/keys/{key_id}",
        "Get a key (never its secret).",
        Auth::Admin,
        200,
    ),
    op(
        "POST",
        "/v1/keys/{key_id}/revoke",
        "Revoke a key (idempotent).",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/publish/status",
        "Outbox backlog and the last publish outcome.",
        Auth::Admin,
        200,
    ),
    op(
        "POST",
        "/v1/publish/sync",
        "Re-sync KV with the database (`dry_run=true`: report only).",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/audit",
        "The audit log, newest first (cursor pagination; target filter).",
        Auth::Admin,
        200,
    ),
    op(
        "GET",
        "/v1/apikeys/self",
        "Self-service: the caller's own key.",
        Auth::KeyHolder,
        200,
    ),
    op(
        "GET",
        "/v1/apikeys/{env}",
        "Self-service: the caller's client's keys of an environment.",
        Auth::KeyHolder,
        200,
    ),
    op(
        "POST",
        "/v1/apikeys/regenerate/{env}",
        "Self-service: revoke and reissue an environment's keys.",
        Auth::KeyHolder,
        201,
    ),
    op(
        "POST",
        "/v1/verify",
        "Verify a credential for a method and path as the edge would (body: credential, \
         method?, path?, audience?); 200 with valid, code, status and the caller or message.",
        Auth::Verifier,
        200,
    ),
];

/// The OpenAPI 3.1 document.
pub fn document() -> Value {
    let error = json!({ "$ref": "#/components/responses/Error" });
    let mut paths = Map::new();
    for operation in OPERATIONS {
        let mut responses = Map::new();
        responses.insert(
            operation.ok.to_string(),
            json!({ "description": "Success." }),
        );
        let errors: &[u16] = match operation.auth {
            Auth::None => &[],
            Auth::Admin | Auth::KeyHolder => &[400, 401, 403, 404, 422],
            Auth::Verifier => &[400, 401, 403, 413, 415, 503],
        };
        for status in errors {
            responses.insert(status.to_string(), error.clone());
        }
        let parameters: Vec<Value> = operation
            .path
            .split('/')
            .filter_map(|segment| segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({ "name": name, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let mut entry = json!({
            "summary": operation.summary,
            "operationId": format!("{} {}", operation.method, operation.path),
            "parameters": parameters,
            "responses": responses,
        });
        if operation.auth != Auth::None {
            entry["security"] = json!([{ "bearer": [] }]);
        }
        let item = paths
            .entry(operation.path.to_owned())
            .or_insert_with(|| json!({}));
        item[operation.method.to_ascii_lowercase()] = entry;
    }
    json!({
        "openapi": "3.1.0",
        "info": { "title": "keygate control plane", "version": env!("CARGO_PKG_VERSION") },
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": { "type": "http", "scheme": "bearer",
                    "description": "An admin key; for /v1/verify a verify key (or an admin key); for /v1/apikeys a key of the client (static) or a JWT it signed." }
            },
            "responses": {
                "Error": {
                    "description": "An error with a stable code.",
                    "content": { "application/json": { "schema": {
                        "type": "object", "required": ["error"],
                        "properties": { "error": { "type": "object", "required": ["code", "message"],
                            "properties": { "code": { "type": "string" }, "message": { "type": "string" } } } }
                    } } }
                }
            }
        }
    })
}
