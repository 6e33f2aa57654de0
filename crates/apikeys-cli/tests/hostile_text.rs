//! Text from servers and config files reaching tables, CSV and JSON: control, C1, bidi and
//! zero-width characters are shown, never obeyed; spreadsheet formulas stay text; config
//! errors name the field and the line, never the value (issue 22, case 11).

mod common;

use std::path::PathBuf;

use apikeys_sandbox::{SeedKey, Vendor};
use common::{Running, apikeys, tempdir, text};
use serde_json::Value;

/// Names a server may hold, each with one hostile character, and how a table or CSV shows it.
/// (Short: a table wraps longer names, and could break the escape across lines.)
const HOSTILE: [(&str, &str); 9] = [
    ("r\u{202e}gpj", "r\\u{202e}gpj"),
    ("i\u{2066}x", "i\\u{2066}x"),
    ("p\u{2069}x", "p\\u{2069}x"),
    ("z\u{200b}x", "z\\u{200b}x"),
    ("w\u{2060}x", "w\\u{2060}x"),
    ("b\u{feff}x", "b\\u{feff}x"),
    ("c\u{9b}31m", "c\\u{9b}31m"),
    ("d\u{7f}x", "d\\u{7f}x"),
    ("e\u{1b}[2J", "e\\u{1b}[2J"),
];

fn hostile(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2060}'..='\u{2069}' | '\u{feff}')
}

/// A sandbox whose ThingsBoard user holds `names`, and a config file naming it.
fn seeded(names: &[&str]) -> (Running, PathBuf) {
    let sandbox = Running::start();
    sandbox
        .seed(
            Vendor::ThingsBoard,
            names.iter().map(|name| SeedKey::new(*name)),
        )
        .unwrap();
    let config = tempdir().join("config.toml");
    common::thingsboard_config(&sandbox, &config, "TB_KEY");
    (sandbox, config)
}

/// `apikeys audit --all --config <config> <format>`'s stdout.
fn audit(sandbox: &Running, config: &PathBuf, format: &[&str]) -> String {
    let out = apikeys()
        .args(["audit", "--all", "--config"])
        .arg(config)
        .args(format)
        .env(
            "TB_KEY",
            sandbox.credential(Vendor::ThingsBoard).expose_secret(),
        )
        .assert()
        .success();
    text(&out.get_output().stdout)
}

// issue 22, case 11: bidi overrides, zero-width characters and C1 controls reached tables
// and CSV raw (C0 ones became `?`, which hid what they were).
#[test]
fn tables_and_csv_show_hostile_characters_as_escapes() {
    let names: Vec<&str> = HOSTILE.iter().map(|(name, _)| *name).collect();
    let (sandbox, config) = seeded(&names);
    for format in [&[][..], &["--csv"]] {
        let stdout = audit(&sandbox, &config, format);
        if let Some(c) = stdout.chars().find(|&c| hostile(c) && c != '\n') {
            panic!("{format:?}: a raw {:?} in\n{stdout}", c);
        }
        for (_, shown) in HOSTILE {
            assert!(
                stdout.contains(shown),
                "{format:?}: no {shown} in\n{stdout}"
            );
        }
    }
}

// issue 22, case 11: serde_json wrote C1, bidi and zero-width characters raw.
#[test]
fn json_escapes_hostile_characters_as_u_escapes() {
    let names: Vec<&str> = HOSTILE.iter().map(|(name, _)| *name).collect();
    let (sandbox, config) = seeded(&names);
    let stdout = audit(&sandbox, &config, &["--json"]);
    if let Some(c) = stdout.chars().find(|&c| hostile(c) && c != '\n') {
        panic!("a raw {c:?} in\n{stdout}");
    }
    for escape in [
        "\\u202e", "\\u2066", "\\u2069", "\\u200b", "\\u2060", "\\ufeff", "\\u009b", "\\u007f",
        "\\u001b",
    ] {
        assert!(stdout.contains(escape), "no {escape} in\n{stdout}");
    }
    // Escaped, not changed: a JSON reader gets the server's names back.
    let records: Value = serde_json::from_str(&stdout).unwrap();
    let mut got: Vec<&str> = records
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["name"].as_str())
        .filter(|name| names.contains(name))
        .collect();
    got.sort();
    let mut want = names.clone();
    want.sort();
    assert_eq!(got, want);
}

// issue 22, case 11: a cell starting with a space, or a fullwidth `＝`, escaped the guard.
#[test]
fn csv_formulas_after_whitespace_or_in_fullwidth_stay_text() {
    let risky = [
        " =HYPERLINK(\"x\")",
        "\u{3000}+1",
        "\u{ff1d}SUM(A1)",
        "\u{ff0b}1",
        "\u{ff0d}1",
        "\u{ff20}A1",
    ];
    let (sandbox, config) = seeded(&risky);
    let stdout = audit(&sandbox, &config, &["--csv"]);
    let mut reader = csv::Reader::from_reader(stdout.as_bytes());
    let name = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "name")
        .unwrap();
    let cells: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[name].to_string())
        .collect();
    for formula in risky {
        assert!(
            cells.contains(&format!("'{formula}")),
            "{formula:?} not guarded in {cells:?}"
        );
    }
}

// issue 22, case 11: config errors echoed the offending value (serde's `invalid type:
// string "..."`, a duration's text, an unknown vendor); they name the field and the line.
#[test]
fn config_errors_name_the_field_and_line_never_the_value() {
    let secret = "s3cr3t-value-123";
    let account = "[[account]]\nname = \"a\"\nvendor = \"nuki\"\ncredential = { env = \"X\" }\n";
    let cases = [
        (
            format!("[policy]\nrequire-expiry = \"{secret}\"\n{account}"),
            ":2: require-expiry: invalid type, expected a boolean",
        ),
        (
            format!("[policy]\n\nmax-age = \"{secret}\"\n{account}"),
            ":3: policy max-age: ",
        ),
        (
            format!("[policy]\nexpiring-within = \"1{secret}\"\n{account}"),
            ":2: policy expiring-within: ",
        ),
        (
            account.replace("\"nuki\"", &format!("\"{secret}\"")),
            ":3: account `a`: vendor: unknown vendor",
        ),
        (
            format!("{account}base-url = \"https://{secret}\"\ndisabled = 1\n"),
            ":6: unknown field `disabled`",
        ),
        (
            account.replace(
                "name = \"a\"",
                &format!("name = \"a\"\nname = \"{secret}\""),
            ),
            ":3: name: duplicate key",
        ),
        (
            format!("[policy]\ndisabled-keys = {{ value = \"{secret}\" }}\n{account}"),
            ":2: disabled-keys: invalid type, expected a boolean",
        ),
    ];
    let dir = tempdir();
    for (n, (config, says)) in cases.iter().enumerate() {
        let path = dir.join(format!("config-{n}.toml"));
        std::fs::write(&path, config).unwrap();
        let out = apikeys()
            .args(["audit", "--config"])
            .arg(&path)
            .assert()
            .code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(stderr.contains(says), "{config}\nsays {stderr}");
        assert!(!stderr.contains(secret), "{config}\nechoed in {stderr}");
        assert!(!stderr.contains("3cr3t"), "{config}\nechoed in {stderr}");
    }
}
