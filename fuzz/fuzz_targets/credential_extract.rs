//! `credential::extract` on any header and query value: never panic, and
//! never let two different credentials through.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shared::credential::{extract, Source, MAX_HEADER_LEN};

fuzz_target!(|data: &[u8]| {
    // Byte 0's low bits say which of the two is present (ASCII '0'..'3' keeps
    // seeds readable); the rest is `authorization` '\n' `apikey`.
    let Some((&flags, rest)) = data.split_first() else {
        return;
    };
    let rest = String::from_utf8_lossy(rest);
    let (header, query) = rest.split_once('\n').unwrap_or((&*rest, ""));
    let authorization = (flags & 1 != 0).then_some(header);
    let apikey = (flags & 2 != 0).then_some(query);

    let Ok(Some(presented)) = extract(authorization.as_slice(), apikey) else {
        return;
    };
    assert!(presented.text.len() <= MAX_HEADER_LEN);
    match presented.source {
        Source::Query => {
            assert_eq!(authorization, None);
            assert_eq!(Some(presented.text.as_str()), apikey);
        }
        Source::Bearer | Source::Basic => {
            assert!(authorization.is_some());
            assert!(!presented.text.is_empty());
            // Both present and accepted: they must have been the same credential.
            if let Some(query) = apikey {
                assert_eq!(presented.text, query);
            }
        }
    }
});
