//! The commands besides serving: `nanohttp new NAME` starts an application of one's own
//! (`new.rs`), `nanohttp build` builds its component (`build.rs`), `nanohttp settings` prints
//! the merged settings as the JSON guests get, for other runtimes (`settings.rs`).

mod build;
mod new;
mod settings;
mod wasm_opt;

use std::ffi::OsString;
use std::process::ExitCode;

/// Runs `nanohttp new ...`, `nanohttp build ...` or `nanohttp settings ...` when `args` (the
/// whole command line, the program first) asks for one; `None` for every other command line,
/// which names a component to serve (a file called `new` is `./new`, as `./demo` is for the
/// demo).
pub(crate) fn subcommand(args: &[OsString]) -> Option<ExitCode> {
    let run = match args.get(1)?.to_str()? {
        "new" => new::run,
        "build" => build::run,
        "settings" => settings::run,
        _ => return None,
    };
    Some(match run(&args[1..]) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => crate::report(&error),
    })
}
