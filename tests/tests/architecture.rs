//! The shape of the code, checked: no import circles among the modules of each crate, and no
//! source file over 500 lines of code outside its tests.
//!
//! A module's imports are the `crate::` and `super::` paths in its code (comments and test
//! modules left out). A path names the deepest module it reaches; between two modules, the
//! edge is drawn between their children of the deepest module holding both (so
//! `crate::app::run` using `crate::options::values` is `app -> options`). A module using its
//! own ancestors or descendants draws no edge: a parent re-exporting its children's items, and
//! children using their parent's, is how Rust modules are meant to be laid out.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates whose modules are checked, by source root.
const CRATES: &[&str] = &["host/src", "settings/src", "guest/src", "guest/macros/src"];

/// Most lines of code (not blank, not comments, not tests) in one source file.
const MAX_CODE_LINES: usize = 500;

type ModulePath = Vec<String>;

struct Source {
    module: ModulePath,
    file: PathBuf,
    /// The code before the file's test module, without comment lines.
    code: Vec<String>,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Every source file of a crate with its module path; files holding only a test module
/// (`mod tests;` in `tests.rs`) are left out.
fn sources(root: &Path) -> Vec<Source> {
    let mut files = Vec::new();
    collect(root, &mut files);
    files
        .into_iter()
        .filter(|file| file.file_name().is_some_and(|name| name != "tests.rs"))
        .map(|file| {
            let relative = file.strip_prefix(root).unwrap().with_extension("");
            let mut module: ModulePath = relative
                .iter()
                .map(|part| part.to_string_lossy().into_owned())
                .collect();
            if matches!(
                module.last().map(String::as_str),
                Some("mod" | "lib" | "main")
            ) {
                module.pop();
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let code = text
                .lines()
                .take_while(|line| line.trim() != "#[cfg(test)]")
                .map(str::trim)
                .filter(|line| !line.is_empty() && !line.starts_with("//"))
                .map(str::to_owned)
                .collect();
            Source { module, file, code }
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The paths a line names after `crate::` or `super::`, braces expanded:
/// `use crate::{a, b::{c, d}};` names `a`, `b::c` and `b::d`.
fn paths_in(line: &str, module: &ModulePath) -> Vec<ModulePath> {
    let mut found = Vec::new();
    for word in ["crate::", "super::"] {
        for (start, _) in line.match_indices(word) {
            // Not `$crate::` (a macro's), nor the tail of a longer path or name.
            let before = line[..start].chars().next_back();
            if before.is_some_and(|c| c == '$' || c == ':' || c == '_' || c.is_alphanumeric()) {
                continue;
            }
            // `super` of module `a::b` (file `a/b.rs` or `a/b/mod.rs`) is `a`.
            let mut base = module.clone();
            if word == "crate::" {
                base.clear();
            } else {
                base.pop();
            }
            let mut rest = &line[start + word.len()..];
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
            tree(rest, &base, &mut found);
        }
    }
    found
}

/// Expands one path tree (`a::b`, `a::{b, c::d}`) after `base`.
fn tree(text: &str, base: &ModulePath, found: &mut Vec<ModulePath>) -> usize {
    let mut path = base.clone();
    let mut at = 0;
    let bytes = text.as_bytes();
    loop {
        if bytes.get(at) == Some(&b'{') {
            at += 1;
            loop {
                while bytes
                    .get(at)
                    .is_some_and(|b| b.is_ascii_whitespace() || *b == b',')
                {
                    at += 1;
                }
                match bytes.get(at) {
                    None => return at,
                    Some(b'}') => return at + 1,
                    _ => at += tree(&text[at..], &path, found),
                }
                if at >= bytes.len() {
                    return at;
                }
            }
        }
        let ident: String = text[at..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            found.push(path);
            return at;
        }
        at += ident.len();
        path.push(ident);
        if text[at..].starts_with("::") {
            at += 2;
        } else {
            found.push(path);
            return at;
        }
    }
}

/// The deepest known module a path reaches.
fn module_of(path: &ModulePath, modules: &BTreeSet<ModulePath>) -> ModulePath {
    (0..=path.len())
        .rev()
        .map(|len| path[..len].to_vec())
        .find(|prefix| modules.contains(prefix))
        .unwrap_or_default()
}

/// The edge between two modules, drawn between their children of their deepest common
/// ancestor; none when one contains the other.
fn edge(from: &ModulePath, to: &ModulePath) -> Option<(ModulePath, ModulePath)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

fn show(module: &ModulePath) -> String {
    if module.is_empty() {
        "crate".into()
    } else {
        module.join("::")
    }
}

/// A circle in the graph, if there is one.
fn find_cycle(graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>) -> Option<Vec<ModulePath>> {
    fn visit(
        node: &ModulePath,
        graph: &BTreeMap<ModulePath, BTreeSet<ModulePath>>,
        stack: &mut Vec<ModulePath>,
        done: &mut BTreeSet<ModulePath>,
    ) -> Option<Vec<ModulePath>> {
        if let Some(at) = stack.iter().position(|on| on == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.clone());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, graph, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

fn graph_of(sources: &[Source]) -> BTreeMap<ModulePath, BTreeSet<ModulePath>> {
    let modules: BTreeSet<ModulePath> = sources.iter().map(|s| s.module.clone()).collect();
    let mut graph: BTreeMap<ModulePath, BTreeSet<ModulePath>> = BTreeMap::new();
    for source in sources {
        for line in &source.code {
            for path in paths_in(line, &source.module) {
                let target = module_of(&path, &modules);
                if let Some((from, to)) = edge(&source.module, &target) {
                    graph.entry(from).or_default().insert(to);
                }
            }
        }
    }
    graph
}

#[test]
fn no_import_circles() {
    let mut circles = Vec::new();
    for root in CRATES {
        let sources = sources(&workspace().join(root));
        assert!(
            sources.len() > 1 || *root == "settings/src",
            "{root}: no sources found"
        );
        if let Some(cycle) = find_cycle(&graph_of(&sources)) {
            let shown: Vec<String> = cycle.iter().map(show).collect();
            circles.push(format!("{root}: {}", shown.join(" -> ")));
        }
    }
    assert!(
        circles.is_empty(),
        "import circles:\n{}",
        circles.join("\n")
    );
}

#[test]
fn the_check_sees_circles() {
    // The same analysis on a made-up crate with one circle, so the test above cannot pass by
    // seeing nothing.
    let source = |module: &[&str], code: &[&str]| Source {
        module: module.iter().map(|m| m.to_string()).collect(),
        file: PathBuf::from("x.rs"),
        code: code.iter().map(|c| c.to_string()).collect(),
    };
    let sources = [
        source(&[], &["mod a;", "mod b;"]),
        source(&["a"], &["use crate::b::{self, Thing};"]),
        source(&["b"], &["mod c;"]),
        source(&["b", "c"], &["use super::super::a::X;", "use super::Y;"]),
    ];
    let graph = graph_of(&sources);
    let cycle = find_cycle(&graph).expect("a -> b -> a is a circle");
    let shown: Vec<String> = cycle.iter().map(show).collect();
    assert!(
        shown == ["a", "b", "a"] || shown == ["b", "a", "b"],
        "{shown:?}"
    );
    // A child using its parent is no circle.
    let tree = [
        source(&[], &["mod a;"]),
        source(&["a"], &["mod b;", "pub use b::Thing;"]),
        source(&["a", "b"], &["use super::Other;", "use crate::a::More;"]),
    ];
    assert_eq!(find_cycle(&graph_of(&tree)), None);
}

#[test]
fn no_file_over_500_lines_of_code() {
    let mut long = Vec::new();
    for root in CRATES {
        for source in sources(&workspace().join(root)) {
            if source.code.len() > MAX_CODE_LINES {
                long.push(format!(
                    "{}: {} lines of code",
                    source.file.display(),
                    source.code.len()
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_CODE_LINES} lines of code:\n{}",
        long.join("\n")
    );
}
