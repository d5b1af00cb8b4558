//! [`EdgeIdentityLayer`]: the check as tower middleware.

use core::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::OriginalUri;
use http::{header, HeaderValue, Request, Response, StatusCode};
use tower_layer::Layer;
use tower_service::Service;

use super::check::{verify, EdgeSignatureError, DEFAULT_MAX_AGE};
use crate::clock::{Clock, SystemClock};

#[derive(Clone)]
struct Config {
    secret: Arc<[u8]>,
    max_age: Duration,
    clock: Arc<dyn Clock>,
}

/// Refuses every request that does not carry a valid, recent edge
/// signature (`401`, `{"error":{"code":"edge_signature_…"}}`), and inserts
/// the [`EdgeIdentity`](super::EdgeIdentity) into the extensions of every
/// request it lets through.
///
/// The path checked is the one the request arrived with (axum's
/// `OriginalUri` when the layer sits inside a nested router), so the layer
/// can go on the whole app or on some routes only.
#[derive(Clone)]
pub struct EdgeIdentityLayer {
    config: Config,
}

impl EdgeIdentityLayer {
    /// Checks signatures made with `secret` (the edge's
    /// `ORIGIN_SIGNING_SECRET`), at most [`DEFAULT_MAX_AGE`] old. An empty
    /// secret refuses every request.
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        Self {
            config: Config {
                secret: Arc::from(secret.as_ref()),
                max_age: DEFAULT_MAX_AGE,
                clock: Arc::new(SystemClock),
            },
        }
    }

    /// The oldest signature accepted (and how far ahead of this origin's
    /// clock one may be), whole seconds.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.config.max_age = max_age;
        self
    }

    /// The clock signatures are aged by (default: the system clock).
    #[must_use]
    pub fn clock(mut self, clock: impl Clock + 'static) -> Self {
        self.config.clock = Arc::new(clock);
        self
    }
}

impl<S> Layer<S> for EdgeIdentityLayer {
    type Service = EdgeIdentityService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        EdgeIdentityService {
            inner,
            config: self.config.clone(),
        }
    }
}

/// The service [`EdgeIdentityLayer`] wraps around an inner one.
#[derive(Clone)]
pub struct EdgeIdentityService<S> {
    inner: S,
    config: Config,
}

fn refusal<B: From<String>>(error: EdgeSignatureError) -> Response<B> {
    let mut response = Response::new(B::from(error.body()));
    *response.status_mut() = StatusCode::UNAUTHORIZED;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

impl<S, B, ResBody> Service<Request<B>> for EdgeIdentityService<S>
where
    S: Service<Request<B>, Response = Response<ResBody>>,
    S::Future: Send + 'static,
    S::Error: Send + 'static,
    ResBody: From<String> + Send + 'static,
{
    type Response = Response<ResBody>;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<Response<ResBody>, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut request: Request<B>) -> Self::Future {
        let config = &self.config;
        let path = match request.extensions().get::<OriginalUri>() {
            Some(original) => original.path(),
            None => request.uri().path(),
        };
        let checked = verify(
            &config.secret,
            request.method().as_str(),
            path,
            request.headers(),
            config.clock.now(),
            config.max_age,
        );
        match checked {
            Ok(identity) => {
                request.extensions_mut().insert(identity);
                Box::pin(self.inner.call(request))
            }
            Err(error) => Box::pin(std::future::ready(Ok(refusal(error)))),
        }
    }
}

/// Never prints the secret.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeIdentityLayer")
            .field("secret", &"<redacted>")
            .field("max_age", &self.max_age)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for EdgeIdentityLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.config.fmt(f)
    }
}

impl<S: fmt::Debug> fmt::Debug for EdgeIdentityService<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EdgeIdentityService")
            .field("inner", &self.inner)
            .field("config", &self.config)
            .finish()
    }
}
