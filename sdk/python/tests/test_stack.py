"""Against the real local stack (control plane, edge in workerd, demo
origin), started by ``tests/tests/sdk_python.rs``, which sets:
KEYGATE_EDGE_URL, KEYGATE_CONTROL_PLANE_URL, KEYGATE_ACCESS_KEY (a current
secret key), KEYGATE_KEY_ID, KEYGATE_CLIENT_ID, KEYGATE_REVOCABLE_KEY and
KEYGATE_REVOCABLE_KEY_ID (a second key of that client, which one test
revokes), KEYGATE_ADMIN_KEY, KEYGATE_LEGACY_KEY (a key in the legacy layout,
published for the same client), KEYGATE_SIGNING_SECRET (the edge's
origin-signing secret) and KEYGATE_VERIFY_KEY (a key of scope ``verify``).
The demo origin echoes what it received (method, path, headers), so the
tests see exactly what the edge forwarded.
"""

from __future__ import annotations

import asyncio
import threading
import time
import unittest
from typing import Any, Dict, List

import keygate

from _support import Clock, claims, stack_env


def edge() -> str:
    return stack_env("KEYGATE_EDGE_URL").rstrip("/")  # type: ignore[union-attr]


def provider(**kwargs: Any) -> keygate.TokenProvider:
    return keygate.TokenProvider(stack_env("KEYGATE_ACCESS_KEY"), audience=edge(), **kwargs)


class InstalledPackage(unittest.TestCase):
    def test_the_package_under_test_is_the_installed_one(self) -> None:
        stack_env("KEYGATE_EDGE_URL")
        self.assertIn("site-packages", keygate.__file__)


