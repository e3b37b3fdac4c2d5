//! Settings layers through the host flags, as the `config` example sees them: application
//! defaults < `-c` file < later `-c` file < `-d` directory < `-o`, merged deeply; and start-up
//! errors that name their source.

use nanohttp_e2e::{Config, Scratch, client, serve};

use super::wasi::example;

fn settings_json(server: &nanohttp_e2e::BackgroundServer) -> serde_json::Value {
    let mut response = client().get(server.url("/settings")).call().unwrap();
    assert_eq!(response.status(), 200);
    let text = response.body_mut().read_to_string().unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
}

#[test]
fn each_layer_wins_over_the_previous_one() {
    let scratch = Scratch::new("settings-layers");
    // Each key is last set by the layer named in its value; `app.page_size` by every layer.
    let first = scratch.write(
        "first.yml",
        "greeting: first file\nfirst: first file\nsecond: first file\ndirectory: first file\n\
         option: first file\napp: {page_size: 11}\n",
    );
    let second = scratch.write(
        "second.yaml",
        "second: second file\ndirectory: second file\noption: second file\n\
         app: {page_size: 12}\n",
    );
    scratch.write(
        "conf.d/10-a.yml",
        "directory: directory (a)\noption: directory\napp: {page_size: 13}\n",
    );
    // Files of a directory are read in name order: this one after `10-a.yml`.
    scratch.write("conf.d/20-b.yaml", "directory: directory (b)\n");
    scratch.write("conf.d/30-ignored.txt", "directory: not YAML by name\n");
    let conf_d = scratch.path().join("conf.d");
    let (first, second, conf_d) = (
        first.to_str().unwrap(),
        second.to_str().unwrap(),
        conf_d.to_str().unwrap(),
    );

    let component = example("config");
    // Without any layer: the framework's and the application's defaults.
    let plain = serve(&component, &[]);
    let defaults = settings_json(&plain);
    assert_eq!(defaults["debug"], false);
    assert_eq!(defaults["greeting"], "hello from the application defaults");
    assert_eq!(
        defaults["app"],
        serde_json::json!({"name": "config-example", "page_size": 10})
    );
    drop(plain);

    // The order on the command line does not matter: -o last, -d after every -c, -c in order.
    let server = serve(
        &component,
        &[
            "-o",
            "option=option",
            "-o",
            "app.page_size=14",
            "-d",
            conf_d,
            "-c",
            first,
            "-c",
            second,
            "-o",
            "debug=true",
        ],
    );
    let merged = settings_json(&server);
    let expected = [
        ("greeting", "first file"),
        ("first", "first file"),
        ("second", "second file"),
        ("directory", "directory (b)"),
        ("option", "option"),
    ];
    for (key, value) in expected {
        assert_eq!(merged[key], value, "{key} in {merged}");
    }
    // Deep merge: the application's `app.name` survives every layer setting `app.page_size`.
    assert_eq!(
        merged["app"],
        serde_json::json!({"name": "config-example", "page_size": 14}),
        "{merged}"
    );
    assert_eq!(merged["debug"], true);
    // The framework's defaults are still there under the layers.
    assert_eq!(merged["cookie"]["secure"], defaults["cookie"]["secure"]);

    let mut page = client().get(server.url("/")).call().unwrap();
    let page = page.body_mut().read_to_string().unwrap();
    assert!(page.contains("debug flag is: true"), "{page}");
}

#[test]
fn bad_layers_are_start_up_errors_naming_their_source() {
    let scratch = Scratch::new("settings-errors");
    let good = scratch.write("good.yml", "a: 1\n");
    let bad = scratch.write("bad.yml", "a: 1\nb: [unclosed\nc: 3\n");
    let component = example("config");
    let parse = |args: &[&str]| {
        let argv = ["nanohttp", "-b", "127.0.0.1:0"]
            .into_iter()
            .chain(args.iter().copied())
            .chain([component.to_str().unwrap()]);
        format!("{:#}", Config::from_args(argv).unwrap_err())
    };

    let error = parse(&["-c", good.to_str().unwrap(), "-c", bad.to_str().unwrap()]);
    let expected = format!("invalid YAML in '{}' at line ", bad.display());
    assert!(error.starts_with(&expected), "{error}");
    let line: u32 = error[expected.len()..]
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no line number in {error}"));
    assert!((2..=4).contains(&line), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");

    // A directory's bad file is named with its path.
    scratch.write("conf.d/ok.yml", "a: 2\n");
    scratch.write("conf.d/worse.yaml", "key: : :\n  - x\n");
    let conf_d = scratch.path().join("conf.d");
    let error = parse(&["-d", conf_d.to_str().unwrap()]);
    assert!(
        error.starts_with(&format!(
            "invalid YAML in '{}' at line ",
            conf_d.join("worse.yaml").display()
        )),
        "{error}"
    );

    // A key path the runner does not know, and a malformed -o, are refused up front too.
    assert!(
        parse(&["-o", "host.timeout=1s"])
            .starts_with("invalid setting 'host.timeout': unknown option; known: "),
    );
    let malformed = parse(&["-o", "a..b=1"]);
    assert!(
        malformed.contains("a key or one of its dotted parts is empty"),
        "{malformed}"
    );
}
