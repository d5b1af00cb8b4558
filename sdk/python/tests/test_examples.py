"""The examples in sdk/python/examples, run against the real stack: call.py
through the edge, and origin.py as the edge's origin for ``test`` keys
(tests/tests/sdk_python.rs starts it with the edge's signing secret and sets
KEYGATE_PYTHON_ORIGIN_URL and KEYGATE_TEST_ENV_KEY, a key of environment
``test``, so the edge forwards that key's requests to it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import unittest
from pathlib import Path

import keygate

from _support import stack_env

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


class CallExample(unittest.TestCase):
    def test_call_prints_the_echo(self) -> None:
        edge = stack_env("KEYGATE_EDGE_URL").rstrip("/")  # type: ignore[union-attr]
        env = dict(os.environ, KEYGATE_AUDIENCE=edge)
        done = subprocess.run(
            [sys.executable, str(EXAMPLES / "call.py"), edge + "/v1/example"],
            env=env, capture_output=True, text=True, timeout=60,
        )
        self.assertEqual(done.returncode, 0, done.stderr)
        echo = json.loads(done.stdout)
        self.assertEqual(echo["headers"]["x-keygate-auth"], "jwt")
        self.assertEqual(echo["path"], "/v1/example")
        bad = subprocess.run(
            [sys.executable, str(EXAMPLES / "call.py"), edge + "/v1/example"],
            env=dict(env, KEYGATE_ACCESS_KEY=env["KEYGATE_ACCESS_KEY"][:-1]), capture_output=True, text=True, timeout=60,
        )
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("InvalidKeyError", bad.stderr)
        self.assertNotIn(env["KEYGATE_ACCESS_KEY"][:-1], bad.stderr)


class OriginExample(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.edge = stack_env("KEYGATE_EDGE_URL").rstrip("/")  # type: ignore[union-attr]
        cls.origin = stack_env("KEYGATE_PYTHON_ORIGIN_URL").rstrip("/")  # type: ignore[union-attr]
        cls.key = stack_env("KEYGATE_TEST_ENV_KEY")

    def test_requests_through_the_edge_reach_it_with_their_identity(self) -> None:
        import requests

        provider = keygate.TokenProvider(self.key, audience=self.edge)
        response = requests.get(self.edge + "/v1/hello?x=1", auth=keygate.RequestsAuth(provider), timeout=10)
        self.assertEqual(response.status_code, 200, response.text)
        body = response.json()
        self.assertEqual(
            body,
            {
                "client_id": stack_env("KEYGATE_CLIENT_ID"), "key_id": keygate.parse_key(self.key).key_id,
                "env": "test", "key_type": "secret", "auth": "jwt", "method": "GET", "path": "/v1/hello",
            },
        )
        static = requests.post(self.edge + "/v1/static", headers={"Authorization": f"Bearer {self.key}"}, timeout=10)
        self.assertEqual(static.status_code, 200, static.text)
        self.assertEqual((static.json()["auth"], static.json()["method"]), ("static", "POST"))

    def test_requests_around_the_edge_are_refused(self) -> None:
        import requests

        direct = requests.get(self.origin + "/v1/hello", timeout=10)
        self.assertEqual((direct.status_code, direct.json()["error"]["code"]), (401, "edge_signature_missing"))
        forged = {
            "X-Keygate-Client-Id": "cl_admin", "X-Keygate-Key-Id": "00000000000000000", "X-Keygate-Env": "live",
            "X-Keygate-Key-Type": "secret", "X-Keygate-Auth": "static",
            "X-Keygate-Signature": "t=1767225600,v1=" + "0" * 64,
        }
        response = requests.get(self.origin + "/v1/hello", headers=forged, timeout=10)
        self.assertEqual(response.status_code, 401)
        self.assertIn(response.json()["error"]["code"], ("edge_signature_invalid", "edge_signature_stale"))


if __name__ == "__main__":
    unittest.main()
