//! The parts of the request URL the edge needs, split from the absolute URL
//! the runtime hands over (already normalised by workerd's URL parser).
//!
//! Why not the `url` crate: it drags IDNA tables (~100 KB of data) into the
//! bundle for a URL that is already parsed and normalised by the runtime.

use std::borrow::Cow;

/// An absolute `http(s)` URL, split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestUrl<'a> {
    /// `http` or `https`.
    pub scheme: &'a str,
    /// `scheme://host[:port]`: the audience default for JWTs.
    pub origin: &'a str,
    /// The path, still percent-encoded, starting with `/`.
    pub path: &'a str,
    /// The raw query without `?`, if any.
    pub query: Option<&'a str>,
}

impl<'a> RequestUrl<'a> {
    /// Splits `url`; `None` if it is not an absolute http(s) URL.
    pub fn parse(url: &'a str) -> Option<Self> {
        let url = url.split('#').next().unwrap_or(url);
        let (scheme, rest) = url.split_once("://")?;
        if scheme != "http" && scheme != "https" {
            return None;
        }
        let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
        let origin = &url[..scheme.len() + 3 + authority_end];
        let after = &rest[authority_end..];
        let (path, query) = match after.split_once('?') {
            Some((path, query)) => (path, Some(query)),
            None => (after, None),
        };
        Some(Self {
            scheme,
            origin,
            path: if path.is_empty() { "/" } else { path },
            query,
        })
    }

    /// The `apikey` credential of the query: every parameter that names it
    /// ([`is_apikey_name`]) must carry the same value (form-decoded; a value
    /// that does not decode is taken as sent and fails the key format), else
    /// the request is ambiguous and refused, like two different credentials.
    pub fn query_credential(&self) -> Result<Option<String>, shared::Error> {
        let mut found: Option<String> = None;
        for (name, value) in pairs(self.query) {
            if !is_apikey_name(name) {
                continue;
            }
            let value = form_decode(value).unwrap_or_else(|| value.to_owned());
            match &found {
                Some(first) if *first != value => {
                    return Err(shared::Error::ConflictingCredentials)
                }
                Some(_) => {}
                None => found = Some(value),
            }
        }
        Ok(found)
    }

    /// The query to forward: the raw query without any pair that names
    /// `apikey`, however spelt; the other pairs stay byte for byte, in order.
    /// Borrowed (no allocation) when there is nothing to remove; `None` when
    /// nothing is left.
    pub fn forwarded_query(&self) -> Option<Cow<'a, str>> {
        let query = self.query?;
        if !query
            .split('&')
            .any(|pair| is_apikey_name(split_pair(pair).0))
        {
            return Some(Cow::Borrowed(query));
        }
        let mut kept = String::with_capacity(query.len());
        for pair in query
            .split('&')
            .filter(|pair| !is_apikey_name(split_pair(pair).0))
        {
            if !kept.is_empty() {
                kept.push('&');
            }
            kept.push_str(pair);
        }
        (!kept.is_empty()).then_some(Cow::Owned(kept))
    }
}

/// `name=value` pairs of a raw query (a pair without `=` has an empty value).
fn pairs(query: Option<&str>) -> impl Iterator<Item = (&str, &str)> {
    query.into_iter().flat_map(|q| q.split('&')).map(split_pair)
}

fn split_pair(pair: &str) -> (&str, &str) {
    pair.split_once('=').unwrap_or((pair, ""))
}

/// Whether a raw (still form-encoded) query parameter name is the `apikey`
/// parameter, the way an origin's query parser might read it: form-decoded
/// (`api%6Bey`, `api%6bey`), any case (`APIKEY`, `ApiKey`: ASP.NET and
/// others look names up case-insensitively), surrounding spaces ignored
/// (`+apikey+`, `apikey%20`), cut at a NUL (`apikey%00x`), or as an array
/// (`apikey[]`, `apikey[0]`: PHP). The edge takes the credential from exactly
/// these names (with `ALLOW_QUERY_PARAM`) and forwards none of them.
/// Allocates nothing: it runs for every query parameter of every request.
pub fn is_apikey_name(raw: &str) -> bool {
    const NAME: &[u8] = b"apikey";
    let mut decoded = FormBytes(raw.as_bytes()).skip_while(u8::is_ascii_whitespace);
    for want in NAME {
        match decoded.next() {
            Some(got) if got.eq_ignore_ascii_case(want) => {}
            _ => return false,
        }
    }
    match decoded.find(|b| !b.is_ascii_whitespace()) {
        None | Some(0 | b'[') => true,
        Some(_) => false,
    }
}

/// Form-decoded bytes of raw text: `+` is a space, `%XX` its byte, and a `%`
/// that starts no escape stays a `%` (as lenient parsers keep it).
struct FormBytes<'a>(&'a [u8]);

