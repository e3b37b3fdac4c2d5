//! Processes the key-value tests start and stop themselves, each on a free loopback port with
//! its own scratch directory: `redis-server`, `haproxy`, and the host as a process.
//! A missing program is a failure that says how to install it, never a skip.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::Scratch;

/// How long a service may take to accept connections.
const STARTUP: Duration = Duration::from_secs(60);

/// A loopback port that was free a moment ago.
///
/// # Panics
/// If no port can be bound.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

fn spawn(program: &str, args: &[&str], log: &Path, install: &str) -> Child {
    spawn_with_env(program, args, log, install, &[])
}

fn spawn_with_env(
    program: &str,
    args: &[&str],
    log: &Path,
    install: &str,
    env: &[(&str, &std::ffi::OsStr)],
) -> Child {
    let output = std::fs::File::create(log).expect("a log file");
    Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(output.try_clone().expect("a second log handle"))
        .stderr(output)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program} ({e}): install it with `{install}`"))
}

/// Waits until `port` accepts connections (and, if given, `probe` says the service is ready).
fn wait_for(port: u16, child: &mut Child, log: &Path, probe: impl Fn(&mut TcpStream) -> bool) {
    let deadline = Instant::now() + STARTUP;
    loop {
        if let Some(status) = child.try_wait().expect("the child's status") {
            panic!(
                "the service exited ({status}) before listening on {port}:\n{}",
                std::fs::read_to_string(log).unwrap_or_default()
            );
        }
        if let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) {
            stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
            if probe(&mut stream) {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "nothing listens on {port} after {STARTUP:?}:\n{}",
            std::fs::read_to_string(log).unwrap_or_default()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// A `redis-server` of its own: no persistence, loopback only. Stopped on drop.
#[derive(Debug)]
pub struct Redis {
    child: Option<Child>,
    port: u16,
    scratch: Scratch,
}

impl Redis {
    /// Starts one on a free port and waits until it answers `PING`.
    ///
    /// # Panics
    /// If `redis-server` is not installed or does not start.
    pub fn start(name: &str) -> Self {
        let mut redis = Self {
            child: None,
            port: free_port(),
            scratch: Scratch::new(&format!("redis-{name}")),
        };
        redis.resume();
        redis
    }

    /// `redis://127.0.0.1:PORT/0`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    /// Stops it at once (`SIGKILL`): clients see the connection drop, then refusals.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill(&mut child);
        }
    }

    /// Starts it again on the same port, empty (it keeps nothing on disk).
    ///
    /// # Panics
    /// If it does not start.
    pub fn resume(&mut self) {
        let port = self.port.to_string();
        let dir = self.scratch.path().display().to_string();
        let log = self.scratch.path().join("redis.log");
        let mut child = spawn(
            "redis-server",
            &[
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
                "--dir",
                &dir,
                "--save",
                "",
                "--appendonly",
                "no",
                "--protected-mode",
                "yes",
                "--maxclients",
                "20000",
            ],
            &log,
            "apt-get install -y redis-server",
        );
        wait_for(self.port, &mut child, &log, |stream| {
            let mut reply = [0; 7];
            stream.write_all(b"PING\r\n").is_ok()
                && stream.read_exact(&mut reply).is_ok()
                && &reply == b"+PONG\r\n"
        });
        self.child = Some(child);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// An `haproxy` balancing HTTP round-robin over `servers`, with health checks, started on a
/// free port. Stopped on drop.
///
/// A server is taken out after two failed checks in a row (0.1 s apart), each allowed 2 s: a
/// killed replica (connection refused) fails them at once, one that stalls for a moment does
/// not. With haproxy's default (a check's whole time bounded by its 0.1 s interval) and
/// `fall 1`, a stall of both replicas took both out and haproxy answered `503` until they
/// were back (both `SIGSTOP`ped for 0.3 s under load: 308 of 2,857 requests; none with these).
#[derive(Debug)]
pub struct Haproxy {
    child: Child,
    addr: SocketAddr,
    log: PathBuf,
    _scratch: Scratch,
}

impl Haproxy {
    /// # Panics
    /// If `haproxy` is not installed or does not start.
    pub fn start(name: &str, servers: &[SocketAddr]) -> Self {
        let scratch = Scratch::new(&format!("haproxy-{name}"));
        let port = free_port();
        let mut config = format!(
            "global\n  maxconn 2000\n\
             defaults\n  mode http\n  timeout connect 2s\n  timeout client 60s\n  \
             timeout server 60s\n  timeout check 2s\n  retries 3\n  option redispatch\n\
             frontend web\n  bind 127.0.0.1:{port}\n  default_backend hosts\n\
             backend hosts\n  balance roundrobin\n  option httpchk GET /\n  \
             http-check expect rstatus (2|3|4)[0-9][0-9]\n"
        );
        for (n, server) in servers.iter().enumerate() {
            config.push_str(&format!(
                "  server host{n} {server} check inter 100ms fall 2 rise 2\n"
            ));
        }
        let file = scratch.write("haproxy.cfg", config);
        let log = scratch.path().join("haproxy.log");
        let mut child = spawn(
            "haproxy",
            &["-db", "-f", &file.display().to_string()],
            &log,
            "apt-get install -y haproxy",
        );
        wait_for(port, &mut child, &log, |_| true);
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log,
            _scratch: scratch,
        }
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// What it logged so far: its warnings, among them each server it took out or back.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Haproxy {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}

/// The host as a process of its own (this crate's `nanohttp-e2e-host`, the `nanohttp`
/// binary's `main`), on a free port; `kill -9`ed on drop.
#[derive(Debug)]
pub struct HostProcess {
    child: Child,
    addr: SocketAddr,
    log: std::path::PathBuf,
}

impl HostProcess {
    /// Starts `program` (pass `env!("CARGO_BIN_EXE_nanohttp-e2e-host")`) with `args`, the
    /// target last, and waits until it listens. Its log goes to `log`.
    ///
    /// # Panics
    /// If it exits or does not listen in time.
    pub fn start(program: &str, args: &[&str], log: &Path) -> Self {
        Self::start_with_env(program, args, log, &[])
    }

    /// As [`HostProcess::start`], with `env` added to its environment.
    ///
    /// # Panics
    /// If it exits or does not listen in time.
    pub fn start_with_env(
        program: &str,
        args: &[&str],
        log: &Path,
        env: &[(&str, &std::ffi::OsStr)],
    ) -> Self {
        let port = free_port();
        let bind = format!("127.0.0.1:{port}");
        let mut all = vec!["-b", bind.as_str(), "--no-cache"];
        all.extend_from_slice(args);
        let mut child = spawn_with_env(program, &all, log, "cargo build -p nanohttp-e2e", env);
        wait_for(port, &mut child, log, |_| true);
        Self {
            child,
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            log: log.to_owned(),
        }
    }

    /// `program` serving the embedded demo with no `--kv`: its default embedded store, kept
    /// under `data` (as `XDG_DATA_HOME`) instead of the user's data directory.
    ///
    /// # Panics
    /// If it exits or does not listen in time.
    pub fn demo_with_default_store(program: &str, data: &Path, log: &Path) -> Self {
        Self::start_with_env(
            program,
            &["demo"],
            log,
            &[("XDG_DATA_HOME", data.as_os_str())],
        )
    }

    /// Where it listens.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR` + `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// What it logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// `SIGKILL`: no shutdown, no flush, as a crash or `kill -9`.
    pub fn kill(mut self) {
        kill(&mut self.child);
    }
}

impl Drop for HostProcess {
    fn drop(&mut self) {
        kill(&mut self.child);
    }
}
