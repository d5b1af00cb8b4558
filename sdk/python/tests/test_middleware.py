"""The ASGI and WSGI middleware, called directly with built scopes and
environs (no server framework needed): signed requests reach the app with
the identity, unsigned, tampered and stale ones get 401 JSON and do not."""

from __future__ import annotations

import asyncio
import json
import unittest
from typing import Any, Dict, List, Optional

import keygate
from keygate.origin import EdgeIdentity, sign

SECRET = "origin-secret-for-middleware-tests"
T0 = 1_767_225_600
IDENTITY = EdgeIdentity("cl_abc", "08X9XClHVYrh2qbd4", "live", "secret", "jwt")


def identity_headers(method: str, path: str, timestamp: int = T0, secret: str = SECRET) -> Dict[str, str]:
    return {
        "x-keygate-client-id": IDENTITY.client_id,
        "x-keygate-key-id": IDENTITY.key_id,
        "x-keygate-env": IDENTITY.env,
        "x-keygate-key-type": IDENTITY.key_type,
        "x-keygate-auth": IDENTITY.auth,
        "x-keygate-signature": sign(secret, method, path, IDENTITY, timestamp),
    }


class Asgi(unittest.TestCase):
    def run_app(self, headers: Dict[str, str], method: str = "GET", raw_path: bytes = b"/v1/x", extra: Optional[List] = None):
        calls: List[Dict[str, Any]] = []

        async def app(scope, receive, send):
            calls.append(scope)
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})

        sent: List[Dict[str, Any]] = []

        async def send(message):
            sent.append(message)

        async def receive():
            return {"type": "http.request", "body": b"", "more_body": False}

        scope = {
            "type": "http",
            "method": method,
            "path": raw_path.decode().split("?")[0],
            "raw_path": raw_path,
            "query_string": b"a=1",
            "headers": [(k.encode(), v.encode()) for k, v in headers.items()] + (extra or []),
        }
        middleware = keygate.ASGIMiddleware(app, secret=SECRET, now=lambda: T0 + 10)
        asyncio.run(middleware(scope, receive, send))
        return calls, sent

    def refused(self, sent: List[Dict[str, Any]]) -> str:
        self.assertEqual(sent[0]["status"], 401)
        self.assertIn((b"content-type", b"application/json"), sent[0]["headers"])
        return json.loads(sent[1]["body"])["error"]["code"]

    def test_signed_request_reaches_the_app_with_identity(self) -> None:
        calls, sent = self.run_app(identity_headers("GET", "/v1/x"))
        self.assertEqual(len(calls), 1)
        self.assertEqual(calls[0]["keygate"], IDENTITY)
        self.assertEqual(sent[0]["status"], 200)

    def test_percent_encoded_path_is_checked_as_sent(self) -> None:
        calls, _ = self.run_app(identity_headers("GET", "/v1/a%20b"), raw_path=b"/v1/a%20b")
        self.assertEqual(len(calls), 1)

    def test_refusals(self) -> None:
        good = identity_headers("GET", "/v1/x")
        cases = [
            ({}, "edge_signature_missing"),
            ({k: v for k, v in good.items() if k != "x-keygate-signature"}, "edge_signature_missing"),
            ({k: v for k, v in good.items() if k != "x-keygate-env"}, "edge_signature_missing"),
            ({**good, "x-keygate-client-id": "cl_other"}, "edge_signature_invalid"),
            ({**good, "x-keygate-signature": "garbage"}, "edge_signature_invalid"),
            (identity_headers("GET", "/v1/x", secret="wrong"), "edge_signature_invalid"),
            (identity_headers("POST", "/v1/x"), "edge_signature_invalid"),
            (identity_headers("GET", "/v1/y"), "edge_signature_invalid"),
            (identity_headers("GET", "/v1/x", timestamp=T0 - 400), "edge_signature_stale"),
        ]
        for headers, code in cases:
            with self.subTest(code=code, headers=headers):
                calls, sent = self.run_app(headers)
                self.assertEqual(calls, [])
                self.assertEqual(self.refused(sent), code)

    def test_repeated_identity_header_is_refused(self) -> None:
        calls, sent = self.run_app(identity_headers("GET", "/v1/x"), extra=[(b"X-Keygate-Client-Id", b"cl_abc")])
        self.assertEqual(calls, [])
        self.assertEqual(self.refused(sent), "edge_signature_invalid")

    def test_lifespan_passes_and_websocket_refusal_closes(self) -> None:
        seen: List[str] = []

        async def app(scope, receive, send):
            seen.append(scope["type"])

        sent: List[Dict[str, Any]] = []

        async def send(message):
            sent.append(message)

        middleware = keygate.ASGIMiddleware(app, secret=SECRET)
        asyncio.run(middleware({"type": "lifespan"}, None, send))
        asyncio.run(middleware({"type": "websocket", "path": "/ws", "raw_path": b"/ws", "headers": []}, None, send))
        self.assertEqual(seen, ["lifespan"])
        self.assertEqual(sent, [{"type": "websocket.close", "code": 1008}])


class Wsgi(unittest.TestCase):
    def call(self, headers: Dict[str, str], method: str = "GET", **environ: str):
        calls: List[Dict[str, Any]] = []

        def app(env, start_response):
            calls.append(env)
            start_response("200 OK", [("Content-Type", "text/plain")])
            return [b"ok"]

        base = {"REQUEST_METHOD": method, "SCRIPT_NAME": "", "PATH_INFO": "/v1/x", "QUERY_STRING": "a=1"}
        base.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
        base.update(environ)
        status: List[Any] = []
        body = b"".join(
            keygate.WSGIMiddleware(app, secret=SECRET, now=lambda: T0)(base, lambda s, h: status.append((s, h)))
        )
        return calls, status[0], body

    def test_signed_request_reaches_the_app(self) -> None:
        calls, status, body = self.call(identity_headers("GET", "/v1/x"))
        self.assertEqual(status[0], "200 OK")
        self.assertEqual(calls[0]["keygate.identity"], IDENTITY)
        self.assertEqual(body, b"ok")

    def test_raw_uri_is_preferred(self) -> None:
        # PATH_INFO is decoded ("/v1/a/b"); the edge signed what it sent.
        calls, status, _ = self.call(
            identity_headers("GET", "/v1/a%2Fb"), PATH_INFO="/v1/a/b", RAW_URI="/v1/a%2Fb?a=1"
        )
        self.assertEqual(status[0], "200 OK")
        calls, status, _ = self.call(identity_headers("GET", "/v1/a%2Fb"), PATH_INFO="/v1/a/b")
        self.assertEqual(status[0], "401 Unauthorized")

    def test_refusals(self) -> None:
        for headers, method, code in [
            ({}, "GET", "edge_signature_missing"),
            (identity_headers("GET", "/v1/x"), "DELETE", "edge_signature_invalid"),
            (identity_headers("GET", "/v1/x", timestamp=T0 + 301), "GET", "edge_signature_stale"),
        ]:
            with self.subTest(code=code):
                calls, status, body = self.call(headers, method)
                self.assertEqual(calls, [])
                self.assertEqual(status[0], "401 Unauthorized")
                self.assertIn(("Content-Type", "application/json"), status[1])
                self.assertEqual(json.loads(body)["error"]["code"], code)


if __name__ == "__main__":
    unittest.main()
