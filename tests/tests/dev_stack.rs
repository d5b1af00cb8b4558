//! `make dev` (scripts/dev.sh) leaves nothing running however it is stopped:
//! Ctrl-C (SIGINT to its process group), SIGTERM, SIGHUP, SIGKILL of its
//! process group, SIGKILL of its parent. Each case starts the whole dev stack
//! on free ports, waits until it answers, stops it, and checks within a
//! bounded time that every port is free and no process it started remains
//! (node, workerd, the control plane). It also checks that the script runs
//! the `keygate` binary of `$CARGO_TARGET_DIR`, not `target/`, and that the
//! edge signs what it forwards: the demo origin reports `"signature":"valid"`
//! for a request through the edge and `"missing"` for one sent around it,
//! with the origin signing secret generated (mode 0600), reused from a
//! previous run, or taken from `KEYGATE_ORIGIN_SIGNING_SECRET`.

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader},
    net::{TcpListener, TcpStream},
    os::unix::{fs::PermissionsExt, process::CommandExt},
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    sync::mpsc,
    time::{Duration, Instant},
};

use keygate_tests::{free_port, keygate_bin, repo_root};

mod dev_signing;
use dev_signing::{check_signatures, Secret, GIVEN_SECRET};

mod dev_revocation;

/// The script bounds its own cleanup at 10 s; a little more here.
const STOP_WITHIN: Duration = Duration::from_secs(20);

#[derive(Debug, Clone, Copy, PartialEq)]
enum Stop {
    /// What a terminal does on Ctrl-C: SIGINT to the foreground group.
    CtrlC,
    /// `kill <pid>`.
    Term,
    /// A closed terminal (here: to the script alone, the harder case).
    Hangup,
    /// `kill -9 -<pgid>`: no handler runs anywhere.
    KillGroup,
    /// `kill -9` of the script's parent (make, a shell): the script must notice.
    KillParent,
}

/// `(pid, (process group, parent, command name, zombie))` of every process.
fn processes() -> BTreeMap<u32, (u32, u32, String, bool)> {
    let mut all = BTreeMap::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return all;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry.file_name().to_str().and_then(|n| n.parse().ok()) else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // "pid (comm) state ppid pgrp ...": comm may hold spaces and parens.
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        let (Some(state), Some(ppid), Some(pgrp)) = (
            fields.first(),
            fields.get(1).and_then(|p| p.parse().ok()),
            fields.get(2).and_then(|p| p.parse().ok()),
        ) else {
            continue;
        };
        let comm = stat[open + 1..close].to_owned();
        all.insert(pid, (pgrp, ppid, comm, *state == "Z"));
    }
    all
}

/// Every live process in process group `group` or below `root`, by name.
fn stack_processes(group: u32, root: u32) -> BTreeMap<u32, String> {
    let all = processes();
    let mut found: BTreeMap<u32, String> = all
        .iter()
        .filter(|(_, (pgrp, _, _, zombie))| *pgrp == group && !zombie)
        .map(|(pid, (_, _, comm, _))| (*pid, comm.clone()))
        .collect();
    // Below the group's members too: a child may have left the group.
    let mut frontier: Vec<u32> = found.keys().copied().chain([root]).collect();
    while let Some(parent) = frontier.pop() {
        for (pid, (_, ppid, comm, zombie)) in &all {
            if *ppid == parent && !zombie && found.insert(*pid, comm.clone()).is_none() {
                frontier.push(*pid);
            }
        }
    }
    found
}

fn alive(pids: &BTreeMap<u32, String>) -> BTreeMap<u32, String> {
    let now = processes();
    pids.iter()
        .filter(|(pid, comm)| {
            now.get(pid)
                .is_some_and(|(_, _, c, zombie)| !zombie && c == *comm)
        })
        .map(|(pid, comm)| (*pid, comm.clone()))
        .collect()
}

/// Kills, on drop, whatever of the stack is still there: a failing
/// assertion must not leave a dev stack running either.
struct Leftovers {
    group: u32,
    root: u32,
    seen: BTreeMap<u32, String>,
}

impl Drop for Leftovers {
    fn drop(&mut self) {
        let mut all = alive(&self.seen);
        all.extend(stack_processes(self.group, self.root));
        for pid in all.keys() {
            let _ = Command::new("kill")
                .args(["-KILL", &pid.to_string()])
                .status();
        }
    }
}

fn signal(signal: &str, target: &str) {
    let status = Command::new("kill")
        .args([signal, "--", target])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {target}");
}

/// A `$CARGO_TARGET_DIR` whose `debug/keygate` notes that it ran, then runs
/// the real binary.
fn target_dir(dir: &Path) -> (PathBuf, PathBuf) {
    let target = dir.join("target");
    std::fs::create_dir_all(target.join("debug")).unwrap();
    let marker = dir.join("target-dir-used");
    let wrapper = target.join("debug/keygate");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\necho \"$1\" >> '{}'\nexec '{}' \"$@\"\n",
            marker.display(),
            keygate_bin().display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
    (target, marker)
}