class ThroughTheEdge(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        edge()

    def assert_jwt_echo(self, echo: Dict[str, Any]) -> None:
        headers = echo["headers"]
        self.assertEqual(headers["x-keygate-auth"], "jwt")
        self.assertEqual(headers["x-keygate-client-id"], stack_env("KEYGATE_CLIENT_ID"))
        self.assertEqual(headers["x-keygate-key-id"], stack_env("KEYGATE_KEY_ID"))
        self.assertNotIn("authorization", headers)
        self.assertEqual(echo["signature"], "valid")

    def test_requests_adapter(self) -> None:
        import requests

        tokens = provider()
        with requests.Session() as session:
            session.auth = keygate.RequestsAuth(tokens)
            first = tokens.get_token()
            for _ in range(3):
                response = session.get(edge() + "/v1/python/requests?x=1", timeout=10)
                self.assertEqual(response.status_code, 200, response.text)
                self.assert_jwt_echo(response.json())
            self.assertEqual(tokens.get_token(), first, "the token is cached across requests")
            unsigned = requests.get(edge() + "/v1/python/requests", timeout=10)
            self.assertEqual(unsigned.status_code, 401)
            self.assertEqual(unsigned.json()["error"]["code"], "missing_credential")

    def test_httpx_adapter_sync_and_async(self) -> None:
        import httpx

        auth = keygate.HttpxAuth(provider())
        with httpx.Client(auth=auth, timeout=10) as client:
            response = client.post(edge() + "/v1/python/httpx", content=b"hello")
            self.assertEqual(response.status_code, 200, response.text)
            self.assert_jwt_echo(response.json())
            self.assertEqual(response.json()["method"], "POST")

        async def run() -> List[httpx.Response]:
            async with httpx.AsyncClient(auth=auth, timeout=10) as client:
                return list(await asyncio.gather(*(client.get(edge() + f"/v1/python/async/{i}") for i in range(5))))

        for response in asyncio.run(run()):
            self.assertEqual(response.status_code, 200, response.text)
            self.assert_jwt_echo(response.json())

    def test_renewed_tokens_are_accepted(self) -> None:
        import requests

        offset = [0.0]
        tokens = provider(lifetime=60, refresh_margin=50, now=lambda: time.time() + offset[0])
        auth = keygate.RequestsAuth(tokens)
        first = tokens.get_token()
        self.assertEqual(requests.get(edge() + "/v1/renew", auth=auth, timeout=10).status_code, 200)
        offset[0] = 11  # past the 10 s of use before renewal (still within the edge's skew)
        second = tokens.get_token()
        self.assertNotEqual(second, first)
        self.assertEqual(claims(second)["iat"] - claims(first)["iat"], 11)
        response = requests.get(edge() + "/v1/renew", auth=auth, timeout=10)
        self.assertEqual(response.status_code, 200, response.text)

    def test_one_provider_shared_by_many_threads(self) -> None:
        import requests

        tokens = provider()
        auth = keygate.RequestsAuth(tokens)
        statuses: List[int] = []
        seen: List[str] = []
        lock = threading.Lock()
        barrier = threading.Barrier(16)

        def worker() -> None:
            barrier.wait()
            with requests.Session() as session:
                for _ in range(4):
                    token = tokens.get_token()
                    status = session.get(edge() + "/v1/threads", auth=auth, timeout=20).status_code
                    with lock:
                        statuses.append(status)
                        seen.append(token)

        threads = [threading.Thread(target=worker) for _ in range(16)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(statuses, [200] * 64)
        self.assertEqual(len(set(seen)), 1)

    def test_the_edge_refuses_what_it_must(self) -> None:
        import requests

        other_aud = keygate.TokenProvider(stack_env("KEYGATE_ACCESS_KEY"), audience="https://elsewhere.example")
        response = requests.get(edge() + "/v1/x", auth=keygate.RequestsAuth(other_aud), timeout=10)
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (401, "invalid_token"))
        token = provider().get_token()
        tampered = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
        response = requests.get(edge() + "/v1/x", headers={"Authorization": "Bearer " + tampered}, timeout=10)
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (401, "invalid_token"))

    def test_malformed_keys_fail_at_construction(self) -> None:
        key = stack_env("KEYGATE_ACCESS_KEY")
        for text in (key[:-1], key.replace("kg_sk_", "kg_pk_", 1), key + " ", key.upper()):
            with self.assertRaises(keygate.InvalidKeyError) as raised:
                keygate.TokenProvider(text, audience=edge())
            self.assertEqual(raised.exception.code, "malformed_credential")

    def test_legacy_key(self) -> None:
        import requests

        legacy = stack_env("KEYGATE_LEGACY_KEY")
        client_id = stack_env("KEYGATE_CLIENT_ID")
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.TokenProvider(legacy, audience=edge())
        self.assertEqual(raised.exception.reason, "legacy_key_needs_client_id")
        tokens = keygate.TokenProvider(legacy, audience=edge(), client_id=client_id)
        response = requests.get(edge() + "/v1/legacy", auth=keygate.RequestsAuth(tokens), timeout=10)
        self.assertEqual(response.status_code, 200, response.text)
        self.assertEqual(response.json()["headers"]["x-keygate-client-id"], client_id)
        self.assertEqual(response.json()["headers"]["x-keygate-auth"], "jwt")
        # The edge binds iss/sub to the client the kid record names.
        wrong = keygate.TokenProvider(legacy, audience=edge(), client_id="cl_notTheRightClient0")
        response = requests.get(edge() + "/v1/legacy", auth=keygate.RequestsAuth(wrong), timeout=10)
        self.assertEqual((response.status_code, response.json()["error"]["code"]), (401, "invalid_token"))


