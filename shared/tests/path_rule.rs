//! Properties of the one path-prefix rule (`shared::path`), against a model
//! of the most aggressive origin we know of: it decodes repeatedly, reads `\`
//! and the fullwidth and overlong forms as `/` and `.`, drops `;` parameters,
//! cuts at NUL, `?` and `#`, trims trailing dots and spaces (Windows),
//! collapses empty segments and removes dot segments. Whatever path the rule
//! lets match a prefix, that origin serves something under the prefix.

use proptest::prelude::*;
use shared::path::{is_plain, prefix_matches};

/// Decodes `%XX` once (a bad escape stays as it is).
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| bytes.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .filter(|hex| hex.bytes().all(|b| b.is_ascii_hexdigit()))
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                out.push(byte);
                i += 3;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    out
}

/// Maps look-alikes onto the ASCII they might become (a superset of NFKC
/// and best-fit mappings for `.`, `/`, `\`, `;`).
fn fold(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    // Overlong forms are not UTF-8: handle them on bytes first.
    let mut i = 0;
    let raw = bytes;
    let mut via_bytes = Vec::new();
    while i < raw.len() {
        match raw.get(i..i + 2) {
            Some([0xC0, 0xAE]) => via_bytes.push(b'.'),
            Some([0xC0, 0xAF]) => via_bytes.push(b'/'),
            Some([0xC1, 0x9C]) => via_bytes.push(b'\\'),
            _ => {
                via_bytes.push(raw[i]);
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    for c in String::from_utf8_lossy(&via_bytes).chars() {
        let mapped = match c {
            '\u{FF0E}' | '\u{FE52}' | '\u{2024}' => '.',
            '\u{FF0F}' | '\u{2215}' | '\u{2044}' => '/',
            '\u{FF3C}' | '\u{FE68}' | '\u{2216}' => '\\',
            '\u{FF1B}' | '\u{FE54}' | '\u{037E}' => ';',
            '\u{FF05}' | '\u{FE6A}' => '%',
            other => other,
        };
        let mut buf = [0; 4];
        out.extend_from_slice(mapped.encode_utf8(&mut buf).as_bytes());
    }
    out
}

/// The segments the aggressive origin serves for `path`.
fn origin_view(path: &str) -> Vec<Vec<u8>> {
    let mut bytes = path.as_bytes().to_vec();
    for _ in 0..4 {
        bytes = fold(&percent_decode(&bytes));
    }
    if let Some(cut) = bytes.iter().position(|b| matches!(b, 0 | b'?' | b'#')) {
        bytes.truncate(cut);
    }
    let mut out: Vec<Vec<u8>> = Vec::new();
    for segment in bytes.split(|b| matches!(b, b'/' | b'\\')) {
        let name = segment.split(|b| *b == b';').next().unwrap_or_default();
        let mut name = name.to_vec();
        let dots_only = !name.is_empty() && name.iter().all(|b| matches!(b, b'.' | b' '));
        if dots_only {
            if name.iter().filter(|b| **b == b'.').count() >= 2 {
                out.pop();
            }
            continue;
        }
        while name.last().is_some_and(|b| matches!(b, b'.' | b' ')) {
            name.pop();
        }
        if !name.is_empty() {
            out.push(name);
        }
    }
    out
}

fn is_under(prefix: &str, path: &str) -> bool {
    let want: Vec<&[u8]> = prefix
        .split('/')
        .filter(|s| !s.is_empty())
        .map(str::as_bytes)
        .collect();
    let got = origin_view(path);
    got.len() >= want.len() && got.iter().zip(&want).all(|(g, w)| g.as_slice() == *w)
}

/// Path pieces an attacker combines.
fn piece() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "/",
        "/",
        "/",
        ".",
        "..",
        "a",
        "admin",
        "health",
        "v1",
        ";",
        ";x=1",
        "%2e",
        "%2E",
        "%2f",
        "%2F",
        "%5c",
        "%5C",
        "%25",
        "%252e",
        "%252f",
        "%20",
        "+",
        "\\",
        "%00",
        "%3b",
        "%3f",
        "%23",
        "%C0%AE",
        "%C0%AF",
        "%EF%BC%8E",
        "%EF%BC%8F",
        "\u{FF0E}",
        "%u002e",
        "%",
        "%2",
        "~",
        "-",
        "%41",
        "%7e",
        ":",
        "@",
        "!",
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    /// Whatever matches `/health` (or `/v1/health/`) is under it at the origin.
    #[test]
    fn a_match_stays_under_the_prefix(pieces in prop::collection::vec(piece(), 0..12)) {
        for prefix in ["/health", "/v1/health/"] {
            let path = format!("{prefix}{}", pieces.concat());
            if prefix_matches(prefix, &path) {
                prop_assert!(is_under(prefix, &path), "{path} escapes {prefix}: {:?}", origin_view(&path));
            }
            let path = format!("/{}", pieces.concat());
            if prefix_matches(prefix, &path) {
                prop_assert!(is_under(prefix, &path), "{path} escapes {prefix}");
            }
        }
    }

    /// Ordinary paths under a prefix match it: the rule refuses tricks, not APIs.
    #[test]
    fn ordinary_paths_match(
        segments in prop::collection::vec("[A-Za-z0-9_~-][A-Za-z0-9._~!$&'()*+,=:@-]{0,12}", 0..6),
        trailing in any::<bool>(),
    ) {
        let mut path = format!("/v1/reports/{}", segments.join("/"));
        if trailing && !path.ends_with('/') {
            path.push('/');
        }
        prop_assert!(is_plain(&path), "{path}");
        prop_assert!(prefix_matches("/v1/reports", &path), "{path}");
        prop_assert!(!prefix_matches("/v1/report", &path), "{path}");
    }
}
