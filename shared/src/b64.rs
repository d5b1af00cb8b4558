//! Strict base64: standard alphabet with padding (HTTP Basic, RFC 7617) and
//! URL-safe without padding (JOSE, RFC 7515 §2).
//!
//! "Strict" means one text per byte string: wrong padding, characters of the
//! other alphabet, whitespace and non-zero trailing bits are all refused, so a
//! credential cannot be smuggled in several spellings.

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// Not a digit of the alphabet.
const INVALID: u8 = 0xFF;

/// Each byte's value in `alphabet`, or [`INVALID`]: one lookup per
/// character (a search of the alphabet was the edge's costliest step for a
/// token seen for the first time).
const fn values(alphabet: &[u8; 64]) -> [u8; 256] {
    let mut values = [INVALID; 256];
    let mut i = 0;
    while i < 64 {
        values[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    values
}

const STANDARD_VALUES: [u8; 256] = values(STANDARD);
const URL_SAFE_VALUES: [u8; 256] = values(URL_SAFE);

/// Encodes with the URL-safe alphabet and no padding.
pub fn encode_url(bytes: &[u8]) -> String {
    encode(bytes, URL_SAFE, false)
}

/// Encodes with the standard alphabet and padding.
pub fn encode_standard(bytes: &[u8]) -> String {
    encode(bytes, STANDARD, true)
}

/// Decodes URL-safe base64 without padding; `None` unless canonical.
pub fn decode_url(text: &str) -> Option<Vec<u8>> {
    decode(text.as_bytes(), &URL_SAFE_VALUES)
}

/// Decodes standard base64 with mandatory padding; `None` unless canonical.
pub fn decode_standard(text: &str) -> Option<Vec<u8>> {
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(4) {
        return None;
    }
    let pad = bytes.iter().rev().take_while(|&&c| c == b'=').count();
    if pad > 2 {
        return None;
    }
    decode(&bytes[..bytes.len() - pad], &STANDARD_VALUES).filter(|_| {
        // Padding must be exactly what the unpadded length implies.
        (bytes.len() - pad) % 4 == (4 - pad) % 4
    })
}

fn encode(bytes: &[u8], alphabet: &[u8; 64], pad: bool) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..4 {
            if i < chars {
                out.push(char::from(alphabet[((n >> (18 - 6 * i)) & 63) as usize]));
            } else if pad {
                out.push('=');
            }
        }
    }
    out
}

fn decode(text: &[u8], values: &[u8; 256]) -> Option<Vec<u8>> {
    if text.len() % 4 == 1 {
        return None;
    }
    let value = |c: u8| match values[usize::from(c)] {
        INVALID => None,
        v => Some(u32::from(v)),
    };
    let mut out = Vec::with_capacity(text.len() * 3 / 4);
    for chunk in text.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= value(c)? << (18 - 6 * i);
        }
        let produced = chunk.len() - 1;
        // Bits below the last whole byte must be zero (canonical encoding).
        let used_bits = 8 * produced;
        if n & ((1 << (24 - used_bits)) - 1) != 0 {
            return None;
        }
        out.extend_from_slice(&n.to_be_bytes()[1..=produced]);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn rfc4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(encode_standard(plain.as_bytes()), encoded);
            assert_eq!(decode_standard(encoded).as_deref(), Some(plain.as_bytes()));
            assert_eq!(encode_url(plain.as_bytes()), encoded.trim_end_matches('='));
        }
    }

    #[test]
    fn refuses_non_canonical_forms() {
        assert_eq!(decode_standard("Zg="), None, "short padding");
        assert_eq!(decode_standard("Zg"), None, "missing padding");
        assert_eq!(decode_standard("Zh=="), None, "non-zero trailing bits");
        assert_eq!(decode_standard("Zm8=Zm8="), None, "padding in the middle");
        assert_eq!(decode_standard("Zm9v\n"), None, "whitespace");
        assert_eq!(decode_url("Zg=="), None, "padding in base64url");
        assert_eq!(decode_url("Zh"), None, "non-zero trailing bits");
        assert_eq!(decode_url("-_8+"), None, "standard alphabet in base64url");
        assert_eq!(decode_url("Z"), None, "impossible length");
    }

    proptest! {
        #[test]
        fn round_trips(bytes in proptest::collection::vec(any::<u8>(), 0..80)) {
            prop_assert_eq!(decode_url(&encode_url(&bytes)), Some(bytes.clone()));
            prop_assert_eq!(decode_standard(&encode_standard(&bytes)), Some(bytes));
        }
    }
}