class OriginSignatureOnRealEdgeOutput(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        import requests

        response = requests.get(
            edge() + "/v1/orders/42%20x?q=1", auth=keygate.RequestsAuth(provider()), timeout=10
        )
        assert response.status_code == 200, response.text
        cls.echo = response.json()
        cls.secret = stack_env("KEYGATE_SIGNING_SECRET")

    def test_verify_edge_request(self) -> None:
        echo = self.echo
        identity = keygate.verify_edge_request(echo["headers"], self.secret, method=echo["method"], path=echo["path"])
        self.assertEqual(echo["path"], "/v1/orders/42%20x")
        self.assertEqual(
            identity,
            keygate.EdgeIdentity(
                client_id=stack_env("KEYGATE_CLIENT_ID"),
                key_id=stack_env("KEYGATE_KEY_ID"),
                env="live",
                key_type="secret",
                auth="jwt",
            ),
        )

    def test_tampered_and_stale_are_refused(self) -> None:
        echo = self.echo
        cases = [
            ("invalid", {**echo["headers"], "x-keygate-client-id": "cl_attacker"}, echo["method"], echo["path"], None),
            ("invalid", {**echo["headers"], "x-keygate-auth": "static"}, echo["method"], echo["path"], None),
            ("invalid", echo["headers"], "POST", echo["path"], None),
            ("invalid", echo["headers"], echo["method"], "/v1/admin", None),
            ("stale", echo["headers"], echo["method"], echo["path"], time.time() + 1000),
            ("missing", {k: v for k, v in echo["headers"].items() if k != "x-keygate-signature"}, "GET", echo["path"], None),
        ]
        for code, headers, method, path, now in cases:
            with self.subTest(code=code, method=method, path=path):
                with self.assertRaises(keygate.EdgeSignatureError) as raised:
                    keygate.verify_edge_request(headers, self.secret, method=method, path=path, now=now)
                self.assertEqual(raised.exception.code, code)
        with self.assertRaises(keygate.EdgeSignatureError):
            keygate.verify_edge_request(echo["headers"], "not-the-secret", method=echo["method"], path=echo["path"])

    def test_middleware_on_the_forwarded_request(self) -> None:
        echo = self.echo
        reached: List[Any] = []

        async def asgi_app(scope, receive, send):
            reached.append(scope["keygate"])
            await send({"type": "http.response.start", "status": 204, "headers": []})
            await send({"type": "http.response.body", "body": b""})

        async def send(message):
            pass

        headers = [(k.encode("latin-1"), str(v).encode("latin-1")) for k, v in echo["headers"].items()]
        scope = {"type": "http", "method": echo["method"], "path": "/v1/orders/42 x",
                 "raw_path": echo["path"].encode(), "query_string": b"q=1", "headers": headers}
        asyncio.run(keygate.ASGIMiddleware(asgi_app, secret=self.secret)(scope, None, send))
        forged = dict(scope, headers=headers + [(b"x-keygate-env", b"test")])
        asyncio.run(keygate.ASGIMiddleware(asgi_app, secret=self.secret)(forged, None, send))
        self.assertEqual(len(reached), 1)
        self.assertEqual(reached[0].client_id, stack_env("KEYGATE_CLIENT_ID"))

        def wsgi_app(environ, start_response):
            reached.append(environ["keygate.identity"])
            start_response("204 No Content", [])
            return []

        environ = {"REQUEST_METHOD": echo["method"], "SCRIPT_NAME": "", "PATH_INFO": "/v1/orders/42 x",
                   "QUERY_STRING": "q=1"}
        environ.update({"HTTP_" + k.upper().replace("-", "_"): v for k, v in echo["headers"].items()})
        statuses: List[str] = []
        keygate.WSGIMiddleware(wsgi_app, secret=self.secret)(environ, lambda s, h: statuses.append(s))
        environ["HTTP_X_KEYGATE_KEY_TYPE"] = "publishable"
        keygate.WSGIMiddleware(wsgi_app, secret=self.secret)(environ, lambda s, h: statuses.append(s))
        self.assertEqual(statuses, ["204 No Content", "401 Unauthorized"])
        self.assertEqual(len(reached), 2)


class VerificationApi(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        stack_env("KEYGATE_VERIFY_KEY")

    def verifier(self, **kwargs: Any) -> keygate.Verifier:
        return keygate.Verifier(stack_env("KEYGATE_CONTROL_PLANE_URL"), stack_env("KEYGATE_VERIFY_KEY"), **kwargs)

    def test_static_key_token_and_refusal(self) -> None:
        verifier = self.verifier()
        key = stack_env("KEYGATE_ACCESS_KEY")
        static = verifier.verify(key, "GET", "/v1/orders")
        self.assertTrue(static.valid, static)
        self.assertEqual(
            (static.code, static.client_id, static.key_id, static.env, static.key_type, static.auth),
            ("valid", stack_env("KEYGATE_CLIENT_ID"), stack_env("KEYGATE_KEY_ID"), "live", "secret", "static"),
        )
        token = provider().get_token()
        signed = self.verifier(audience=edge()).verify(token, "POST", "/v1/orders")
        self.assertTrue(signed.valid, signed)
        self.assertEqual((signed.auth, signed.client_id), ("jwt", stack_env("KEYGATE_CLIENT_ID")))
        self.assertIsNotNone(signed.expires_at)
        bad = verifier.verify(key[:-1] + ("A" if key[-1] != "A" else "B"))
        self.assertEqual((bad.valid, bad.code, bad.status), (False, "malformed_credential", 401))
        self.assertFalse(verifier.verify("kg_nonsense").valid)

    def test_cache(self) -> None:
        verifier = self.verifier()
        key = stack_env("KEYGATE_ACCESS_KEY")
        for _ in range(5):
            self.assertTrue(verifier.verify(key, "GET", "/cached").valid)
        self.assertEqual(verifier.calls, 1)
        self.assertTrue(verifier.verify(key, "GET", "/other").valid)
        self.assertEqual(verifier.calls, 2)

    def test_revocation_shows_once_the_cache_ttl_has_passed(self) -> None:
        import urllib.request

        key = stack_env("KEYGATE_REVOCABLE_KEY")
        clock = Clock(0.0)
        cached = self.verifier(cache_ttl=30, clock=clock)
        uncached = self.verifier(cache_ttl=0)
        self.assertTrue(cached.verify(key).valid)
        self.assertTrue(uncached.verify(key).valid)
        revoke = urllib.request.Request(
            f"{stack_env('KEYGATE_CONTROL_PLANE_URL')}/v1/keys/{stack_env('KEYGATE_REVOCABLE_KEY_ID')}/revoke",
            headers={"Authorization": f"Bearer {stack_env('KEYGATE_ADMIN_KEY')}"},
            method="POST",
        )
        with urllib.request.urlopen(revoke, timeout=10) as response:
            self.assertEqual(response.status, 200)
        refused = uncached.verify(key)
        self.assertEqual((refused.valid, refused.code, refused.status), (False, "revoked", 401))
        # The documented window: the cached answer stands until its TTL ends.
        clock.now = 29.0
        self.assertTrue(cached.verify(key).valid)
        clock.now = 30.0
        self.assertEqual(cached.verify(key).code, "revoked")

    def test_a_bad_verify_key_is_an_error_not_a_decision(self) -> None:
        verifier = keygate.Verifier(stack_env("KEYGATE_CONTROL_PLANE_URL"), "kg_sk_live_not_a_real_key")
        with self.assertRaises(keygate.VerifyError) as raised:
            verifier.verify(stack_env("KEYGATE_ACCESS_KEY"))
        self.assertEqual(raised.exception.status, 401)
        # A key without the verify scope (an ordinary access key) may not verify.
        holder = keygate.Verifier(stack_env("KEYGATE_CONTROL_PLANE_URL"), stack_env("KEYGATE_ACCESS_KEY"))
        with self.assertRaises(keygate.VerifyError) as raised:
            holder.verify(stack_env("KEYGATE_ACCESS_KEY"))
        self.assertIn(raised.exception.status, (401, 403))


if __name__ == "__main__":
    unittest.main()
