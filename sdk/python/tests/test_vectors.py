"""The golden vectors of ``shared/tests/vectors``, byte for byte."""

from __future__ import annotations

import unittest

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

import keygate
from keygate import base62
from keygate.derive import SigningKeyPair
from keygate.jwt import mint
from keygate.origin import EdgeIdentity, canonical, sign

from _support import b64url_decode, vectors


class Base62(unittest.TestCase):
    def test_widths_and_known_values(self) -> None:
        self.assertEqual([base62.encoded_len(n) for n in (4, 12, 24, 32, 48, 64)], [6, 17, 33, 43, 65, 86])
        self.assertEqual(base62.encode(bytes(4)), "000000")
        self.assertEqual(base62.encode(bytes([0, 0, 0, 61])), "00000z")
        self.assertEqual(base62.encode(bytes([0, 0, 0, 62])), "000010")
        self.assertEqual(base62.encode(b"\xff" * 4), "4gfFC3")
        self.assertEqual(base62.decode("4gfFC3", 4), b"\xff" * 4)

    def test_refuses_overflow_length_and_foreign_characters(self) -> None:
        for bad in ("4gfFC4", "zzzzzz", "00000", "0000000", "00000_", "00000é", "00000٣"):
            self.assertIsNone(base62.decode(bad, 4), bad)


class Keys(unittest.TestCase):
    def test_every_key_parses_and_derives_its_jwks(self) -> None:
        data = vectors("keys.json")
        self.assertGreaterEqual(len(data["vectors"]), 10)
        for vector in data["vectors"]:
            with self.subTest(vector["name"]):
                key = keygate.parse_key(vector["key"])
                self.assertEqual(key.key_id, vector["key_id"])
                self.assertEqual(key.client_id, vector["client_id"])
                self.assertEqual(key.env, vector["env"])
                self.assertEqual(key.key_type, vector["key_type"])
                self.assertEqual(key.sha256_hex, vector["sha256_hex"])
                self.assertEqual("sk:" + key.sha256_hex, vector["kv_name"])
                self.assertEqual(key.is_legacy, vector["client_id"] is None)
                self.assertEqual(base62.decode(key.key_id, 12).hex(), vector["input"]["key_id_bytes_hex"])
                self.assertEqual(key.secret_bytes().hex(), vector["input"]["secret_bytes_hex"])
                self.assertNotIn(key.secret_bytes().hex(), repr(key))
                self.assertNotIn(vector["key"], repr(key))
                if vector["key_type"] == "publishable":
                    self.assertIsNone(vector["public_jwk"])
                    with self.assertRaises(keygate.InvalidKeyError) as raised:
                        SigningKeyPair.derive(key)
                    self.assertEqual((raised.exception.code, raised.exception.reason), ("invalid_key", "not_signable"))
                    continue
                pair = SigningKeyPair.derive(key)
                self.assertEqual(pair.public_jwk(), vector["public_jwk"])
                self.assertEqual(pair.private_jwk(), vector["private_jwk"])
                self.assertEqual(pair.thumbprint(), vector["thumbprint"])
                self.assertNotIn(vector["private_jwk"]["d"], repr(pair))

    def test_both_layouts_of_one_secret_derive_the_same_pair(self) -> None:
        by_name = {v["name"]: v for v in vectors("keys.json")["vectors"]}
        current = SigningKeyPair.derive(keygate.parse_key(by_name["secret-32-live"]["key"]))
        legacy = SigningKeyPair.derive(keygate.parse_key(by_name["legacy-secret-32-live"]["key"]))
        self.assertEqual(current.public_jwk(), legacy.public_jwk())


class Tokens(unittest.TestCase):
    def test_mint_reproduces_every_token_exactly(self) -> None:
        data = vectors("tokens.json")
        for vector in data["vectors"]:
            with self.subTest(vector["key_name"]):
                pair = SigningKeyPair.derive(keygate.parse_key(vector["key"]))
                m = vector["mint"]
                token = mint(
                    pair,
                    client_id=m["client_id"],
                    audience=m["audience"],
                    issued_at=m["issued_at"],
                    ttl=m["ttl"],
                    jti=m["jti"],
                )
                self.assertEqual(token, vector["token"])
                self.assertEqual(pair.public_jwk(), vector["public_jwk"])

    def test_the_signature_verifies_and_a_changed_payload_does_not(self) -> None:
        for vector in vectors("tokens.json")["vectors"]:
            public = Ed25519PublicKey.from_public_bytes(b64url_decode(vector["public_jwk"]["x"]))
            head, payload, signature = vector["token"].split(".")
            public.verify(b64url_decode(signature), f"{head}.{payload}".encode())
            changed = next(r for r in vector["refuse"] if r["case"] == "payload changed")
            head, payload, signature = changed["token"].split(".")
            with self.assertRaises(InvalidSignature):
                public.verify(b64url_decode(signature), f"{head}.{payload}".encode())


class Origin(unittest.TestCase):
    def test_signatures_match_and_verify(self) -> None:
        for vector in vectors("origin.json")["vectors"]:
            with self.subTest(vector["note"]):
                i = dict(vector["identity"])
                method, path = i.pop("method"), i.pop("path")
                identity = EdgeIdentity(**i)
                self.assertEqual(canonical(vector["timestamp"], method, path, identity), vector["canonical"])
                self.assertEqual(sign(vector["secret"], method, path, identity, vector["timestamp"]), vector["header"])
                headers = {f"X-Keygate-{n.replace('_', '-').title()}": v for n, v in i.items()}
                headers["X-Keygate-Signature"] = vector["header"]
                got = keygate.verify_edge_request(
                    headers, vector["secret"], method=method, path=path, now=vector["timestamp"] + 299
                )
                self.assertEqual(got, identity)
                for what, change in [
                    ("path", dict(path=path + "x")),
                    ("method", dict(method="PUT")),
                    ("secret", dict(secret="another-secret")),
                ]:
                    args = {"secret": vector["secret"], "method": method, "path": path, **change}
                    with self.assertRaises(keygate.EdgeSignatureError, msg=what) as raised:
                        keygate.verify_edge_request(headers, args.pop("secret"), now=vector["timestamp"], **args)
                    self.assertEqual(raised.exception.code, "invalid")
                with self.assertRaises(keygate.EdgeSignatureError) as raised:
                    keygate.verify_edge_request(
                        headers, vector["secret"], method=method, path=path, now=vector["timestamp"] + 301
                    )
                self.assertEqual(raised.exception.code, "stale")


if __name__ == "__main__":
    unittest.main()
