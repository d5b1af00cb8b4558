//! CPU time spent by each party of a run (Linux `/proc`): the server, its
//! PostgreSQL backends, and the load generator itself. Divided by the
//! requests answered, it is the CPU cost of one request, split by who pays
//! it: a figure that barely moves when the machine is busy, unlike
//! requests/s, and that shows what to optimise.
//!
//! `/proc/<pid>/stat` counts in `USER_HZ` ticks (100 a second on Linux),
//! so a figure over a few seconds of load is good to a few percent.

use std::{fs, ops::Sub};

/// Ticks a second in `/proc/<pid>/stat` (`USER_HZ`, fixed at 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU ticks (user and system, all threads) of each party, at one moment.
#[derive(Debug, Clone, Copy, Default)]
pub struct CpuTicks {
    /// The server process.
    pub server: u64,
    /// The PostgreSQL backends serving the benchmark's database.
    pub postgres: u64,
    /// This process (the load generator).
    pub generator: u64,
}

impl Sub for CpuTicks {
    type Output = Self;

    fn sub(self, earlier: Self) -> Self {
        Self {
            server: self.server.saturating_sub(earlier.server),
            postgres: self.postgres.saturating_sub(earlier.postgres),
            generator: self.generator.saturating_sub(earlier.generator),
        }
    }
}

impl CpuTicks {
    /// Reads the ticks of `server` (a pid), of every PostgreSQL backend
    /// connected to `database` (when given), and of this process. Parties
    /// that cannot be read (not Linux) count zero.
    pub fn read(server: u32, database: Option<&str>) -> Self {
        Self {
            server: ticks(&server.to_string()).unwrap_or(0),
            postgres: database.map_or(0, backend_ticks),
            generator: ticks("self").unwrap_or(0),
        }
    }

    /// Microseconds of CPU per request for each party, over `requests`.
    pub fn micros_per_request(self, requests: usize) -> CpuPerRequest {
        let per = |ticks: u64| ticks as f64 / TICKS_PER_SECOND * 1e6 / requests.max(1) as f64;
        CpuPerRequest {
            server: per(self.server),
            postgres: per(self.postgres),
            generator: per(self.generator),
        }
    }
}

/// CPU microseconds per request, by party.
#[derive(Debug, Clone, Copy)]
pub struct CpuPerRequest {
    /// The server process.
    pub server: f64,
    /// Its PostgreSQL backends.
    pub postgres: f64,
    /// The load generator.
    pub generator: f64,
}

/// utime + stime of `/proc/<pid>/stat` (fields 14 and 15; the command name
/// in field 2 may hold spaces, so count from its closing parenthesis).
fn ticks(pid: &str) -> Option<u64> {
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let mut fields = stat.get(stat.rfind(')')? + 2..)?.split(' ');
    // After the name: state is field 3, so utime (14) is the 12th from here.
    let utime: u64 = fields.nth(11)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some(utime + stime)
}

/// The ticks of every PostgreSQL backend whose process title names
/// `database` (`postgres: 15/main: <user> <database> <host> <state>`).
fn backend_ticks(database: &str) -> u64 {
    let Ok(entries) = fs::read_dir("/proc") else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let pid = entry.file_name().into_string().ok()?;
            if !pid.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let title = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let title = String::from_utf8_lossy(&title);
            let is_backend = title.starts_with("postgres:")
                && title.split_whitespace().any(|word| word == database);
            if is_backend {
                ticks(&pid)
            } else {
                None
            }
        })
        .sum()
}
