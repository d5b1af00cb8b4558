//! Ed25519 checks done by the runtime's WebCrypto, brought back into the
//! decision.
//!
//! Why: in workerd a WebCrypto verify costs a fraction of ed25519-compact
//! compiled to WASM (README, Performance), and it is the one expensive step
//! of a fresh token. WebCrypto is asynchronous and the gate is not, so the
//! gate asks for a check ([`SignatureCheck`]), the JavaScript entry runs
//! `crypto.subtle.verify` and calls the gate again with the inputs it
//! checked and the answer ([`CheckedSignature`]).
//!
//! The answer is never a bare boolean: [`CheckedSignature`] is an
//! [`Ed25519Verifier`] that answers only for exactly the key, message and
//! signature it was checked with, and `shared::jwt::Unverified::verify_with`
//! asks it with the token's own. Anything else (another request's check, a
//! key rotated in between) gets no answer, and ed25519-compact decides.
//! WebCrypto accepts small-order public keys; keys reach it only as
//! `shared::jwk::VerificationKey`, which refuses them, and the agreement on
//! every Wycheproof vector is tested through workerd
//! (`tests/tests/webcrypto.rs`).

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use shared::jwk::VerificationKey;
use shared::jwt::{Ed25519Verifier, Unverified};

/// The inputs of one Ed25519 check, as the gate asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureCheck {
    /// The public key (raw, 32 bytes).
    pub public_key: [u8; 32],
    /// The signature.
    pub signature: [u8; 64],
    /// The signed bytes (a token's `header.payload`).
    pub message: String,
}

impl SignatureCheck {
    /// The check `token` needs under `key`.
    pub fn of(token: &Unverified<'_>, key: &VerificationKey) -> Self {
        Self {
            public_key: key.to_bytes(),
            signature: *token.signature(),
            message: token.signing_input().to_owned(),
        }
    }

    /// As one byte string for JavaScript: key, signature, message.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(96 + self.message.len());
        bytes.extend_from_slice(&self.public_key);
        bytes.extend_from_slice(&self.signature);
        bytes.extend_from_slice(self.message.as_bytes());
        bytes
    }
}

/// WebCrypto's answer for the inputs of [`SignatureCheck::to_bytes`].
#[derive(Debug)]
pub struct CheckedSignature<'a> {
    checked: &'a [u8],
    answer: Option<bool>,
}

impl<'a> CheckedSignature<'a> {
    /// `checked` as [`SignatureCheck::to_bytes`] wrote it; `answer` what
    /// WebCrypto said of it (`None`: it could not say).
    pub fn new(checked: &'a [u8], answer: Option<bool>) -> Self {
        Self { checked, answer }
    }
}

impl Ed25519Verifier for CheckedSignature<'_> {
    fn verify_ed25519(
        &self,
        key: &VerificationKey,
        message: &[u8],
        signature: &[u8; 64],
    ) -> impl Future<Output = Option<bool>> {
        let same = self.checked.len() == 96 + message.len()
            && self.checked[..32] == key.to_bytes()
            && self.checked[32..96] == signature[..]
            && &self.checked[96..] == message;
        std::future::ready(self.answer.filter(|_| same))
    }
}

/// The output of a future that is ready at once (a [`CheckedSignature`]
/// check never waits); `None` if it would wait.
pub fn now_or_never<F: Future>(future: F) -> Option<F::Output> {
    let mut context = Context::from_waker(Waker::noop());
    match pin!(future).poll(&mut context) {
        Poll::Ready(output) => Some(output),
        Poll::Pending => None,
    }
}
