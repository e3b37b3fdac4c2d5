//! `nanohttp`: serve a wasi:http component. See `nanohttp --help`.

fn main() -> std::process::ExitCode {
    quiet_library_backtraces();
    nanohttp_host::run()
}

/// wasmtime makes errors on paths that are not failures (it disposes of each instance's idle
/// fiber with one, on every request once WASI 0.3 support is on); with `RUST_BACKTRACE=1` in
/// the environment, the standard library captures a backtrace for each, which took 16% of the
/// host's CPU time under load (`perf`, hello, a fresh instance per request). The host never
/// prints those backtraces (a guest's trap carries its own wasm backtrace), so it turns them
/// off unless `RUST_LIB_BACKTRACE` says otherwise; panics still follow `RUST_BACKTRACE`.
#[allow(
    unsafe_code,
    reason = "setting an environment variable, before any thread exists"
)]
fn quiet_library_backtraces() {
    if std::env::var_os("RUST_LIB_BACKTRACE").is_none() {
        // SAFETY: the first thing the process does: no other thread can read the environment.
        unsafe { std::env::set_var("RUST_LIB_BACKTRACE", "0") };
    }
}
