//! The Knot DNS fixture, from Rust: picks free ports, runs `tests/peers/knot.sh start` (which
//! starts the servers, waits until they answer signed data and arms a watchdog that stops them
//! when this process exits), and wraps the script's other commands (DS switching, secondary
//! refresh, spare servers, stop by PID). Shared by `tests/suite/dns.rs` and
//! `examples/bench_probe.rs` through `#[path]`.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

/// knotc transactions on `test.` must not overlap.
static PARENT_EDIT: Mutex<()> = Mutex::new(());
static SEQ: AtomicUsize = AtomicUsize::new(0);

pub struct Knot {
    pub dir: PathBuf,
    script: PathBuf,
    /// Primary of `test.` and its extra listeners.
    pub parent: SocketAddr,
    pub parent_extra: Vec<SocketAddr>,
    /// Secondary of `test.` that only catches up on [`Knot::refresh_secondary`].
    pub parent2: SocketAddr,
    /// The child zones' server and its extra listeners.
    pub child: SocketAddr,
    pub child_extra: Vec<SocketAddr>,
    /// `stable.test.` with tampered DNSKEY signatures.
    pub tamper: SocketAddr,
    /// Whether the servers also listen on ::1.
    pub ipv6: bool,
}

/// `n` ports free for both UDP and TCP on 127.0.0.1 (and ::1 when present), held until all are
/// chosen so that they are distinct.
pub fn free_ports(n: usize) -> Vec<u16> {
    let mut held = Vec::new();
    let mut out = Vec::new();
    while out.len() < n {
        let Ok(t) = TcpListener::bind("127.0.0.1:0") else {
            continue;
        };
        let Ok(port) = t.local_addr().map(|a| a.port()) else {
            continue;
        };
        let Ok(u) = UdpSocket::bind(("127.0.0.1", port)) else {
            continue;
        };
        if ipv6_loopback() {
            let t6 = TcpListener::bind(("::1", port));
            let u6 = UdpSocket::bind(("::1", port));
            if t6.is_err() || u6.is_err() {
                continue;
            }
        }
        held.push((t, u));
        out.push(port);
    }
    out
}

pub fn ipv6_loopback() -> bool {
    std::fs::read_to_string("/proc/net/if_inet6")
        .map(|s| s.lines().any(|l| l.trim_end().ends_with(" lo")))
        .unwrap_or(false)
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn run(script: &Path, args: &[&str], envs: &[(&str, String)]) {
    let mut cmd = Command::new("bash");
    cmd.arg(script).args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("cannot run tests/peers/knot.sh");
    assert!(
        out.status.success(),
        "knot.sh {args:?} failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn loopback(port: u16) -> SocketAddr {
    SocketAddr::from(([127, 0, 0, 1], port))
}

impl Knot {
    /// Starts the fixture with `extra_parent`/`extra_child` additional listening ports.
    pub fn start(extra_parent: usize, extra_child: usize) -> Knot {
        let ports = free_ports(4 + extra_parent + extra_child);
        let (parent, rest) = ports.split_at(1 + extra_parent);
        let (child, rest) = rest.split_at(1 + extra_child);
        let (parent2, tamper) = (rest[0], rest[1]);
        let join = |p: &[u16]| p.iter().map(u16::to_string).collect::<Vec<_>>().join(" ");
        // Each test module has its own copy of this file (and of SEQ), so the directory is
        // claimed with an atomic `create_dir`: two fixtures started at once never share one.
        let dir = loop {
            let d = std::env::temp_dir().join(format!(
                "dnssec-pilot-knot-{}-{}",
                std::process::id(),
                SEQ.fetch_add(1, Ordering::SeqCst)
            ));
            match std::fs::create_dir(&d) {
                Ok(()) => break d,
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => panic!("cannot create {}: {e}", d.display()),
            }
        };
        let script = repo_root().join("tests/peers/knot.sh");
        let owner = std::process::id().to_string();
        let dir_s = dir.to_string_lossy().to_string();
        run(
            &script,
            &["start", &dir_s, &owner],
            &[
                ("PARENT_PORTS", join(parent)),
                ("PARENT2_PORT", parent2.to_string()),
                ("CHILD_PORTS", join(child)),
                ("TAMPER_PORT", tamper.to_string()),
            ],
        );
        Knot {
            dir,
            script,
            parent: loopback(parent[0]),
            parent_extra: parent[1..].iter().copied().map(loopback).collect(),
            parent2: loopback(parent2),
            child: loopback(child[0]),
            child_extra: child[1..].iter().copied().map(loopback).collect(),
            tamper: loopback(tamper),
            ipv6: ipv6_loopback(),
        }
    }

    fn dir_s(&self) -> String {
        self.dir.to_string_lossy().to_string()
    }

    /// Sets the parent's DS for `zone` (`sub.test`, …) to `matching`, `absent` or `wrong` in a
    /// knotc transaction and waits until the primary serves it.
    pub fn set_ds(&self, zone: &str, mode: &str) {
        let _g = PARENT_EDIT.lock().unwrap_or_else(|e| e.into_inner());
        run(&self.script, &["ds", &self.dir_s(), zone, mode], &[]);
    }

    /// Lets the lagging secondary transfer `test.` and waits until it has the primary's serial.
    pub fn refresh_secondary(&self) {
        let _g = PARENT_EDIT.lock().unwrap_or_else(|e| e.into_inner());
        run(&self.script, &["refresh", &self.dir_s()], &[]);
    }

    /// Starts one more server for `stable.test.` (instance `name`) and returns its address.
    pub fn spare(&self, name: &str) -> SocketAddr {
        let port = free_ports(1)[0];
        run(
            &self.script,
            &["spare", &self.dir_s(), name, &port.to_string()],
            &[],
        );
        loopback(port)
    }

    /// Stops one instance (`parent`, `parent2`, `child`, `tamper` or a spare) by PID.
    pub fn stop_instance(&self, name: &str) {
        run(&self.script, &["stop", &self.dir_s(), name], &[]);
    }

    /// Stops every instance.
    pub fn stop(&self) {
        run(&self.script, &["stop", &self.dir_s()], &[]);
    }

    /// Runs a command and returns its stdout (panics when it cannot run).
    pub fn output(cmd: &str, args: &[&str]) -> String {
        let out = Command::new(cmd)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd}: {e}"));
        String::from_utf8_lossy(&out.stdout).to_string()
    }

    /// `kdig` at `server`, non-recursive with DNSSEC records, one try.
    pub fn kdig(server: SocketAddr, args: &[&str]) -> String {
        let at = format!("@{}", server.ip());
        let port = server.port().to_string();
        let mut a = vec![
            at.as_str(),
            "-p",
            port.as_str(),
            "+norec",
            "+time=2",
            "+retry=1",
        ];
        a.extend_from_slice(args);
        Self::output("kdig", &a)
    }
}
