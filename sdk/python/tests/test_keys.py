"""Key parsing refuses exactly what ``shared/src/key.rs`` refuses, with the
same reason, before any use."""

from __future__ import annotations

import random
import unittest

import keygate
from keygate.key import MAX_KEY_LEN

from _support import build_key

CLIENT = "cl_0123456789abcdefG"


def good() -> str:
    return build_key("secret", "live", CLIENT, bytes([1] * 12), bytes([0xA5] * 32))


class ParseKey(unittest.TestCase):
    def test_both_layouts_and_types(self) -> None:
        for key_type, tag, length, client in [
            ("secret", "sk", 96, CLIENT),
            ("publishable", "pk", 86, CLIENT),
            ("secret", "sk", 78, None),
            ("publishable", "pk", 68, None),
        ]:
            size = 32 if key_type == "secret" else 24
            text = build_key(key_type, "live", client, bytes([1] * 12), bytes([0xA5] * size))
            self.assertTrue(text.startswith(f"kg_{tag}_live_"))
            self.assertEqual(len(text), length)
            key = keygate.parse_key(text)
            self.assertEqual((key.key_type, key.env, key.client_id), (key_type, "live", client))

    def test_precise_reasons(self) -> None:
        g = good()
        cases = [
            (g.replace("kg_", "kx_", 1), "prefix"),
            (g.replace("_sk_", "_xk_", 1), "type"),
            (g.replace("_live_", "_Live_", 1), "environment"),
            (g.replace("_live_", "__", 1), "environment"),
            (g.replace("_live_", "_live_0", 1), "key_id"),
            (g.replace("_0123456789abcdefG_", "__", 1), "client"),
            (g.replace("_0123456789abcdefG_", "_0123-_", 1), "client"),
            (g.replace("_0123456789abcdefG_", "_a_b_", 1), "secret"),
            (g[:-1], "secret"),
            (g + "0", "secret"),
            ("a" * (MAX_KEY_LEN + 1), "too_long"),
            ("é" * 81, "too_long"),  # 162 bytes: the limit counts bytes, as Rust does
            ("kg_sk", "environment"),
            ("kg_", "type"),
            ("", "prefix"),
            ("kg_sk_live_" + "0" * 17, "secret"),
            ("kg_sk_live_é", "key_id"),
        ]
        for text, reason in cases:
            with self.subTest(text=text):
                with self.assertRaises(keygate.InvalidKeyError) as raised:
                    keygate.parse_key(text)
                self.assertEqual(raised.exception.reason, reason)
                self.assertEqual(raised.exception.code, "malformed_credential")
                self.assertNotIn(g, str(raised.exception))
        typo = list(g)
        typo[-10] = "b" if typo[-10] == "a" else "a"
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.parse_key("".join(typo))
        self.assertEqual(raised.exception.reason, "checksum")

    def test_secret_sizes_per_type(self) -> None:
        for key_type, sizes in (("secret", (32, 48, 64)), ("publishable", (24, 32, 48))):
            for size in sizes:
                text = build_key(key_type, "z" * 16, "cl_" + "a" * 24, bytes([2] * 12), bytes([0xEE] * size))
                self.assertLessEqual(len(text), MAX_KEY_LEN)
                self.assertEqual(keygate.parse_key(text).key_type, key_type)
        # A publishable-sized secret under the secret tag.
        publishable = build_key("publishable", "live", CLIENT, bytes([2] * 12), bytes([1] * 24))
        retagged = publishable.replace("kg_pk_", "kg_sk_", 1)
        with self.assertRaises(keygate.InvalidKeyError) as raised:
            keygate.parse_key(retagged)
        self.assertEqual(raised.exception.reason, "secret")

    def test_every_single_character_change_is_refused(self) -> None:
        g = good()
        rng = random.Random(7)
        alphabet = [chr(c) for c in range(32, 127)] + ["é", "\x00"]
        for position in range(len(g)):
            for replacement in rng.sample(alphabet, 8):
                if replacement == g[position]:
                    continue
                mutated = g[:position] + replacement + g[position + 1 :]
                with self.assertRaises(keygate.InvalidKeyError, msg=mutated):
                    keygate.parse_key(mutated)

    def test_round_trip_random_keys(self) -> None:
        rng = random.Random(11)
        for _ in range(200):
            kid = bytes(rng.getrandbits(8) for _ in range(12))
            secret = bytes(rng.getrandbits(8) for _ in range(32))
            env = rng.choice("abcxyz") + "".join(rng.choice("ab09") for _ in range(rng.randint(0, 15)))
            client = rng.choice([None, "cl_" + "".join(rng.choice("aZ09") for _ in range(rng.randint(1, 24)))])
            key = keygate.parse_key(build_key("secret", env, client, kid, secret))
            self.assertEqual((key.env, key.client_id, key.secret_bytes()), (env, client, secret))


if __name__ == "__main__":
    unittest.main()
