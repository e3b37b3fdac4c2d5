//! A 50 MiB upstream body passes through the gateway to the client as it arrives: the
//! process (host, upstream and client all in it) grows by a small fraction of the body. Alone
//! in its test binary, so no other test's memory is counted.

use std::io::Read;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use nanohttp_e2e::upstream::{BIG_FILE, Upstream};
use nanohttp_e2e::{client, serve};

use super::wasi::example;

/// This process's resident memory, in bytes.
fn rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("a VmRSS line");
    kib * 1024
}

#[test]
fn a_large_upstream_body_streams_through_with_flat_memory() {
    let upstream = Upstream::start();
    let settings = format!("upstream={}", upstream.url(""));
    let server = serve(
        &example("gateway"),
        &["--allow-outbound", &upstream.rule(), "-o", &settings],
    );
    // Warm up: the first request compiles nothing (the host did at start) but fills pools.
    let mut warm = client()
        .get(&server.url("/files/small.txt"))
        .call()
        .unwrap();
    warm.body_mut().read_to_string().unwrap();

    let before = rss();
    let peak = Arc::new(AtomicU64::new(before));
    let done = Arc::new(AtomicBool::new(false));
    let sampler = {
        let (peak, done) = (peak.clone(), done.clone());
        std::thread::spawn(move || {
            while !done.load(Ordering::Relaxed) {
                peak.fetch_max(rss(), Ordering::Relaxed);
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let mut response = client().get(&server.url("/files/big.bin")).call().unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-length"].to_str().unwrap(),
        BIG_FILE.to_string()
    );
    let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
    let mut buf = vec![0; 64 << 10];
    let mut total = 0u64;
    loop {
        let read = reader.read(&mut buf).expect("the body reads to its end");
        if read == 0 {
            break;
        }
        assert!(buf[..read].iter().all(|&b| b == b'z'));
        total += read as u64;
    }
    done.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    assert_eq!(total, BIG_FILE);
    let grown = peak.load(Ordering::Relaxed).saturating_sub(before);
    eprintln!(
        "50 MiB through the gateway: peak RSS grew by {} KiB",
        grown >> 10
    );
    // Holding the body anywhere would take 50 MiB; pieces in flight take well under 16.
    assert!(grown < 16 << 20, "RSS grew by {} KiB", grown >> 10);
}