impl Iterator for FormBytes<'_> {
    type Item = u8;

    fn next(&mut self) -> Option<u8> {
        let (&first, rest) = self.0.split_first()?;
        self.0 = rest;
        match first {
            b'+' => Some(b' '),
            b'%' => {
                let escaped = match rest {
                    [high, low, ..] => hex(*high).zip(hex(*low)).map(|(h, l)| h << 4 | l),
                    _ => None,
                };
                if escaped.is_some() {
                    self.0 = &rest[2..];
                }
                Some(escaped.unwrap_or(b'%'))
            }
            other => Some(other),
        }
    }
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a
/// byte; `None` for a bad escape or bytes that are not UTF-8.
fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let high = hex(*bytes.get(i + 1)?)?;
                let low = hex(*bytes.get(i + 2)?)?;
                out.push(high << 4 | low);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

fn hex(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_absolute_urls() {
        let url = RequestUrl::parse("https://api.example.com:8443/v1/a%2Fb?x=1&y=2#frag").unwrap();
        assert_eq!(url.scheme, "https");
        assert_eq!(url.origin, "https://api.example.com:8443");
        assert_eq!(url.path, "/v1/a%2Fb");
        assert_eq!(url.query, Some("x=1&y=2"));
        let bare = RequestUrl::parse("http://127.0.0.1:8787").unwrap();
        assert_eq!(
            (bare.path, bare.query, bare.origin),
            ("/", None, "http://127.0.0.1:8787")
        );
        let query_only = RequestUrl::parse("http://h?apikey=k").unwrap();
        assert_eq!((query_only.path, query_only.query), ("/", Some("apikey=k")));
        assert_eq!(RequestUrl::parse("ftp://h/x"), None);
        assert_eq!(RequestUrl::parse("/relative"), None);
    }

    fn url(query: &str) -> RequestUrl<'_> {
        RequestUrl::parse(query).unwrap()
    }

    #[test]
    fn query_values_and_removal() {
        let u = url("http://h/p?a=1&api%6Bey=k%5F1&apikey=second&b=%20+x");
        // Two different values under the names of the credential: ambiguous.
        assert_eq!(
            u.query_credential(),
            Err(shared::Error::ConflictingCredentials)
        );
        let same = url("http://h/p?a=1&api%6Bey=k%5F1&APIKEY=k_1");
        assert_eq!(same.query_credential().unwrap().as_deref(), Some("k_1"));
        assert_eq!(form_decode("%20+x").as_deref(), Some("  x"));
        assert_eq!(url("http://h/p?x=1").query_credential(), Ok(None));
        assert_eq!(url("http://h/p").query_credential(), Ok(None));
        // Every spelling of the name goes, the rest stays as sent.
        assert_eq!(u.forwarded_query().as_deref(), Some("a=1&b=%20+x"));
        let only = url("http://h/p?apikey=x");
        assert_eq!(only.forwarded_query(), None);
        assert_eq!(form_decode("%zz"), None);
        assert_eq!(form_decode("%+1"), None);
        // A value that does not decode is kept as sent (and fails the key format).
        assert_eq!(
            url("http://h/p?apikey=%zz")
                .query_credential()
                .unwrap()
                .as_deref(),
            Some("%zz")
        );
    }

    #[test]
    fn every_spelling_of_apikey_is_the_credential_and_never_forwarded() {
        for name in [
            "apikey",
            "APIKEY",
            "ApiKey",
            "api%6Bey",
            "api%6bey",
            "%61%70%69%6b%65%79",
            "+apikey",
            "apikey+",
            "apikey%20",
            "%20apikey",
            "apikey%09",
            "apikey%00",
            "apikey%00x",
            "apikey[]",
            "apikey%5B%5D",
            "apikey[0]",
        ] {
            assert!(is_apikey_name(name), "{name}");
            for query in [
                format!("{name}=k"),
                name.to_owned(),
                format!("{name}="),
                format!("{name}=k&{name}=k"),
            ] {
                let text = format!("http://h/p?a=1&{query}&b=%2F+c&a=2&&z");
                let u = url(&text);
                assert_eq!(
                    u.forwarded_query().as_deref(),
                    Some("a=1&b=%2F+c&a=2&&z"),
                    "{query}"
                );
                assert!(u.query_credential().is_ok(), "{query}");
            }
        }
        for name in [
            "api_key", "apikeys", "xapikey", "api key", "api%", "apike", "", "key",
        ] {
            assert!(!is_apikey_name(name), "{name}");
        }
        // Nothing to remove: the query is borrowed as is, not copied.
        let plain = url("http://h/p?a=1&b=2");
        assert!(matches!(
            plain.forwarded_query(),
            Some(Cow::Borrowed("a=1&b=2"))
        ));
        // An empty value or a bare name is a (malformed) credential, not nothing.
        assert_eq!(
            url("http://h/p?apikey")
                .query_credential()
                .unwrap()
                .as_deref(),
            Some("")
        );
        assert_eq!(
            url("http://h/p?apikey=&apikey=k").query_credential(),
            Err(shared::Error::ConflictingCredentials)
        );
    }
}
