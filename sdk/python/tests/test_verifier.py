"""The Verifier's client behaviour against a local HTTP server that answers
as the contract says (the real API is exercised in test_stack.py): the
request it sends, the cache (hits, TTL, bound, token expiry, keyed on the
credential's hash), what is never cached, and the typed errors."""

from __future__ import annotations

import json
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple

import keygate

from _support import Clock

VALID = {
    "valid": True, "code": "valid", "status": 200, "client_id": "cl_a", "key_id": "08X9XClHVYrh2qbd4",
    "env": "live", "key_type": "secret", "auth": "static", "scopes": ["GET:/v1"], "expires_at": None,
}


class Api:
    """Answers POST /v1/verify with the next queued (status, body)."""

    def __init__(self) -> None:
        self.requests: List[Tuple[str, Dict[str, str], Any]] = []
        self.answers: List[Tuple[int, Any]] = []
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length", 0))
                api.requests.append((self.path, dict(self.headers), json.loads(self.rfile.read(length))))
                status, body = api.answers.pop(0) if api.answers else (200, VALID)
                raw = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                if status in (301, 302, 307, 308):
                    self.send_header("Location", "http://127.0.0.1:9/steal")
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class VerifierClient(unittest.TestCase):
    def setUp(self) -> None:
        self.api = Api()
        self.addCleanup(self.api.close)
        self.clock = Clock(1000.0)

    def verifier(self, **kwargs: Any) -> keygate.Verifier:
        return keygate.Verifier(self.api.url + "/", "kg_verify_key_text", clock=self.clock, **kwargs)

    def test_request_shape_and_decision(self) -> None:
        result = self.verifier(audience="https://aud").verify("cred-1", "POST", "/v1/orders")
        self.assertEqual(result, keygate.Verification(**{**VALID, "scopes": ["GET:/v1"]}))
        path, headers, body = self.api.requests[0]
        self.assertEqual(path, "/v1/verify")
        self.assertEqual(headers["Authorization"], "Bearer kg_verify_key_text")
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(body, {"credential": "cred-1", "method": "POST", "path": "/v1/orders", "audience": "https://aud"})
        self.assertEqual(self.verifier().verify("x").valid, True)
        self.assertEqual(self.api.requests[1][2], {"credential": "x", "method": "GET", "path": "/"})

    def test_cache_hits_expire_and_key_on_method_and_path(self) -> None:
        verifier = self.verifier(cache_ttl=30)
        for _ in range(5):
            verifier.verify("cred", "GET", "/a")
        self.assertEqual(verifier.calls, 1)
        verifier.verify("cred", "POST", "/a")
        verifier.verify("cred", "GET", "/b")
        verifier.verify("other", "GET", "/a")
        self.assertEqual(verifier.calls, 4)
        self.clock.now += 29.9
        verifier.verify("cred", "GET", "/a")
        self.assertEqual(verifier.calls, 4)
        self.clock.now += 0.1
        verifier.verify("cred", "GET", "/a")
        self.assertEqual(verifier.calls, 5)
        # The cache holds hashes, never the credential.
        self.assertNotIn("cred", repr(list(verifier._cache.keys())))

    def test_refusals_are_cached_but_503_decisions_and_errors_are_not(self) -> None:
        verifier = self.verifier()
        refusal = {"valid": False, "code": "revoked", "status": 401, "message": "key revoked"}
        self.api.answers = [(200, refusal)]
        self.assertEqual(verifier.verify("r").code, "revoked")
        self.assertEqual(verifier.verify("r").code, "revoked")
        self.assertEqual(verifier.calls, 1)
        unavailable = {"valid": False, "code": "unavailable", "status": 503, "message": "kv down"}
        self.api.answers = [(200, unavailable), (200, unavailable)]
        verifier.verify("u")
        verifier.verify("u")
        self.assertEqual(verifier.calls, 3)
        self.api.answers = [(502, {"error": {"code": "x", "message": "y"}})]
        with self.assertRaises(keygate.VerifyError) as raised:
            verifier.verify("e")
        self.assertEqual((raised.exception.code, raised.exception.status), ("unavailable", 502))
        self.assertTrue(verifier.verify("e").valid)  # not cached: asked again
        self.assertEqual(verifier.calls, 5)

    def test_valid_tokens_are_not_served_past_their_expiry(self) -> None:
        verifier = self.verifier(cache_ttl=30)
        self.api.answers = [(200, {**VALID, "auth": "jwt", "expires_at": int(time.time()) + 5})] * 2
        verifier.verify("t")
        self.clock.now += 6
        verifier.verify("t")
        self.assertEqual(verifier.calls, 2)

    def test_cache_is_bounded_lru(self) -> None:
        verifier = self.verifier(cache_size=3)
        for name in ("a", "b", "c"):
            verifier.verify(name)
        verifier.verify("a")  # a is now most recent
        verifier.verify("d")  # evicts b
        self.assertEqual(len(verifier._cache), 3)
        calls = verifier.calls
        verifier.verify("a")
        self.assertEqual(verifier.calls, calls)
        verifier.verify("b")
        self.assertEqual(verifier.calls, calls + 1)

    def test_call_errors_are_typed(self) -> None:
        verifier = self.verifier()
        for status, body, code in [
            (401, {"error": {"code": "unauthorized", "message": "no"}}, "unauthorized"),
            (403, {"error": {"code": "forbidden", "message": "no"}}, "forbidden"),
            (400, b"not json", "http_400"),
            (200, {"valid": "yes"}, "bad_response"),
            (200, {"valid": True, "code": "valid", "status": 200}, "bad_response"),
            (307, {}, "http_307"),
        ]:
            with self.subTest(status=status):
                self.api.answers = [(status, body)]
                with self.assertRaises(keygate.VerifyError) as raised:
                    verifier.verify(f"c{status}{code}")
                self.assertEqual(raised.exception.code, code)
                self.assertNotIn("kg_verify_key_text", str(raised.exception))
        self.assertEqual(len(self.api.requests), 6, "a redirect is not followed")

    def test_transport_error(self) -> None:
        verifier = keygate.Verifier("http://127.0.0.1:9", "k", timeout=2)
        with self.assertRaises(keygate.VerifyError) as raised:
            verifier.verify("c")
        self.assertEqual(raised.exception.code, "unavailable")

    def test_thread_safe(self) -> None:
        verifier = self.verifier()
        errors: List[BaseException] = []

        def worker(i: int) -> None:
            try:
                for j in range(20):
                    self.assertTrue(verifier.verify(f"c{j % 5}").valid)
            except BaseException as error:  # pragma: no cover
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertLessEqual(verifier.calls, 5 * 8)
        self.assertEqual(len(verifier._cache), 5)


if __name__ == "__main__":
    unittest.main()
