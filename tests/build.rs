//! Builds every example for `wasm32-wasip2` and tells the tests where the components are
//! (`NANOHTTP_EXAMPLES_DIR`).

#[path = "../host/build/guests.rs"]
mod guests;

const EXAMPLES: [&str; 3] = ["demo", "dispatch", "config"];

fn main() {
    let workspace = guests::workspace();
    let dirs = EXAMPLES.map(|name| format!("examples/{name}"));
    guests::watch(&workspace, &dirs.each_ref().map(String::as_str));
    let packages = EXAMPLES.map(|name| format!("nanohttp-{name}"));
    match guests::build(&workspace, &packages.each_ref().map(String::as_str)) {
        Ok(dir) => println!("cargo::rustc-env=NANOHTTP_EXAMPLES_DIR={}", dir.display()),
        Err(message) => println!("cargo::error={message}"),
    }
}
