//! The one HTTP client of the command line: JSON requests to the control
//! plane with a key (the admin key, or for `whoami` the caller's own key),
//! errors turned into the API's message and code.

use anyhow::{bail, Context as _};
use serde_json::Value;
use shared::key::AccessKey;

use super::args::ApiArgs;

/// The control plane, called with one key.
pub(super) struct Api {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Api {
    /// With the admin key from the arguments or `.keygate/admin-key`.
    pub(super) fn new(args: &ApiArgs) -> anyhow::Result<Self> {
        let admin_key = match &args.admin_key {
            Some(key) => key.trim().to_owned(),
            None => std::fs::read_to_string(".keygate/admin-key")
                .context("no admin key: set KEYGATE_ADMIN_KEY or run `keygate admin-key create`")?
                .trim()
                .to_owned(),
        };
        Ok(Self::with_key(&args.url, &admin_key))
    }

    /// With any key.
    fn with_key(url: &str, key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: url.trim_end_matches('/').to_owned(),
            key: key.to_owned(),
        }
    }

    pub(super) async fn get(&self, path: &str) -> anyhow::Result<Value> {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub(super) async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach the control plane at {}", self.base))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        let value: Value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or(Value::Null)
        };
        if !status.is_success() {
            let code = value["error"]["code"].as_str().unwrap_or("unknown");
            let message = value["error"]["message"].as_str().unwrap_or("no details");
            bail!("{message} ({code}, HTTP {})", status.as_u16());
        }
        Ok(value)
    }
}

/// Asks the control plane which client a key belongs to, authenticating with
/// the key itself.
pub(super) async fn whoami(url: &str, key: &AccessKey) -> anyhow::Result<String> {
    let me = Api::with_key(url, key.expose())
        .get("/v1/apikeys/self")
        .await
        .context("the control plane did not confirm the key's client; pass --client")?;
    match me["client_id"].as_str() {
        Some(client_id) => Ok(client_id.to_owned()),
        None => bail!("the control plane did not say the key's client; pass --client"),
    }
}
