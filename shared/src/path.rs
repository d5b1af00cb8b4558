//! The one path-prefix rule, for key scopes and the edge's public paths alike.
//!
//! A prefix matches whole segments: `/v1/reports` matches `/v1/reports`,
//! `/v1/reports/` and `/v1/reports/7`, never `/v1/reportsX`. The comparison is
//! byte for byte on the path as the client sent it (still percent-encoded),
//! so it is case-sensitive: `/V1/Reports` does not match `/v1/reports`, and
//! neither does `/v1/%72eports` (refusing is the safe side for both uses: a
//! scope allows less, a public path needs a key).
//!
//! Matching the text is not enough: the origin does not serve the text, it
//! serves what its own decoding and normalisation make of it, and every
//! origin does that differently (Tomcat drops `;` parameters before removing
//! dot segments, IIS decodes twice and trims trailing dots and spaces, some
//! servers decode `%2F` into a separator, some map fullwidth or overlong
//! UTF-8 forms onto `.` and `/`). So a path matches a prefix narrower than `/`
//! only if it is *plain*: nothing in it can turn into a separator, a dot
//! segment or another escape, whatever the origin does. A plain path:
//! - starts with `/` and contains only printable ASCII (no raw `\`, space,
//!   control or non-ASCII byte, no `?` or `#`);
//! - has well-formed escapes (`%` and two hex digits) of printable ASCII only,
//!   never of `/`, `\`, `.`, `%` (double encoding), `;`, `?`, `#`, a control
//!   byte, or a byte of 0x80 and above (overlong and fullwidth forms of `.`
//!   and `/` are non-ASCII, so non-ASCII paths only match `/`);
//! - has no segment, except a trailing empty one (`/a/` is fine), whose name
//!   (the part before a `;` parameter) is empty or made only of dots and
//!   spaces: `/a//b`, `/;x/`, `.`, `..`, `...`, `..;x`, `.;`, `..%20`,
//!   `%20` (Windows trims trailing dots and spaces).
//!
//! Everything else matches only the prefix `/`. The check is one pass over
//! the bytes and allocates nothing: it runs on every request at the edge.

/// Whether `prefix` can be used as a path prefix (a scope's or a public
/// path's): a plain path (see the module docs) of at most 512 bytes, with no
/// `;` parameter.
pub fn is_valid_prefix(prefix: &str) -> bool {
    prefix.len() <= 512 && !prefix.contains(';') && is_plain(prefix)
}

/// Whether `path` (as received, percent-encoded, without the query) is under
/// `prefix` by the rule of the module docs. An invalid prefix matches nothing.
pub fn prefix_matches(prefix: &str, path: &str) -> bool {
    if prefix == "/" {
        return true;
    }
    if !is_valid_prefix(prefix) || !is_plain(path) {
        return false;
    }
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || prefix.ends_with('/') || rest.starts_with('/'),
        None => false,
    }
}

/// Whether no origin could read `path` as another path (the module docs).
pub fn is_plain(path: &str) -> bool {
    let bytes = path.as_bytes();
    if bytes.first() != Some(&b'/') {
        return false;
    }
    let mut segment = Segment::default();
    let mut i = 1;
    while i < bytes.len() {
        let (byte, encoded) = match bytes[i] {
            b'%' => match (hex(bytes.get(i + 1)), hex(bytes.get(i + 2))) {
                (Some(high), Some(low)) => {
                    i += 3;
                    (high << 4 | low, true)
                }
                _ => return false,
            },
            byte => {
                i += 1;
                (byte, false)
            }
        };
        if !(0x20..0x7f).contains(&byte) || matches!(byte, b'\\' | b'?' | b'#') {
            return false;
        }
        if encoded {
            if matches!(byte, b'/' | b'.' | b'%' | b';') {
                return false;
            }
        } else if byte == b' ' {
            return false;
        }
        match byte {
            b'/' => {
                // An empty segment, or one that normalises away, before this `/`.
                if segment.is_empty_or_dots() {
                    return false;
                }
                segment = Segment::default();
            }
            b';' => segment.in_params = true,
            _ => segment.push(byte),
        }
    }
    // The last segment may be empty (`/a/`), never dots.
    segment.len == 0 || !segment.is_empty_or_dots()
}

/// What the matcher needs to know about the segment being read.
#[derive(Default)]
struct Segment {
    /// Bytes seen, name and parameters.
    len: usize,
    /// After the first `;`: the rest is a path parameter, not the name.
    in_params: bool,
    /// The name so far holds a byte other than `.` and space.
    name_has_other: bool,
}

impl Segment {
    fn push(&mut self, byte: u8) {
        self.len += 1;
        if !self.in_params && !matches!(byte, b'.' | b' ') {
            self.name_has_other = true;
        }
    }

    /// Empty (`//`, only a parameter `/;x/`, only spaces `/%20/`: Windows
    /// trims them away) or a dot segment in disguise (`..`, `..;x`, `..%20`).
    fn is_empty_or_dots(&self) -> bool {
        !self.name_has_other
    }
}

