//! CRC-32 (IEEE 802.3, the checksum of zip and PNG, as `crc32fast` computes
//! it), over the few dozen bytes of a key.
//!
//! Written out because the table-driven crates carry a 16 KB slice-by-16
//! table into the edge's WASM, which is shipped and parsed at every cold
//! start; one 1 KB byte-at-a-time table, built at compile time, checks a key
//! in well under a microsecond. A test pins it to `crc32fast`.

const POLYNOMIAL: u32 = 0xEDB8_8320;

const TABLE: [u32; 256] = {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u32;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ POLYNOMIAL
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
};

/// The CRC-32 of `bytes`.
pub fn hash(bytes: &[u8]) -> u32 {
    !bytes.iter().fold(!0u32, |crc, &byte| {
        TABLE[((crc ^ u32::from(byte)) & 0xFF) as usize] ^ (crc >> 8)
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    #[test]
    fn the_check_value() {
        assert_eq!(super::hash(b"123456789"), 0xCBF4_3926);
        assert_eq!(super::hash(b""), 0);
    }

    proptest! {
        #[test]
        fn agrees_with_crc32fast(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            prop_assert_eq!(super::hash(&bytes), crc32fast::hash(&bytes));
        }
    }
}
