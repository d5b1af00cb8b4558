//! Fixed-width base62 (`0-9A-Za-z`): the alphabet that keeps keys free of
//! punctuation, so they survive headers, URLs, shells and double-clicks.
//!
//! Fixed width (leading zeros kept) makes every field of a key a known length,
//! and decoding is canonical: a string whose value does not fit in the byte
//! width is refused rather than silently truncated.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The number of base62 digits needed for `bytes` bytes: ceil(8·bytes / log2 62).
pub const fn encoded_len(bytes: usize) -> usize {
    // log2(62) = 5.954196310386876; scaled integer maths keeps this `const`,
    // in u64 because usize is 32 bits on wasm32.
    ((bytes as u64) * 8 * 1_000_000_000).div_ceil(5_954_196_310) as usize
}

/// Encodes `bytes` (big-endian) as exactly `encoded_len(bytes.len())` digits.
pub fn encode(bytes: &[u8]) -> String {
    let width = encoded_len(bytes.len());
    let mut number = bytes.to_vec();
    let mut digits = vec![b'0'; width];
    // Schoolbook division by 62, least significant digit first. Inputs are at
    // most 32 bytes, so the quadratic cost is a few hundred operations.
    for slot in digits.iter_mut().rev() {
        let mut remainder = 0u32;
        for byte in number.iter_mut() {
            let acc = (remainder << 8) | u32::from(*byte);
            *byte = (acc / 62) as u8;
            remainder = acc % 62;
        }
        *slot = ALPHABET[remainder as usize];
    }
    // Every byte is an ASCII alphanumeric.
    digits.into_iter().map(char::from).collect()
}

/// Decodes exactly `encoded_len(N)` digits into `N` bytes; `None` for a wrong
/// length, a character outside the alphabet or a value that overflows `N` bytes.
pub fn decode<const N: usize>(text: &str) -> Option<[u8; N]> {
    let mut out = [0u8; N];
    decode_digits(text, &mut out).map(|()| out)
}

/// Like [`decode`], for a byte length known only at run time.
pub fn decode_vec(text: &str, bytes: usize) -> Option<Vec<u8>> {
    let mut out = vec![0u8; bytes];
    decode_digits(text, &mut out).map(|()| out)
}

fn decode_digits(text: &str, out: &mut [u8]) -> Option<()> {
    if text.len() != encoded_len(out.len()) {
        return None;
    }
    for c in text.bytes() {
        let mut carry = u32::from(digit_value(c)?);
        for byte in out.iter_mut().rev() {
            let acc = u32::from(*byte) * 62 + carry;
            *byte = acc as u8;
            carry = acc >> 8;
        }
        if carry != 0 {
            return None;
        }
    }
    Some(())
}

/// Whether `c` is a base62 digit.
pub fn is_digit(c: u8) -> bool {
    c.is_ascii_alphanumeric()
}

fn digit_value(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'A'..=b'Z' => Some(c - b'A' + 10),
        b'a'..=b'z' => Some(c - b'a' + 36),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn widths_match_the_key_format() {
        assert_eq!(encoded_len(4), 6);
        assert_eq!(encoded_len(12), 17);
        assert_eq!(encoded_len(24), 33);
        assert_eq!(encoded_len(32), 43);
    }

    #[test]
    fn known_values() {
        assert_eq!(encode(&[0, 0, 0, 0]), "000000");
        assert_eq!(encode(&[0, 0, 0, 61]), "00000z");
        assert_eq!(encode(&[0, 0, 0, 62]), "000010");
        assert_eq!(encode(&[0xff; 4]), "4gfFC3");
        assert_eq!(decode::<4>("4gfFC3"), Some([0xff; 4]));
    }

    #[test]
    fn refuses_overflow_wrong_length_and_foreign_characters() {
        // 4gfFC4 = 2^32, one past the largest 4-byte value.
        assert_eq!(decode::<4>("4gfFC4"), None);
        assert_eq!(decode::<4>("zzzzzz"), None);
        assert_eq!(decode::<4>("00000"), None);
        assert_eq!(decode::<4>("0000000"), None);
        assert_eq!(decode::<4>("00000_"), None);
        assert_eq!(decode::<4>("00000é"), None);
    }

    proptest! {
        #[test]
        fn round_trips_32_bytes(bytes in proptest::array::uniform32(any::<u8>())) {
            let text = encode(&bytes);
            prop_assert_eq!(text.len(), 43);
            prop_assert_eq!(decode::<32>(&text), Some(bytes));
        }

        #[test]
        fn round_trips_12_bytes(bytes in proptest::array::uniform12(any::<u8>())) {
            prop_assert_eq!(decode::<12>(&encode(&bytes)), Some(bytes));
        }
    }
}
