"""TokenProvider offline: construction errors, caching, renewal on an
injected clock, thread safety."""

from __future__ import annotations

import threading
import unittest

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import keygate

from _support import Clock, b64url_decode, claims, vectors

KEYS = {v["name"]: v for v in vectors("keys.json")["vectors"]}
SECRET = KEYS["secret-32-live"]
LEGACY = KEYS["legacy-secret-32-live"]
AUD = "https://api.example.com"
T0 = 1_767_225_600


class Construction(unittest.TestCase):
    def test_malformed_keys_fail_at_construction(self) -> None:
        for text, reason in [
            ("", "prefix"),
            ("not a key", "prefix"),
            (SECRET["key"][:-1], "secret"),
            (SECRET["key"][:-1] + ("A" if SECRET["key"][-1] != "A" else "B"), "checksum"),
        ]:
            with self.assertRaises(keygate.InvalidKeyError) as raised:
                keygate.TokenProvider(text, audience=AUD)
            self.assertEqual(raised.exception.code, "malformed_credential")
            self.assertEqual(raised.exception.reason, reason)
            self.assertIsInstance(raised.exception, ValueError)

    def test_publishable_keys_cannot_sign(self) -> None:
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.TokenProvider(KEYS["publishable-24-live"]["key"], audience=AUD)
        self.assertEqual((raised.exception.code, raised.exception.reason), ("invalid_key", "not_signable"))

    def test_legacy_key_needs_a_client_id(self) -> None:
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.TokenProvider(LEGACY["key"], audience=AUD)
        self.assertEqual(raised.exception.reason, "legacy_key_needs_client_id")
        self.assertIn("predates", str(raised.exception))
        provider = keygate.TokenProvider(LEGACY["key"], audience=AUD, client_id="cl_4vectors0000000000000")
        self.assertEqual(claims(provider.get_token())["iss"], "cl_4vectors0000000000000")

    def test_client_id_must_match_the_key(self) -> None:
        keygate.TokenProvider(SECRET["key"], audience=AUD, client_id=SECRET["client_id"])
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.TokenProvider(SECRET["key"], audience=AUD, client_id="cl_someoneelse")
        self.assertEqual(raised.exception.reason, "client_id_mismatch")
        for bad in ("", "someone", "cl_", "cl_a-b"):
            with self.assertRaises(keygate.InvalidKeyError) as raised:
                keygate.TokenProvider(LEGACY["key"], audience=AUD, client_id=bad)
            self.assertEqual(raised.exception.reason, "invalid_client_id")

    def test_bad_options(self) -> None:
        for kwargs in ({"lifetime": 0}, {"lifetime": 60, "refresh_margin": 60}, {"refresh_margin": -1}):
            with self.assertRaises(ValueError, msg=kwargs):
                keygate.TokenProvider(SECRET["key"], audience=AUD, **kwargs)
        with self.assertRaises(ValueError):
            keygate.TokenProvider(SECRET["key"], audience="")

    def test_repr_never_shows_secrets(self) -> None:
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD)
        text = repr(provider) + repr(keygate.parse_key(SECRET["key"]))
        self.assertNotIn(SECRET["key"], text)
        self.assertNotIn(SECRET["private_jwk"]["d"], text)
        self.assertIn(SECRET["key_id"], text)


class Tokens(unittest.TestCase):
    def test_claims_and_signature(self) -> None:
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, now=Clock(T0))
        token = provider.get_token()
        body = claims(token)
        self.assertEqual(
            {k: body[k] for k in ("iss", "sub", "aud", "iat", "exp")},
            {"iss": SECRET["client_id"], "sub": SECRET["client_id"], "aud": AUD, "iat": T0, "exp": T0 + 300},
        )
        self.assertEqual(len(body["jti"]), 22)
        header = b64url_decode(token.split(".")[0])
        self.assertEqual(header, b'{"alg":"EdDSA","kid":"%s","typ":"at+jwt"}' % SECRET["key_id"].encode())
        public = Ed25519PublicKey.from_public_bytes(b64url_decode(SECRET["public_jwk"]["x"]))
        head, payload, signature = token.split(".")
        public.verify(b64url_decode(signature), f"{head}.{payload}".encode())
        self.assertEqual(provider.authorization_header(), "Bearer " + token)

    def test_cached_then_renewed_at_80_percent(self) -> None:
        clock = Clock(T0)
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, now=clock)
        first = provider.get_token()
        clock.now = T0 + 239  # before 80% of 300 s
        self.assertEqual(provider.get_token(), first)
        clock.now = T0 + 240  # 60 s (the default margin) before exp
        second = provider.get_token()
        self.assertNotEqual(second, first)
        self.assertEqual(claims(second)["iat"], T0 + 240)
        self.assertNotEqual(claims(second)["jti"], claims(first)["jti"])
        self.assertEqual(provider.get_token(), second)

    def test_custom_lifetime_and_margin(self) -> None:
        clock = Clock(T0)
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, lifetime=60, refresh_margin=5, now=clock)
        first = provider.get_token()
        self.assertEqual(claims(first)["exp"], T0 + 60)
        clock.now = T0 + 54.9
        self.assertEqual(provider.get_token(), first)
        clock.now = T0 + 55
        self.assertNotEqual(provider.get_token(), first)

    def test_clock_going_back_renews(self) -> None:
        clock = Clock(T0)
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, now=clock)
        first = provider.get_token()
        clock.now = T0 - 120
        self.assertNotEqual(provider.get_token(), first)

    def test_thread_safe_one_token_per_period(self) -> None:
        clock = Clock(T0)
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, now=clock)
        seen: list = []
        errors: list = []
        barrier = threading.Barrier(32)

        def worker() -> None:
            try:
                barrier.wait()
                for _ in range(200):
                    seen.append(provider.get_token())
            except Exception as error:  # pragma: no cover - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker) for _ in range(32)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.assertEqual(errors, [])
        self.assertEqual(len(seen), 32 * 200)
        self.assertEqual(len(set(seen)), 1, "concurrent callers must share one cached token")

    def test_thread_safe_across_renewals(self) -> None:
        clock = Clock(T0)
        provider = keygate.TokenProvider(SECRET["key"], audience=AUD, now=clock)
        tokens: list = []
        lock = threading.Lock()

        def worker(offset: int) -> None:
            for step in range(50):
                token = provider.get_token()
                with lock:
                    tokens.append(token)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(16)]
        for thread in threads:
            thread.start()
        for step in range(10):
            clock.now = T0 + 240 * (step + 1)
        for thread in threads:
            thread.join()
        # Every token handed out is well-formed and unexpired at its iat.
        for token in set(tokens):
            body = claims(token)
            self.assertEqual(body["exp"] - body["iat"], 300)
        # At most one token per clock period (11 distinct clock values).
        self.assertLessEqual(len(set(tokens)), 11)


if __name__ == "__main__":
    unittest.main()
