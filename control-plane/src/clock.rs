//! The control plane's one clock. `shared` never reads a clock; the control
//! plane reads it here and passes `now` down. Handlers get a [`Clock`]
//! through the state, so tests can fix the time; the free functions serve
//! the command line and the publisher.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the Unix epoch.
#[allow(clippy::disallowed_methods)] // the one sanctioned call site
pub fn now_ms() -> i64 {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
}

/// Seconds since the Unix epoch.
pub fn now_secs() -> i64 {
    now_ms() / 1000
}

/// The time as the API sees it: the system clock, or a fixed instant in tests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    fixed_ms: Option<i64>,
}

impl Clock {
    /// The system clock.
    pub const fn system() -> Self {
        Self { fixed_ms: None }
    }

    /// A clock stopped at `ms` (Unix milliseconds).
    pub const fn fixed(ms: i64) -> Self {
        Self { fixed_ms: Some(ms) }
    }

    /// Milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.fixed_ms.unwrap_or_else(now_ms)
    }

    /// Seconds since the Unix epoch.
    pub fn now_secs(&self) -> i64 {
        self.now_ms() / 1000
    }
}