fn run(stop: Stop) {
    let dir = std::env::temp_dir().join(format!("keygate-dev-{stop:?}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (target, marker) = target_dir(&dir);
    let secret = match stop {
        Stop::Term => Secret::Reused,
        Stop::Hangup => Secret::FromEnv,
        _ => Secret::Generated,
    };
    if secret == Secret::Reused {
        std::fs::write(dir.join("origin-signing-secret"), GIVEN_SECRET).unwrap();
    }
    let ports: Vec<(&str, u16)> = [
        "KEYGATE_PORT",
        "KEYGATE_EDGE_PORT",
        "KEYGATE_KV_API_PORT",
        "KEYGATE_ORIGIN_LIVE_PORT",
        "KEYGATE_ORIGIN_TEST_PORT",
    ]
    .into_iter()
    .map(|name| (name, free_port()))
    .collect();

    let script = repo_root().join("scripts/dev.sh");
    let mut command = match stop {
        // A parent that is not the test: a shell waiting for the script.
        Stop::KillParent => {
            let mut shell = Command::new("bash");
            shell
                .arg("-c")
                .arg(format!("'{}' & wait", script.display()));
            shell
        }
        _ => Command::new(&script),
    };
    command
        .current_dir(repo_root())
        .envs(ports.iter().map(|(name, port)| (*name, port.to_string())))
        .env("KEYGATE_DEV_DIR", &dir)
        .env("KEYGATE_DEV_NO_BUILD", "1")
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("KEYGATE_BIN")
        .env_remove("KEYGATE_DEV_DATABASE_URL")
        .env_remove("KEYGATE_ORIGIN_SIGNING_SECRET")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(dir.join("dev.log")).unwrap())
        // Its own group, as a shell's job would be: the test can signal the
        // group without signalling itself.
        .process_group(0);
    if secret == Secret::FromEnv {
        command.env("KEYGATE_ORIGIN_SIGNING_SECRET", GIVEN_SECRET);
    }
    let mut child: Child = command.spawn().expect("start scripts/dev.sh");
    let group = child.id();
    let mut leftovers = Leftovers {
        group,
        root: group,
        seen: BTreeMap::new(),
    };

    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        // The banner, up to its "try:" list (which follows the keys).
        let mut banner = Vec::new();
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let done = line.starts_with("try:");
            banner.push(line);
            if done {
                let _ = tx.send(std::mem::take(&mut banner));
            }
        }
    });
    let log = || std::fs::read_to_string(dir.join("dev.log")).unwrap_or_default();
    let Ok(banner) = rx.recv_timeout(Duration::from_secs(120)) else {
        panic!("{stop:?}: the dev stack did not start; log:\n{}", log());
    };
    assert!(
        banner.iter().any(|l| l.contains("keygate is running")),
        "{banner:#?}"
    );
    let edge_port = ports[1].1;
    assert!(
        TcpStream::connect(("127.0.0.1", edge_port)).is_ok(),
        "the edge answers"
    );
    let started = stack_processes(group, group);
    leftovers.seen.clone_from(&started);
    let names: Vec<&str> = started.values().map(String::as_str).collect();
    for expected in ["node", "workerd", "keygate"] {
        assert!(
            names.iter().any(|n| n.contains(expected)),
            "{stop:?}: no {expected} among {names:?}"
        );
    }
    check_signatures(&banner, &ports, &dir, secret);
    if stop == Stop::CtrlC {
        dev_revocation::check_revocation(&banner, &ports);
    }
    // The script ran the binary of $CARGO_TARGET_DIR (`serve` and the CLI).
    let used = std::fs::read_to_string(&marker).unwrap_or_default();
    assert!(
        used.lines().any(|l| l == "serve"),
        "target dir not used: {used:?}"
    );

    match stop {
        Stop::CtrlC => signal("-INT", &format!("-{group}")),
        Stop::Term => signal("-TERM", &group.to_string()),
        Stop::Hangup => signal("-HUP", &group.to_string()),
        Stop::KillGroup => signal("-KILL", &format!("-{group}")),
        Stop::KillParent => signal("-KILL", &group.to_string()),
    }
    let _ = child.wait();

    let deadline = Instant::now() + STOP_WITHIN;
    let (left, busy) = loop {
        let left = alive(&started);
        let busy: Vec<u16> = ports
            .iter()
            .map(|(_, port)| *port)
            .filter(|port| TcpListener::bind(("127.0.0.1", *port)).is_err())
            .collect();
        if (left.is_empty() && busy.is_empty()) || Instant::now() > deadline {
            break (left, busy);
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(leftovers); // never leave them behind, even when the assertion fails
    assert!(
        left.is_empty() && busy.is_empty(),
        "{stop:?}: after {STOP_WITHIN:?} still running: {left:?}; ports in use: {busy:?}; log:\n{}",
        log()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ctrl_c_stops_everything() {
    run(Stop::CtrlC);
}

#[test]
fn sigterm_stops_everything() {
    run(Stop::Term);
}

#[test]
fn sighup_stops_everything() {
    run(Stop::Hangup);
}

#[test]
fn sigkill_of_the_process_group_stops_everything() {
    run(Stop::KillGroup);
}

#[test]
fn death_of_the_parent_stops_everything() {
    run(Stop::KillParent);
}
