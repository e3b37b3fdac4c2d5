//! The `nanohttp` binary's `main`, built in this crate so that its end-to-end tests can run the
//! host as a process of its own (to `kill -9` it): `env!("CARGO_BIN_EXE_nanohttp-e2e-host")`.

fn main() -> std::process::ExitCode {
    nanohttp_host::run()
}
