//! A harness that runs the real stack on free ports: the demo origins and
//! the edge worker in workerd (both Node processes) and the `keygate` control
//! plane on a fresh SQLite file, wired exactly as `make dev` wires them.
//!
//! Every process runs in its own process group and is stopped (TERM, then
//! KILL) when its [`Proc`] drops, so a failing or panicking test leaves
//! nothing running. Logs go to files in the stack's temporary folder and are
//! printed when a process fails to start.

mod convergence;
mod proc;

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

pub use convergence::{Api, Load};
pub use proc::Proc;

/// How long the tests wait for something published to show at the edge
/// (the isolate caches are 1 s here; publishing takes milliseconds).
pub const PUBLISH_WAIT: Duration = Duration::from_secs(15);

/// What a probe of [`eventually`] returns: `true` or `Some(value)` when done.
pub trait Outcome {
    /// What [`eventually`] returns once done.
    type Value;
    /// `Some` once the awaited state is reached.
    fn done(self) -> Option<Self::Value>;
}

impl Outcome for bool {
    type Value = ();
    fn done(self) -> Option<()> {
        self.then_some(())
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    fn done(self) -> Option<T> {
        self
    }
}

/// Polls `probe` every 50 ms until it is done, or fails the test after
/// [`PUBLISH_WAIT`] naming `what` it waited for.
pub async fn eventually<O: Outcome>(what: &str, mut probe: impl AsyncFnMut() -> O) -> O::Value {
    let deadline = Instant::now() + PUBLISH_WAIT;
    loop {
        if let Some(value) = probe().await.done() {
            return value;
        }
        assert!(
            Instant::now() < deadline,
            "timed out after {PUBLISH_WAIT:?} waiting for {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The wall clock in Unix seconds: tokens for the real edge and control
/// plane must carry the real time.
#[allow(clippy::disallowed_methods)] // tests may read the clock
pub fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs() as i64
}

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `keygate` binary (`KEYGATE_BIN`, else the workspace's debug build).
pub fn keygate_bin() -> PathBuf {
    let path = std::env::var_os("KEYGATE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let target = std::env::var_os("CARGO_TARGET_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| repo_root().join("target"));
            target.join("debug/keygate")
        });
    assert!(
        path.exists(),
        "{} not found: run `cargo build --bin keygate` (make test does)",
        path.display()
    );
    path
}

/// The load multiplier for the convergence tests: 1 in `make test`, more in
/// `make soak` (`KEYGATE_SOAK=10`).
pub fn soak_scale() -> usize {
    std::env::var("KEYGATE_SOAK")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| *n >= 1)
        .unwrap_or(1)
}

/// A free TCP port on 127.0.0.1 (for processes that cannot report their own).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// Pulls `name=value` out of a READY line.
fn ready_field(line: &str, name: &str) -> String {
    line.split_whitespace()
        .find_map(|field| field.strip_prefix(&format!("{name}=")))
        .unwrap_or_else(|| panic!("no {name}= in {line:?}"))
        .to_owned()
}

/// How to run the stack.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Extra worker vars (`NAME`, `VALUE`), after the test defaults.
    pub vars: Vec<(String, String)>,
    /// Every KV read of the worker fails.
    pub kv_fault: bool,
    /// Secret for `X-Keygate-Signature` (also given to the demo origin, which checks it).
    pub signing_secret: Option<String>,
    /// Extra flags for `dev/edge-host.mjs` (e.g. fault injection).
    pub edge_args: Vec<String>,
}

/// The origins and the edge (workerd + the local KV REST API).
#[derive(Debug)]
pub struct Edge {
    /// Edge base URL.
    pub url: String,
    /// KV REST API base (`…/client/v4`).
    pub kv_api: String,
    /// Live origin base URL.
    pub live_origin: String,
    /// Temporary folder with logs.
    pub dir: PathBuf,
    edge: Proc,
    _origin: Proc,
}

