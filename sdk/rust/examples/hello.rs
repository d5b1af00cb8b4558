//! The README's Rust snippet (`tests/tests/readme_snippets.rs` runs it):
//! the access key and the audience are all a holder configures.

use keygate_client::TokenProvider;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let key = std::env::var("KEYGATE_ACCESS_KEY")?;
    let provider = TokenProvider::new(&key, &std::env::var("KEYGATE_AUDIENCE")?)?;
    let url = std::env::args().nth(1).ok_or("usage: hello URL")?;
    let response = reqwest::Client::new()
        .get(url)
        .header("authorization", provider.authorization_header()?)
        .send()
        .await?;
    println!("{}", response.text().await?);
    Ok(())
}
