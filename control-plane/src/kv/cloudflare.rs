//! The Cloudflare Workers KV REST API client (bulk write, bulk delete, list,
//! read one value). The base URL is configurable: production uses
//! `https://api.cloudflare.com/client/v4`; development and tests use the
//! local bridge (`dev/edge-host.mjs`), which writes into the very namespace
//! the local worker reads.

use std::time::Duration;

use serde::Deserialize;

use super::{Kv, KvError, KvFuture, KvPair, ListedKey, MAX_BULK_PAIRS};
use crate::config::KvArgs;

#[derive(Debug, Deserialize)]
struct ListResponse {
    #[serde(default)]
    result: Vec<ListedKey>,
    #[serde(default)]
    result_info: Option<ListInfo>,
}

#[derive(Debug, Deserialize)]
struct ListInfo {
    #[serde(default)]
    cursor: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Envelope {
    success: bool,
    #[serde(default)]
    errors: Vec<ApiMessage>,
}

#[derive(Debug, Deserialize)]
struct ApiMessage {
    code: Option<i64>,
    message: String,
}

/// The REST client for one namespace.
#[derive(Clone)]
pub struct CloudflareKv {
    http: reqwest::Client,
    namespace_url: String,
    token: String,
}

impl std::fmt::Debug for CloudflareKv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CloudflareKv")
            .field("namespace_url", &self.namespace_url)
            .field("token", &"<redacted>")
            .finish()
    }
}

impl CloudflareKv {
    /// The client, if the account, namespace and token are all configured.
    pub fn from_args(args: &KvArgs) -> Option<Self> {
        let (account, namespace, token) = (
            args.cf_account_id.as_deref()?,
            args.cf_kv_namespace_id.as_deref()?,
            args.cf_api_token.as_deref()?,
        );
        Some(Self::new(&args.cf_api_base_url, account, namespace, token))
    }

    /// A client for `namespace` of `account` at `base_url`.
    pub fn new(base_url: &str, account: &str, namespace: &str, token: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Self {
            http,
            namespace_url: format!(
                "{}/accounts/{account}/storage/kv/namespaces/{namespace}",
                base_url.trim_end_matches('/')
            ),
            token: token.to_owned(),
        }
    }

    /// Sends `request` with the token: the one request path. A transport
    /// failure, an error status or an unreadable answer is a [`KvError`].
    async fn call(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, KvError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| KvError::Transport(e.to_string()))?;
        if response.status().is_success() {
            Ok(response)
        } else {
            Err(status_error(response).await)
        }
    }

    /// A write: [`Self::call`], then the envelope must say `success`.
    async fn write(&self, request: reqwest::RequestBuilder) -> Result<(), KvError> {
        let envelope: Envelope = self
            .call(request)
            .await?
            .json()
            .await
            .map_err(|e| KvError::Transport(format!("unreadable KV API answer: {e}")))?;
        if envelope.success {
            Ok(())
        } else {
            Err(KvError::Status {
                status: 200,
                message: messages(&envelope.errors),
                retry_after: None,
            })
        }
    }

    async fn list_page(&self, cursor: Option<&str>) -> Result<ListResponse, KvError> {
        let mut url = format!("{}/keys?limit=1000", self.namespace_url);
        if let Some(cursor) = cursor {
            url.push_str(&format!("&cursor={}", encode_path_segment(cursor)));
        }
        self.call(self.http.get(url))
            .await?
            .json()
            .await
            .map_err(|e| KvError::Transport(format!("unreadable KV listing: {e}")))
    }
}

impl Kv for CloudflareKv {
    fn bulk_put<'a>(&'a self, pairs: &'a [KvPair]) -> KvFuture<'a, ()> {
        Box::pin(async move {
            for batch in pairs.chunks(MAX_BULK_PAIRS) {
                let url = format!("{}/bulk", self.namespace_url);
                self.write(self.http.put(url).json(batch)).await?;
            }
            Ok(())
        })
    }

    fn bulk_delete<'a>(&'a self, keys: &'a [String]) -> KvFuture<'a, ()> {
        Box::pin(async move {
            for batch in keys.chunks(MAX_BULK_PAIRS) {
                let url = format!("{}/bulk/delete", self.namespace_url);
                self.write(self.http.post(url).json(batch)).await?;
            }
            Ok(())
        })
    }

    /// Follows cursors, 1,000 keys per page (the documented maximum).
    fn list_all(&self) -> KvFuture<'_, Vec<ListedKey>> {
        Box::pin(async move {
            let mut keys = Vec::new();
            let mut cursor: Option<String> = None;
            loop {
                let page = self.list_page(cursor.as_deref()).await?;
                keys.extend(page.result);
                cursor = page
                    .result_info
                    .and_then(|info| info.cursor)
                    .filter(|c| !c.is_empty());
                if cursor.is_none() {
                    return Ok(keys);
                }
            }
        })
    }

    fn get<'a>(&'a self, key: &'a str) -> KvFuture<'a, Option<String>> {
        Box::pin(async move {
            let url = format!("{}/values/{}", self.namespace_url, encode_path_segment(key));
            match self.call(self.http.get(url)).await {
                Ok(response) => response
                    .text()
                    .await
                    .map(Some)
                    .map_err(|e| KvError::Transport(e.to_string())),
                Err(KvError::Status { status: 404, .. }) => Ok(None),
                Err(e) => Err(e),
            }
        })
    }
}

async fn status_error(response: reqwest::Response) -> KvError {
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok());
    let message = match response.json::<Envelope>().await {
        Ok(envelope) => messages(&envelope.errors),
        Err(_) => "no error details".to_owned(),
    };
    KvError::Status {
        status,
        message,
        retry_after,
    }
}

fn messages(errors: &[ApiMessage]) -> String {
    let text: Vec<String> = errors
        .iter()
        .map(|e| match e.code {
            Some(code) => format!("{code}: {}", e.message),
            None => e.message.clone(),
        })
        .collect();
    if text.is_empty() {
        "unknown error".to_owned()
    } else {
        text.join("; ")
    }
}

/// Percent-encodes a KV key for use as one URL path segment.
pub(crate) fn encode_path_segment(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for byte in key.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_segments_are_encoded() {
        assert_eq!(encode_path_segment("sk:ab/c d"), "sk%3Aab%2Fc%20d");
    }
}