impl Edge {
    /// Starts origins and edge on free ports.
    pub fn start(name: &str, options: &Options) -> Self {
        let root = repo_root();
        let script = root.join("edge/build/index.js");
        assert!(
            script.exists(),
            "{} missing: build the worker first (make test does)",
            script.display()
        );
        let dir = std::env::temp_dir().join(format!("keygate-e2e-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create temp dir");

        let mut origin_cmd = Command::new("node");
        origin_cmd.current_dir(&root).args([
            "dev/demo-origin.mjs",
            "--live-port",
            "0",
            "--test-port",
            "0",
        ]);
        if let Some(secret) = &options.signing_secret {
            origin_cmd.args(["--signing-secret", secret]);
        }
        let mut origin = Proc::spawn("origin", origin_cmd, &dir);
        let ready = origin.wait_ready(Duration::from_secs(30));
        let (live, test) = (ready_field(&ready, "live"), ready_field(&ready, "test"));

        // Short isolate caches, so revocations show within a second here; the
        // production window is documented in the README.
        let mut vars = vec![
            ("ORIGIN_LIVE".to_owned(), live.clone()),
            ("ORIGIN_TEST".to_owned(), test),
            ("REQUIRE_HTTPS".to_owned(), "false".to_owned()),
            ("CACHE_TTL".to_owned(), "1".to_owned()),
            ("NEGATIVE_CACHE_TTL".to_owned(), "1".to_owned()),
        ];
        if let Some(secret) = &options.signing_secret {
            vars.push(("ORIGIN_SIGNING_SECRET".to_owned(), secret.clone()));
        }
        for (name, value) in &options.vars {
            vars.retain(|(n, _)| n != name);
            vars.push((name.clone(), value.clone()));
        }
        let mut edge_cmd = Command::new("node");
        edge_cmd.current_dir(&root).args([
            "dev/edge-host.mjs",
            "--port",
            "0",
            "--kv-api-port",
            "0",
        ]);
        for (name, value) in vars.iter().filter(|(_, v)| !v.is_empty()) {
            edge_cmd.args(["--var", &format!("{name}={value}")]);
        }
        if options.kv_fault {
            edge_cmd.arg("--kv-fault");
        }
        edge_cmd.args(&options.edge_args);
        let mut edge = Proc::spawn("edge", edge_cmd, &dir);
        let ready = edge.wait_ready(Duration::from_secs(60));
        Self {
            url: ready_field(&ready, "edge"),
            kv_api: format!("{}/client/v4", ready_field(&ready, "kv_api")),
            live_origin: live,
            dir,
            edge,
            _origin: origin,
        }
    }

    /// Publishes a live secret key of `client_id` (no scopes, no expiry)
    /// the way the publisher does, straight into KV: its static record and
    /// its signing-key record. For keys the control plane would not issue:
    /// legacy keys, or keys whose client segment names another client.
    pub async fn publish_secret_key(&self, key: &shared::key::AccessKey, client_id: &str) {
        use shared::record::{
            jwk_kv_name, static_key_kv_name, JwkRecord, StaticKeyRecord, RECORD_VERSION,
        };
        let record = StaticKeyRecord {
            v: RECORD_VERSION,
            client_id: client_id.to_owned(),
            key_id: key.key_id().to_owned(),
            env: "live".to_owned(),
            key_type: shared::key::KeyType::Secret,
            scopes: vec![],
            expires_at: None,
            revoked_at: None,
            client_disabled: false,
            rev: 1,
        };
        let jwk = shared::signing::SigningKeyPair::derive(key)
            .expect("a secret key derives its pair")
            .public_jwk();
        self.put_kv(&[
            (static_key_kv_name(&key.hash()), record.encode()),
            (
                jwk_kv_name(key.key_id()),
                JwkRecord::of_key(record, jwk).encode(),
            ),
        ])
        .await;
    }

    /// Writes KV pairs through the local KV REST API (bypassing the control plane).
    pub async fn put_kv(&self, pairs: &[(String, String)]) {
        let body: Vec<serde_json::Value> = pairs
            .iter()
            .map(|(key, value)| serde_json::json!({ "key": key, "value": value }))
            .collect();
        let response = reqwest::Client::new()
            .put(format!(
                "{}/accounts/local-account/storage/kv/namespaces/local-namespace/bulk",
                self.kv_api
            ))
            .bearer_auth("local-dev-token")
            .json(&body)
            .send()
            .await
            .expect("KV API reachable");
        assert!(
            response.status().is_success(),
            "KV bulk write failed: {}",
            response.status()
        );
    }

    /// The edge's log so far (worker console output included).
    pub fn log_text(&self) -> String {
        self.edge.log_text()
    }

    /// Whether `needle` shows up in the edge's log within a few seconds
    /// (worker console output reaches the file asynchronously).
    pub fn log_eventually_contains(&self, needle: &str) -> bool {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if self.log_text().contains(needle) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

/// The whole stack: origins, edge, and the control plane publishing to it.
#[derive(Debug)]
pub struct Stack {
    /// Control-plane base URL.
    pub control_plane: String,
    /// Edge base URL.
    pub edge: String,
    /// The bootstrapped admin key.
    pub admin_key: String,
    /// Temporary folder with the database and logs.
    pub dir: PathBuf,
    cp: Proc,
    /// Origins and edge (dropped after the control plane).
    pub edge_stack: Edge,
}

impl Stack {
    /// Starts origins, edge and control plane on free ports, test defaults.
    pub fn start(name: &str) -> Self {
        Self::start_with(name, &Options::default())
    }

    /// Starts origins, edge and control plane on free ports.
    pub fn start_with(name: &str, options: &Options) -> Self {
        let edge_stack = Edge::start(name, options);
        let dir = edge_stack.dir.clone();
        let database_url = format!("sqlite://{}", dir.join("keygate.db").display());
        let admin_file = dir.join("admin-key");
        let status = Command::new(keygate_bin())
            .args(["admin-key", "create", "--out"])
            .arg(&admin_file)
            .env("DATABASE_URL", &database_url)
            .stdout(Stdio::null())
            .status()
            .expect("run keygate admin-key create");
        assert!(status.success(), "keygate admin-key create failed");
        let admin_key = std::fs::read_to_string(&admin_file)
            .expect("admin key file")
            .trim()
            .to_owned();

        let port = free_port();
        let control_plane = format!("http://127.0.0.1:{port}");
        let cp = spawn_control_plane(
            port,
            &database_url,
            &edge_stack.kv_api,
            &dir,
            "control-plane",
        );

        Self {
            control_plane,
            edge: edge_stack.url.clone(),
            admin_key,
            dir,
            cp,
            edge_stack,
        }
    }

    /// Kills the control plane with SIGKILL (no shutdown of any kind) and
    /// starts it again on the same port and database.
    pub fn crash_and_restart(&mut self, generation: usize) {
        self.cp.kill();
        let port: u16 = self
            .control_plane
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        let database_url = format!("sqlite://{}", self.dir.join("keygate.db").display());
        let name = format!("control-plane-{generation}");
        self.cp = spawn_control_plane(
            port,
            &database_url,
            &self.edge_stack.kv_api,
            &self.dir,
            &name,
        );
    }

    /// Runs the `keygate` CLI against this stack with `--json` and parses its output.
    pub fn cli_json(&self, args: &[&str]) -> serde_json::Value {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let stdout = self.cli(&full);
        serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("keygate {args:?} printed no JSON ({e}): {stdout}"))
    }

    /// Runs the `keygate` CLI against this stack and returns its stdout.
    pub fn cli(&self, args: &[&str]) -> String {
        let output = Command::new(keygate_bin())
            .args(args)
            .env("KEYGATE_URL", &self.control_plane)
            .env("KEYGATE_ADMIN_KEY", &self.admin_key)
            .output()
            .expect("run keygate");
        assert!(
            output.status.success(),
            "keygate {args:?} failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A key that may only call `POST /v1/verify`, made the way an operator
    /// makes one (`keygate admin-key create --scope verify`, on the database).
    pub fn verify_key(&self) -> String {
        let file = self.dir.join("verify-key");
        let status = Command::new(keygate_bin())
            .args(["admin-key", "create", "--scope", "verify", "--out"])
            .arg(&file)
            .env(
                "DATABASE_URL",
                format!("sqlite://{}", self.dir.join("keygate.db").display()),
            )
            .stdout(Stdio::null())
            .status()
            .expect("run keygate admin-key create");
        assert!(
            status.success(),
            "keygate admin-key create --scope verify failed"
        );
        std::fs::read_to_string(&file)
            .expect("verify key file")
            .trim()
            .to_owned()
    }

    /// The control plane's log so far (to check what it did and did not log).
    pub fn control_plane_log(&self) -> String {
        self.cp.log_text()
    }
}

fn spawn_control_plane(
    port: u16,
    database_url: &str,
    kv_api: &str,
    dir: &Path,
    name: &str,
) -> Proc {
    let mut command = Command::new(keygate_bin());
    command
        .args(["serve", "--bind", &format!("127.0.0.1:{port}")])
        .env("DATABASE_URL", database_url)
        .env("CF_API_BASE_URL", kv_api)
        .env("CF_ACCOUNT_ID", "local-account")
        .env("CF_KV_NAMESPACE_ID", "local-namespace")
        .env("CF_API_TOKEN", "local-dev-token")
        .env("RUST_LOG", "control_plane=debug");
    let proc = Proc::spawn(name, command, dir);
    wait_listening(
        &format!("http://127.0.0.1:{port}/healthz"),
        Duration::from_secs(30),
        &proc,
    );
    proc
}

fn wait_listening(url: &str, timeout: Duration, proc: &Proc) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        let ok = std::net::TcpStream::connect_timeout(
            &url.trim_start_matches("http://")
                .split('/')
                .next()
                .unwrap_or_default()
                .parse()
                .expect("socket address"),
            Duration::from_millis(200),
        )
        .is_ok();
        if ok {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{url} not up in {timeout:?}; log:\n{}", proc.log_text());
}
