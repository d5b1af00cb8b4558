//! A client for the documented Cloudflare Workers KV REST API (bulk write,
//! bulk delete, read one value). The base URL is configurable: production
//! uses `https://api.cloudflare.com/client/v4`; development and tests use the
//! local bridge (`dev/edge-host.mjs`), which writes into the very namespace
//! the local worker reads.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::config::KvArgs;

/// Documented limit: at most 10,000 pairs per bulk request.
pub const MAX_BULK_PAIRS: usize = 10_000;

/// One key-value pair of a bulk write.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct KvPair {
    /// KV key.
    pub key: String,
    /// KV value (a JSON record, sent as a string).
    pub value: String,
    /// Absolute expiry, Unix seconds (KV requires it at least 60 s ahead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expiration: Option<i64>,
    /// KV metadata: `{"rev": n}`, the record's revision, so a re-sync can
    /// compare KV with the database from a key listing alone.
    pub metadata: RecordMeta,
}

/// The metadata stored with every record.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, Default)]
pub struct RecordMeta {
    /// The record's revision.
    pub rev: i64,
}

/// One key of a namespace listing.
#[derive(Debug, Clone, Deserialize)]
pub struct ListedKey {
    /// The KV key.
    pub name: String,
    /// Its metadata, if any.
    #[serde(default)]
    pub metadata: Option<RecordMeta>,
}

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

/// Why a KV call failed.
#[derive(Debug, thiserror::Error)]
pub enum KvError {
    /// No answer (connection refused, time-out, …): retry.
    #[error("KV API unreachable: {0}")]
    Transport(String),
    /// The API answered with an error status.
    #[error("KV API answered {status}: {message}")]
    Status {
        /// HTTP status.
        status: u16,
        /// The API's error messages (never our values).
        message: String,
        /// Seconds from `Retry-After`, if given.
        retry_after: Option<u64>,
    },
}

impl KvError {
    /// Whether the same request may succeed later (429, 5xx, transport).
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Transport(_) => true,
            Self::Status { status, .. } => *status == 429 || *status >= 500,
        }
    }

    /// The server's requested delay, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => retry_after.map(Duration::from_secs),
            Self::Transport(_) => None,
        }
    }
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

    /// Writes pairs, in as many documented-size batches as needed.
    pub async fn bulk_put(&self, pairs: &[KvPair]) -> Result<(), KvError> {
        for batch in pairs.chunks(MAX_BULK_PAIRS) {
            let request = self
                .http
                .put(format!("{}/bulk", self.namespace_url))
                .json(batch);
            self.send(request).await?;
        }
        Ok(())
    }

    /// Deletes keys, in documented-size batches.
    pub async fn bulk_delete(&self, keys: &[String]) -> Result<(), KvError> {
        for batch in keys.chunks(MAX_BULK_PAIRS) {
            let request = self
                .http
                .post(format!("{}/bulk/delete", self.namespace_url))
                .json(batch);
            self.send(request).await?;
        }
        Ok(())
    }

    /// Lists every key of the namespace with its metadata (following cursors,
    /// 1,000 keys per page, the documented maximum).
    pub async fn list_all(&self) -> Result<Vec<ListedKey>, KvError> {
        let mut keys = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut url = format!("{}/keys?limit=1000", self.namespace_url);
            if let Some(cursor) = &cursor {
                url.push_str(&format!("&cursor={}", encode_path_segment(cursor)));
            }
            let response = self
                .http
                .get(url)
                .bearer_auth(&self.token)
                .send()
                .await
                .map_err(|e| KvError::Transport(e.to_string()))?;
            if !response.status().is_success() {
                return Err(status_error(response).await);
            }
            let page: ListResponse = response
                .json()
                .await
                .map_err(|e| KvError::Transport(format!("unreadable KV listing: {e}")))?;
            keys.extend(page.result);
            cursor = page
                .result_info
                .and_then(|info| info.cursor)
                .filter(|c| !c.is_empty());
            if cursor.is_none() {
                return Ok(keys);
            }
        }
    }

    /// Reads one value; `None` if the key does not exist.
    pub async fn get(&self, key: &str) -> Result<Option<String>, KvError> {
        let url = format!("{}/values/{}", self.namespace_url, encode_path_segment(key));
        let response = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| KvError::Transport(e.to_string()))?;
        if response.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        response
            .text()
            .await
            .map(Some)
            .map_err(|e| KvError::Transport(e.to_string()))
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<(), KvError> {
        let response = request
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| KvError::Transport(e.to_string()))?;
        if !response.status().is_success() {
            return Err(status_error(response).await);
        }
        let envelope: Envelope = response
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
fn encode_path_segment(key: &str) -> String {
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

    #[test]
    fn retry_classification() {
        let status = |status| KvError::Status {
            status,
            message: String::new(),
            retry_after: Some(3),
        };
        assert!(status(429).is_retryable() && status(503).is_retryable());
        assert!(!status(400).is_retryable() && !status(403).is_retryable());
        assert_eq!(status(429).retry_after(), Some(Duration::from_secs(3)));
        assert!(KvError::Transport("x".to_owned()).is_retryable());
    }
}
