//! The parts of the request URL the edge needs, split from the absolute URL
//! the runtime hands over (already normalised by workerd's URL parser).
//!
//! Why not the `url` crate: it drags IDNA tables (~100 KB of data) into the
//! bundle for a URL that is already parsed and normalised by the runtime.

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

    /// The first value of query parameter `name`, form-decoded.
    pub fn query_value(&self, name: &str) -> Option<String> {
        self.query?.split('&').find_map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (form_decode(key)? == name)
                .then(|| form_decode(value))
                .flatten()
        })
    }

    /// The raw query without every `name=…` pair; the other pairs stay byte
    /// for byte as the client sent them.
    pub fn query_without(&self, name: &str) -> Option<String> {
        let query = self.query?;
        let kept: Vec<&str> = query
            .split('&')
            .filter(|pair| {
                form_decode(pair.split('=').next().unwrap_or("")).as_deref() != Some(name)
            })
            .collect();
        Some(kept.join("&")).filter(|q| !q.is_empty())
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
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
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

    #[test]
    fn query_values_and_removal() {
        let url = RequestUrl::parse("http://h/p?a=1&api%6Bey=k%5F1&apikey=second&b=%20+x").unwrap();
        assert_eq!(url.query_value("apikey").as_deref(), Some("k_1"));
        assert_eq!(url.query_value("b").as_deref(), Some("  x"));
        assert_eq!(url.query_value("missing"), None);
        // Every spelling of the name goes, the rest stays as sent.
        assert_eq!(url.query_without("apikey").as_deref(), Some("a=1&b=%20+x"));
        let only = RequestUrl::parse("http://h/p?apikey=x").unwrap();
        assert_eq!(only.query_without("apikey"), None);
        assert_eq!(
            RequestUrl::parse("http://h/p?bad=%zz")
                .unwrap()
                .query_value("bad"),
            None
        );
    }
}
