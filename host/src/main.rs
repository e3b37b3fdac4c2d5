//! `nanohttp`: serve a wasi:http component. See `nanohttp --help`.

fn main() -> std::process::ExitCode {
    nanohttp_host::run()
}