fn hex(byte: Option<&u8>) -> Option<u8> {
    match byte? {
        b @ b'0'..=b'9' => Some(b - b'0'),
        b @ b'a'..=b'f' => Some(b - b'a' + 10),
        b @ b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_segments_case_sensitive() {
        assert!(prefix_matches("/v1/reports", "/v1/reports"));
        assert!(prefix_matches("/v1/reports", "/v1/reports/"));
        assert!(prefix_matches("/v1/reports", "/v1/reports/2024/q1"));
        assert!(prefix_matches("/v1/reports/", "/v1/reports/2024"));
        assert!(prefix_matches(
            "/v1/reports",
            "/v1/reports/a;jsessionid=1/b"
        ));
        assert!(prefix_matches("/v1/reports", "/v1/reports/a%20b.csv"));
        assert!(prefix_matches("/v1/reports", "/v1/reports/.well-known"));
        assert!(prefix_matches("/v1/reports", "/v1/reports/x..y"));
        for path in [
            "/v1/reportsX",
            "/v1/report",
            "/v1",
            "/",
            "/V1/reports",
            "/v1/Reports/1",
            "/v1/%72eports",
            "v1/reports",
            "",
        ] {
            assert!(!prefix_matches("/v1/reports", path), "{path}");
        }
        assert!(!prefix_matches("/v1/reports/", "/v1/reports"));
        assert!(prefix_matches("/", "/anything/..%2F/at/all"));
    }

    /// What an attacker tries, against a scope or public prefix.
    const HOSTILE: &[&str] = &[
        // Encoded separators and dots, any case, double-encoded.
        "/health/..%2Fadmin",
        "/health/..%2fadmin",
        "/health/%2e%2e/admin",
        "/health/%2E%2E/admin",
        "/health/.%2e/admin",
        "/health/%2e./admin",
        "/health/..%5Cadmin",
        "/health/..%5cadmin",
        "/health/%252e%252e/admin",
        "/health/..%252Fadmin",
        "/health/..%255Cadmin",
        "/health/%25252e%25252e/admin",
        // Raw backslash, dot segments, empty segments.
        "/health\\..\\admin",
        "/health/..\\admin",
        "/health/../admin",
        "/health/./../admin",
        "/health/.",
        "/health/..",
        "/health//../admin",
        "/health//admin",
        "/health///",
        // `;` parameters on dot segments (Tomcat: /health/..;/admin is /admin).
        "/health/..;/admin",
        "/health/..;x=1/admin",
        "/health/.;x/../admin",
        "/health/.;/admin",
        "/health/..;",
        "/health/;x/admin",
        "/health/..%3B/admin",
        "/health/..%3b/admin",
        // Trailing dots and spaces (Windows trims them), more dots.
        "/health/.../admin",
        "/health/....",
        "/health/..%20/admin",
        "/health/.%20./admin",
        "/health/%20../admin",
        "/health/.. /admin",
        // NUL and control bytes, truncation tricks.
        "/health/%00/../admin",
        "/health%00/../admin",
        "/health/x%00",
        "/health/x%0a",
        "/health/x%0D%0A",
        "/health/x%7F",
        "/health/x%3F/../admin",
        "/health/x%23",
        "/health/x?y",
        "/health/x#y",
        // Overlong UTF-8 and fullwidth forms of `.`, `/` and `\`.
        "/health/%C0%AE%C0%AE/admin",
        "/health/%c0%ae%c0%ae%c0%afadmin",
        "/health/%C1%9Cadmin",
        "/health/%E0%80%AE%E0%80%AE/admin",
        "/health/%EF%BC%8E%EF%BC%8E%EF%BC%8Fadmin",
        "/health/%EF%BC%BCadmin",
        "/health/\u{FF0E}\u{FF0E}/admin",
        "/health/\u{FF0F}admin",
        "/health/%E2%80%A5/admin",
        // Malformed escapes.
        "/health/%",
        "/health/%2",
        "/health/%zz",
        "/health/%%32%46",
        "/health/%u002e%u002e/admin",
    ];

    #[test]
    fn hostile_paths_never_match_a_narrower_prefix() {
        for path in HOSTILE {
            assert!(!prefix_matches("/health", path), "{path}");
            assert!(!prefix_matches("/health/", path), "{path}");
            assert!(!is_plain(path), "{path}");
            // `/` is every path: the widest prefix is not narrowed.
            assert!(prefix_matches("/", path), "{path}");
        }
    }

    #[test]
    fn prefixes_are_plain_paths() {
        for ok in [
            "/",
            "/health",
            "/v1/reports/",
            "/a-b_c~d!$&'()*+,=:@",
            "/a%20b",
        ] {
            assert!(is_valid_prefix(ok), "{ok}");
        }
        let long = format!("/{}", "a".repeat(512));
        for bad in [
            "",
            "health",
            "/a b",
            "/a?b",
            "/a#b",
            "/a;b",
            "/a/../b",
            "/a//b",
            "/a/.",
            "/a%2Fb",
            "/caf\u{e9}",
            long.as_str(),
        ] {
            assert!(!is_valid_prefix(bad), "{bad}");
            assert!(
                !prefix_matches(bad, bad),
                "an invalid prefix matches nothing: {bad}"
            );
        }
    }
}
