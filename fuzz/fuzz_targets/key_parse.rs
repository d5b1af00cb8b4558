//! Any text into `AccessKey::parse`: never panic, and whatever is accepted
//! must survive a round trip and hash to a storable form.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::key::{is_valid_environment, is_valid_key_id, AccessKey, KeyHash};

fuzz_target!(|data: &[u8]| {
    // Lossy, because headers reach the edge as bytes and are decoded so.
    let text = String::from_utf8_lossy(data);
    let Ok(key) = AccessKey::parse(&text) else {
        return;
    };
    // The key is kept verbatim: no normalisation that a second parse could undo.
    assert_eq!(key.expose(), text);
    let again = AccessKey::parse(key.expose()).expect("an accepted key re-parses");
    assert_eq!(again, key);
    // The accessors slice the text by offsets; they must land on real fields.
    assert!(is_valid_key_id(key.key_id()), "{key:?}");
    assert!(is_valid_environment(key.environment()), "{key:?}");
    // The hash is the KV name: exactly 64 lowercase hex digits, and stable.
    let hash = key.hash();
    assert_eq!(hash.as_str().len(), 64);
    assert!(KeyHash::from_hex(hash.as_str()).is_some(), "{hash}");
    assert_eq!(again.hash(), hash);
});
