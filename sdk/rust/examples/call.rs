//! GETs a URL through the edge with a token from the access key.
//!
//! ```sh
//! KEYGATE_ACCESS_KEY=kg_sk_live_… KEYGATE_AUDIENCE=https://api.example.com \
//!   cargo run -p keygate-client --example call -- https://api.example.com/v1/orders
//! ```
//!
//! Prints the response body; on any error (bad key, no answer, a status
//! other than 2xx) prints why to stderr and exits non-zero. A key issued
//! before keys carried their client id also needs `KEYGATE_CLIENT_ID`.

use std::process::ExitCode;

use keygate_client::TokenProvider;

const USAGE: &str = "usage: call URL (with KEYGATE_ACCESS_KEY and KEYGATE_AUDIENCE set)";

fn env(name: &str) -> Result<String, String> {
    std::env::var(name).map_err(|_| format!("{name} is not set; {USAGE}"))
}

async fn run() -> Result<String, String> {
    let url = std::env::args().nth(1).ok_or(USAGE)?;
    let key = env("KEYGATE_ACCESS_KEY")?;
    let audience = env("KEYGATE_AUDIENCE")?;
    let mut builder = TokenProvider::builder(&key, &audience);
    if let Ok(client_id) = std::env::var("KEYGATE_CLIENT_ID") {
        builder = builder.client_id(client_id);
    }
    let provider = builder.build().map_err(|e| e.to_string())?;

    let authorization = provider.authorization_header().map_err(|e| e.to_string())?;
    let response = reqwest::Client::new()
        .get(&url)
        .header(reqwest::header::AUTHORIZATION, authorization)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    let status = response.status();
    let body = response
        .text()
        .await
        .map_err(|e| format!("GET {url}: {e}"))?;
    if !status.is_success() {
        return Err(format!("GET {url}: {status}: {body}"));
    }
    Ok(body)
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    match run().await {
        Ok(body) => {
            println!("{body}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("call: {error}");
            ExitCode::FAILURE
        }
    }
}
