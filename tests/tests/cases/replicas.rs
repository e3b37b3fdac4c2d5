//! Replicas: hosts that share one Redis (a `redis-server` the test starts) behind a real load
//! balancer (an `haproxy` the test starts, round-robin with health checks). A write through one
//! replica is read through the other; 10,000 concurrent increments spread over both count
//! exactly 10,000; a replica killed (`SIGKILL`) mid-load loses no acknowledged write, and the
//! balancer keeps answering through the other.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use nanohttp_e2e::services::{Haproxy, HostProcess, Redis};
use nanohttp_e2e::{Scratch, client, serve};

use super::wasi::component;

const HOST: &str = env!("CARGO_BIN_EXE_nanohttp-e2e-host");

fn status_and_body(agent: &ureq::Agent, method: &str, url: &str, body: &str) -> (u16, String) {
    let request = ureq::http::Request::builder()
        .method(method)
        .uri(url)
        .body(body.to_owned())
        .unwrap();
    match agent.run(request) {
        Ok(mut response) => (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        ),
        // A connection the killed replica dropped: not acknowledged.
        Err(e) => (0, e.to_string()),
    }
}

/// What a load got back: how many writes were acknowledged (`200`), and every other answer
/// (status and the start of its body, or the client's error) with how often it came.
#[derive(Default)]
struct Outcomes {
    acknowledged: u64,
    others: BTreeMap<String, u64>,
}

impl Outcomes {
    fn record(&mut self, (status, body): (u16, String)) {
        match status {
            200 => self.acknowledged += 1,
            _ => {
                let answer = format!("{status} {}", body.chars().take(80).collect::<String>());
                *self.others.entry(answer).or_default() += 1;
            }
        }
    }

    fn add(&mut self, other: Outcomes) {
        self.acknowledged += other.acknowledged;
        for (answer, count) in other.others {
            *self.others.entry(answer).or_default() += count;
        }
    }
}

impl std::fmt::Display for Outcomes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} acknowledged", self.acknowledged)?;
        for (answer, count) in &self.others {
            write!(f, "; {count} x {answer}")?;
        }
        Ok(())
    }
}

/// Sends `total` `POST /incr/default/KEY` requests to `addr` from `threads` threads.
fn increments(addr: SocketAddr, key: &str, total: u64, threads: u64) -> Outcomes {
    let handles: Vec<_> = (0..threads)
        .map(|n| {
            let url = format!("http://{addr}/incr/default/{key}");
            let share = total / threads + u64::from(n < total % threads);
            std::thread::spawn(move || {
                let agent = client();
                let mut outcomes = Outcomes::default();
                for _ in 0..share {
                    outcomes.record(status_and_body(&agent, "POST", &url, ""));
                }
                outcomes
            })
        })
        .collect();
    let mut all = Outcomes::default();
    for handle in handles {
        all.add(handle.join().unwrap());
    }
    all
}

fn counter(addr: SocketAddr, key: &str) -> u64 {
    let (status, body) = status_and_body(
        &client(),
        "POST",
        &format!("http://{addr}/incr/default/{key}?delta=0"),
        "",
    );
    assert_eq!(status, 200, "{body}");
    body.parse().unwrap()
}

#[test]
fn two_hosts_on_one_redis_behind_haproxy() {
    let redis = Redis::start("replicas");
    let kvops = component("nanohttp-fixture-kvops");
    let url = redis.url();
    let args = ["--kv", url.as_str()];
    let a = serve(&kvops, &args);
    let b = serve(&kvops, &args);
    let balancer = Haproxy::start("replicas", &[a.addr(), b.addr()]);
    let agent = client();

    // Written through one, read through the other.
    let (status, _) = status_and_body(&agent, "POST", &a.url("/set/default/shared"), "from a");
    assert_eq!(status, 200);
    assert_eq!(
        status_and_body(&agent, "GET", &b.url("/get/default/shared"), ""),
        (200, "from a".to_owned())
    );
    let (status, _) = status_and_body(&agent, "POST", &b.url("/set/default/shared"), "from b");
    assert_eq!(status, 200);
    assert_eq!(
        status_and_body(&agent, "GET", &a.url("/get/default/shared"), ""),
        (200, "from b".to_owned())
    );

    // 10,000 concurrent increments through the balancer.
    let started = Instant::now();
    let load = increments(balancer.addr(), "hits", 10_000, 50);
    eprintln!(
        "10,000 increments through haproxy in {:?}: {load}",
        started.elapsed()
    );
    assert_eq!(
        load.acknowledged,
        10_000,
        "{load}; haproxy's log:\n{}",
        balancer.log()
    );
    assert_eq!(counter(a.addr(), "hits"), 10_000);
    assert_eq!(counter(b.addr(), "hits"), 10_000);
}

#[test]
fn a_replica_killed_mid_load_loses_no_acknowledged_write() {
    let redis = Redis::start("kill");
    let scratch = Scratch::new("replicas-kill");
    let kvops = component("nanohttp-fixture-kvops");
    let kvops = kvops.to_str().unwrap();
    let url = redis.url();
    let start =
        |log: &str| HostProcess::start(HOST, &["--kv", &url, kvops], &scratch.path().join(log));
    let a = start("a.log");
    let b = start("b.log");
    let balancer = Haproxy::start("kill", &[a.addr(), b.addr()]);
    let addr = balancer.addr();

    let load = std::thread::spawn(move || increments(addr, "acked", 4_000, 16));
    // Kill one replica while the load runs.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !load.is_finished(),
        "the load ended before the kill: make it longer"
    );
    a.kill();
    let load = load.join().unwrap();
    eprintln!("4000 increments around the kill: {load}");
    let acknowledged = load.acknowledged;

    let total = counter(b.addr(), "acked");
    assert!(
        total >= acknowledged,
        "{total} < {acknowledged}: an acknowledged write was lost"
    );
    assert!(
        acknowledged >= 3_000,
        "only {acknowledged} of 4000 acknowledged"
    );
    // The balancer answers every request now, through the replica left.
    let after = increments(addr, "after", 200, 4);
    assert_eq!(
        after.acknowledged,
        200,
        "the balancer keeps answering ({after}); b's log:\n{}",
        b.log()
    );
    assert_eq!(counter(b.addr(), "after"), 200);
}
