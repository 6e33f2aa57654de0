//! Repository rules no compiler checks: every crate can be published alone and documents
//! itself, and generated files are what the generator wrote.

use std::fs;
use std::path::{Path, PathBuf};

use toml::Table;

use crate::vendors::VENDORS;
use crate::workspace_root;

fn manifest(path: &Path) -> Table {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn crate_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(workspace_root().join("crates"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|dir| dir.join("Cargo.toml").exists())
        .collect();
    dirs.sort();
    dirs
}

fn is_published(package: &Table) -> bool {
    package.get("publish").and_then(|p| p.as_bool()) != Some(false)
}

#[test]
fn internal_path_dependencies_carry_a_version() {
    let root = manifest(&workspace_root().join("Cargo.toml"));
    let mut tables = vec![(
        "Cargo.toml [workspace.dependencies]".to_string(),
        root["workspace"]["dependencies"].clone(),
    )];
    for dir in crate_dirs() {
        let crate_manifest = manifest(&dir.join("Cargo.toml"));
        for section in ["dependencies", "dev-dependencies", "build-dependencies"] {
            if let Some(deps) = crate_manifest.get(section) {
                tables.push((format!("{} [{section}]", dir.display()), deps.clone()));
            }
        }
    }
    let mut missing = Vec::new();
    for (place, deps) in tables {
        // A path-only dev-dependency is dropped from the published manifest: the way to
        // let a vendor crate's doctests use the sandbox, whose tests use the vendor crate.
        if place.ends_with("[dev-dependencies]") {
            continue;
        }
        for (name, spec) in deps.as_table().into_iter().flatten() {
            if spec.get("path").is_some() && spec.get("version").is_none() {
                missing.push(format!("{place}: `{name}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "path dependencies without a version cannot be published:\n{}",
        missing.join("\n")
    );
}

#[test]
fn publishable_crates_carry_their_metadata_and_docs() {
    let mut problems = Vec::new();
    for dir in crate_dirs() {
        let crate_manifest = manifest(&dir.join("Cargo.toml"));
        let package = crate_manifest["package"].as_table().unwrap();
        if !is_published(package) {
            continue;
        }
        let name = package["name"].as_str().unwrap();
        for key in [
            "description",
            "keywords",
            "categories",
            "readme",
            "license",
            "repository",
            "rust-version",
        ] {
            if !package.contains_key(key) {
                problems.push(format!("{name}: no `{key}` in [package]"));
            }
        }
        // Released on its own: a version of its own, not the workspace's.
        if !package.get("version").is_some_and(|v| v.is_str()) {
            problems.push(format!(
                "{name}: `version` must be the crate's own, not inherited"
            ));
        }
        for file in ["README.md", "CHANGELOG.md"] {
            if !dir.join(file).exists() {
                problems.push(format!("{name}: no {file}"));
            }
        }
        // `license = "MIT OR Apache-2.0"` ships both texts in every package.
        for file in ["LICENSE-MIT", "LICENSE-APACHE"] {
            let root = fs::read(workspace_root().join(file)).unwrap();
            if fs::read(dir.join(file)).ok() != Some(root) {
                problems.push(format!("{name}: no {file}, or not the workspace's"));
            }
        }
        // A binary-only crate (the CLI) has no library docs on docs.rs.
        if !dir.join("src/lib.rs").exists() {
            continue;
        }
        let docs_rs = package
            .get("metadata")
            .and_then(|m| m.get("docs").and_then(|d| d.get("rs")));
        if docs_rs.is_none() {
            problems.push(format!("{name}: no [package.metadata.docs.rs]"));
        }
        // Compared without white space, which rustfmt moves.
        let lib: String = fs::read_to_string(dir.join("src/lib.rs"))
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        // The clients never panic on what the network or the caller sends; the sandbox
        // (a test server) only denies unwrap and expect.
        let no_panics = if name == "apikeys-sandbox" {
            "#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]"
        } else {
            "#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing))]"
        };
        for line in [
            "#![doc = include_str!(\"../README.md\")]",
            "#![cfg_attr(docsrs, feature(doc_cfg))]",
            "#![deny(missing_docs)]",
            no_panics,
        ] {
            if !lib.contains(&line.split_whitespace().collect::<String>()) {
                problems.push(format!("{name}: src/lib.rs lacks `{line}`"));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// Text that once made a README example wrong and that no compiler flags: clippy does not
/// lint doctests.
const STALE_IN_READMES: &[(&str, &str)] = &[
    (
        ".map_err(Error::from)",
        "a useless conversion: `?` converts already",
    ),
    (
        "progenitor_client::Error",
        "generated calls fail with the crate's own `Error`",
    ),
    (
        "default_provider().install_default()",
        "rustls 0.23.48 deprecates ring's provider: `rustls_ring_config()`",
    ),
];

/// The code blocks of a Markdown file: (line number, info string, code).
fn code_blocks(text: &str) -> Vec<(usize, String, String)> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, String, String)> = None;
    for (number, line) in text.lines().enumerate() {
        let fence = line.trim_start().strip_prefix("```");
        match (open.take(), fence) {
            (None, Some(info)) => open = Some((number + 1, info.trim().to_string(), String::new())),
            (Some(block), Some(_)) => blocks.push(block),
            (Some((start, info, mut code)), None) => {
                code.push_str(line);
                code.push('\n');
                open = Some((start, info, code));
            }
            (None, None) => {}
        }
    }
    assert!(open.is_none(), "a code block is never closed");
    blocks
}

/// The README of the workspace and of each crate, and the file whose doctests compile it.
fn readmes() -> Vec<(PathBuf, Option<PathBuf>)> {
    let root = workspace_root();
    // The sandbox's tests use every vendor crate, so its doctests compile the root README.
    let mut readmes = vec![(
        root.join("README.md"),
        Some(root.join("crates/apikeys-sandbox/src/lib.rs")),
    )];
    for dir in crate_dirs() {
        let lib = dir.join("src/lib.rs");
        readmes.push((dir.join("README.md"), lib.exists().then_some(lib)));
    }
    readmes
}

#[test]
fn every_readme_example_is_a_compiled_doctest() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for (readme, lib) in readmes() {
        let name = readme.strip_prefix(&root).unwrap().display().to_string();
        // A crate that is not published may have none (the benchmarks).
        let Ok(text) = fs::read_to_string(&readme) else {
            continue;
        };
        let mut rust_blocks = 0;
        for (line, info, _) in code_blocks(&text) {
            let words: Vec<&str> = info.split(',').map(str::trim).collect();
            // rustdoc reads a block with no language as Rust.
            if info.is_empty() {
                problems.push(format!("{name}:{line}: a code block without a language"));
            }
            if !(info.is_empty() || words[0] == "rust") {
                continue;
            }
            rust_blocks += 1;
            for skip in ["ignore", "compile_fail", "text"] {
                if words.contains(&skip) {
                    problems.push(format!(
                        "{name}:{line}: `{info}`: README examples compile (`no_run` if they need a server)"
                    ));
                }
            }
        }
        // In the prose too: it tells users what to write.
        for (stale, why) in STALE_IN_READMES {
            if text.contains(stale) {
                problems.push(format!("{name}: `{stale}`: {why}"));
            }
        }
        let include = if name == "README.md" {
            "include_str!(\"../../../README.md\")"
        } else {
            "include_str!(\"../README.md\")"
        };
        let compiled = lib
            .as_ref()
            .and_then(|lib| fs::read_to_string(lib).ok())
            .is_some_and(|source| source.contains(include));
        if rust_blocks > 0 && !compiled {
            problems.push(format!(
                "{name}: {rust_blocks} Rust example(s), but no library's doctests include it"
            ));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_readme_check_sees_what_it_refuses() {
    let blocks =
        code_blocks("a\n```rust,ignore\nlet x = 1;\n```\n```sh\nls\n```\n```\nfn f() {}\n```\n");
    let infos: Vec<&str> = blocks.iter().map(|(_, info, _)| info.as_str()).collect();
    assert_eq!(infos, ["rust,ignore", "sh", ""]);
    assert_eq!(blocks[0].0, 2);
    assert_eq!(blocks[0].2, "let x = 1;\n");
}

#[test]
fn every_vendor_crate_is_generated_and_every_generated_file_has_a_vendor() {
    let root = workspace_root();
    for dir in crate_dirs() {
        let generated = dir.join("src/generated.rs");
        if !generated.exists() {
            continue;
        }
        let text = fs::read_to_string(&generated).unwrap();
        assert!(
            text.starts_with("// @generated by `cargo xtask codegen`"),
            "{} lost its header: was it edited by hand?",
            generated.display()
        );
        let relative = generated
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            VENDORS.iter().any(|v| v.output() == relative),
            "{relative} has no row in xtask/src/vendors.rs, so nothing keeps it fresh"
        );
        let lib = fs::read_to_string(dir.join("src/lib.rs")).unwrap();
        assert!(
            lib.contains("#[rustfmt::skip]"),
            "{}: include generated.rs under #[rustfmt::skip]",
            dir.display()
        );
    }
}

/// Crates a user of one vendor crate must never compile: the other vendors, and what only
/// the generator, the CLI, the sandbox, the benchmarks or the tests need.
const NOT_FOR_LIBRARY_USERS: &[&str] = &[
    "apikeys-bench",
    "apikeys-cli",
    "apikeys-sandbox",
    "assert_cmd",
    "axum",
    "clap",
    "comfy-table",
    "indicatif",
    "openapiv3",
    "progenitor",
    "predicates",
    "progenitor-impl",
    "proptest",
    "tracing-subscriber",
    "typify",
    "wiremock",
];

/// The TLS backends a vendor crate offers, and the crates each one must not compile: the
/// point of `rustls-ring` is no aws-lc, of `native-tls` no rustls. (`rustls-pki-types`,
/// certificate types only, comes with every backend: reqwest itself depends on it.)
const TLS_FEATURES: &[(&str, &[&str])] = &[
    ("rustls", &["openssl", "native-tls", "ring"]),
    (
        "rustls-ring",
        &["aws-lc-rs", "aws-lc-sys", "openssl", "native-tls"],
    ),
    ("native-tls", &["rustls", "aws-lc-rs", "aws-lc-sys", "ring"]),
];

/// The crates `cargo tree -p package` lists for a build with `args`, without versions.
fn normal_tree(package: &str, args: &[&str]) -> Vec<String> {
    // `cargo tree -p` resolves features for this package alone, as a user's build does.
    // Not `--offline`: on a fresh machine `cargo test` has downloaded only what the default
    // features build, so cargo fetches the rest (the native-tls tree) as the lock names it.
    let output = std::process::Command::new(env!("CARGO"))
        .current_dir(workspace_root())
        .args(["tree", "--locked", "-e", "normal", "--prefix", "none"])
        .args(["--format", "{p}", "-p", package])
        .args(args)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cargo tree -p {package} {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let tree = String::from_utf8(output.stdout).unwrap();
    tree.lines()
        .filter_map(|l| l.split(' ').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn one_vendor_crate_pulls_in_no_other_vendor_and_no_tooling() {
    for vendor in VENDORS {
        let package = format!("{}-apikeys", vendor.name);
        let mut builds = vec![("default features".to_string(), Vec::new())];
        for (feature, _) in TLS_FEATURES {
            builds.push((
                format!("--features {feature}"),
                vec!["--no-default-features", "--features", feature],
            ));
        }
        for (build, args) in builds {
            let names = normal_tree(&package, &args);
            let unwanted: Vec<&String> = names
                .iter()
                .filter(|name| {
                    NOT_FOR_LIBRARY_USERS.contains(&name.as_str())
                        || (name.ends_with("-apikeys") && **name != package)
                })
                .collect();
            assert!(
                unwanted.is_empty(),
                "depending on {package} ({build}) compiles {unwanted:?}"
            );
            assert!(
                names.iter().any(|n| n == "apikeys-common"),
                "{package}: {names:?}"
            );
        }
    }
}

/// The hand-written source files (outside tests) that may name three or more vendors: the
/// vendor table, and the benchmark's requests and canned answers. Every other list of
/// vendors is generated from the table.
const MAY_LIST_VENDORS: &[&str] = &[
    "xtask/src/vendors.rs",
    "crates/apikeys-bench/src/vendors.rs",
];

fn rust_files(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).into_iter().flatten() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, files);
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
}

#[test]
fn only_the_vendor_table_lists_the_vendors() {
    let root = workspace_root();
    let mut files = Vec::new();
    rust_files(&root.join("xtask/src"), &mut files);
    for dir in crate_dirs() {
        rust_files(&dir.join("src"), &mut files);
    }
    let mut listing = Vec::new();
    for file in files {
        let relative = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        let text = fs::read_to_string(&file).unwrap();
        // Generated files, and the xtask's test modules.
        if text.starts_with("// @generated")
            || ["xtask/src/tests.rs", "xtask/src/tidy.rs"].contains(&relative.as_str())
        {
            continue;
        }
        // Code only: comments and unit tests (from the first `#[cfg(test)]` on) don't count.
        let code: String = text
            .lines()
            .take_while(|line| line.trim() != "#[cfg(test)]")
            .filter(|line| !line.trim_start().starts_with("//"))
            .collect::<Vec<_>>()
            .join("\n")
            .to_ascii_lowercase();
        let named: Vec<&str> = VENDORS
            .iter()
            .map(|v| v.name)
            .filter(|name| code.contains(name))
            .collect();
        if named.len() >= 3 && !MAY_LIST_VENDORS.contains(&relative.as_str()) {
            listing.push(format!("{relative}: {}", named.join(", ")));
        }
    }
    assert!(
        listing.is_empty(),
        "these files list vendors by hand; generate what they need from xtask/src/vendors.rs:\n{}",
        listing.join("\n")
    );
}

#[test]
fn each_tls_feature_keeps_the_other_stacks_out() {
    for vendor in VENDORS {
        let package = format!("{}-apikeys", vendor.name);
        for (feature, forbidden) in TLS_FEATURES {
            let names = normal_tree(&package, &["--no-default-features", "--features", feature]);
            let found: Vec<&String> = names
                .iter()
                .filter(|name| forbidden.contains(&name.as_str()))
                .collect();
            assert!(
                found.is_empty(),
                "{package} with only `{feature}` compiles {found:?}"
            );
        }
        // The default is `rustls` with aws-lc-rs, reqwest's own default.
        let names = normal_tree(&package, &[]);
        assert!(
            names.iter().any(|n| n == "aws-lc-rs"),
            "{package}: {names:?}"
        );
    }
}

fn has_doc(attrs: &[syn::Attribute]) -> bool {
    attrs.iter().any(|a| a.path().is_ident("doc"))
}

/// docs.rs shows every generated type and field with the fragment's words: a schema or
/// property without a `description` would be a bare item there.
#[test]
fn every_generated_type_and_field_is_documented() {
    let root = workspace_root();
    let mut bare = Vec::new();
    for vendor in VENDORS {
        let path = root.join(vendor.output());
        let file = syn::parse_file(&fs::read_to_string(&path).unwrap()).unwrap();
        let types = file.items.iter().find_map(|item| match item {
            syn::Item::Mod(m) if m.ident == "types" => m.content.as_ref(),
            _ => None,
        });
        let (_, items) = types.unwrap_or_else(|| panic!("{}: no `types`", path.display()));
        for item in items {
            match item {
                syn::Item::Struct(s) if matches!(s.vis, syn::Visibility::Public(_)) => {
                    if !has_doc(&s.attrs) {
                        bare.push(format!("{}: type {}", vendor.name, s.ident));
                    }
                    // Named fields only: a newtype's one field is what its type says.
                    for field in &s.fields {
                        let public = matches!(field.vis, syn::Visibility::Public(_));
                        if let Some(name) = &field.ident
                            && public
                            && !has_doc(&field.attrs)
                        {
                            bare.push(format!("{}: {}.{name}", vendor.name, s.ident));
                        }
                    }
                }
                // Variants are the wire's values or `oneOf` branches: OpenAPI 3.0 has no
                // place for their descriptions.
                syn::Item::Enum(e)
                    if matches!(e.vis, syn::Visibility::Public(_)) && !has_doc(&e.attrs) =>
                {
                    bare.push(format!("{}: type {}", vendor.name, e.ident));
                }
                _ => {}
            }
        }
    }
    assert!(
        bare.is_empty(),
        "give these schemas or properties a `description` in openapi/, then run \
         `cargo xtask codegen`:\n{}",
        bare.join("\n")
    );
}

/// The lines a new vendor needs outside its crate, and the crate's features and examples
/// module, each named with the vendor when missing (CONTRIBUTING.md's recipe).
#[test]
fn every_vendor_is_wired_into_the_workspace() {
    let root = workspace_root();
    let workspace = manifest(&root.join("Cargo.toml"));
    let cli = manifest(&root.join("crates/apikeys-cli/Cargo.toml"));
    let sandbox = manifest(&root.join("crates/apikeys-sandbox/Cargo.toml"));
    let mut problems = Vec::new();
    for vendor in VENDORS {
        problems.extend(wiring_problems(
            vendor.name,
            &workspace,
            &cli,
            &sandbox,
            &root.join(format!("crates/{}-apikeys", vendor.name)),
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn wiring_problems(
    name: &str,
    workspace: &Table,
    cli: &Table,
    sandbox: &Table,
    dir: &Path,
) -> Vec<String> {
    let package = format!("{name}-apikeys");
    let mut problems = Vec::new();
    let mut need = |ok: bool, what: String| {
        if !ok {
            problems.push(format!("{name}: {what}"));
        }
    };
    let line = workspace
        .get("workspace")
        .and_then(|w| w.get("dependencies"))
        .and_then(|d| d.get(&package));
    need(
        line.and_then(|l| l.get("default-features"))
            .and_then(|f| f.as_bool())
            == Some(false),
        format!(
            "Cargo.toml [workspace.dependencies] needs `{package} = {{ path = \"crates/{package}\", version = \"..\", default-features = false }}`"
        ),
    );
    need(
        cli.get("dependencies")
            .and_then(|d| d.get(&package))
            .is_some(),
        format!("crates/apikeys-cli/Cargo.toml [dependencies] needs `{package}.workspace = true`"),
    );
    let testing = sandbox
        .get("dev-dependencies")
        .and_then(|d| d.get(&package))
        .and_then(|d| d.get("features"))
        .and_then(|f| f.as_array())
        .is_some_and(|f| f.iter().any(|f| f.as_str() == Some("testing")));
    need(
        testing,
        format!(
            "crates/apikeys-sandbox/Cargo.toml [dev-dependencies] needs `{package} = {{ workspace = true, features = [\"testing\"] }}`"
        ),
    );
    let own = fs::read_to_string(dir.join("Cargo.toml"))
        .ok()
        .and_then(|t| t.parse::<Table>().ok());
    let features = own.as_ref().and_then(|m| m.get("features"));
    for feature in ["default", "rustls", "rustls-ring", "native-tls", "testing"] {
        need(
            features.and_then(|f| f.get(feature)).is_some(),
            format!("crates/{package}/Cargo.toml has no feature `{feature}`"),
        );
    }
    let lib: String = fs::read_to_string(dir.join("src/lib.rs"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    need(
        lib.contains("#[cfg(feature=\"testing\")]#[rustfmt::skip]pubmodexamples;"),
        format!(
            "crates/{package}/src/lib.rs lacks `#[cfg(feature = \"testing\")] #[rustfmt::skip] pub mod examples;`"
        ),
    );
    problems
}

/// A vendor wired in by half is named with each missing piece.
#[test]
fn a_half_wired_vendor_is_named_with_what_it_lacks() {
    let empty = Table::new();
    let problems = wiring_problems("acme", &empty, &empty, &empty, Path::new("/nonexistent"));
    for piece in [
        "acme: Cargo.toml [workspace.dependencies] needs `acme-apikeys = ",
        "acme: crates/apikeys-cli/Cargo.toml [dependencies] needs",
        "acme: crates/apikeys-sandbox/Cargo.toml [dev-dependencies] needs",
        "acme: crates/acme-apikeys/Cargo.toml has no feature `testing`",
        "acme: crates/acme-apikeys/src/lib.rs lacks `#[cfg(feature = \"testing\")]",
    ] {
        assert!(
            problems.iter().any(|p| p.starts_with(piece)),
            "{piece}\n{problems:?}"
        );
    }
}
