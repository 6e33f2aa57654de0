//! The files under `contrib/` that users load into other programs pass those programs'
//! own checks: the Prometheus alerting rules load, and their unit tests pass, in promtool.

use std::path::Path;
use std::process::Command;

use crate::workspace_root;

/// Runs `promtool ARGS` in `dir`; `None` when promtool is not installed.
fn promtool(args: &[&str], dir: &Path) -> Option<std::process::Output> {
    match Command::new("promtool")
        .args(args)
        .current_dir(dir)
        .output()
    {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `.ci/run` installs it (Debian's `prometheus` package), so CI always checks.
            eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
            None
        }
        Err(e) => panic!("promtool could not be started: {e}"),
    }
}

/// `promtool ARGS` in `contrib/prometheus` succeeds.
fn assert_passes(args: &[&str]) {
    let Some(output) = promtool(args, &workspace_root().join("contrib/prometheus")) else {
        return;
    };
    assert!(
        output.status.success(),
        "promtool {} failed:\n{}{}",
        args.join(" "),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_alerting_rules_load_in_promtool() {
    assert!(Path::new(&workspace_root().join("contrib/prometheus/apikeys.rules.yml")).exists());
    assert_passes(&["check", "rules", "apikeys.rules.yml"]);
}

#[test]
fn the_alerting_rules_pass_their_unit_tests() {
    assert_passes(&["test", "rules", "apikeys.rules.test.yml"]);
}

/// The scrape config the CLI's README offers to copy loads in promtool, with the rules
/// file beside it as the config names it.
#[test]
fn the_readme_scrape_config_loads_in_promtool() {
    let readme = std::fs::read_to_string(workspace_root().join("crates/apikeys-cli/README.md"))
        .expect("the CLI's README");
    let config = readme
        .split("```yaml\n")
        .skip(1)
        .filter_map(|block| block.split("\n```").next())
        .find(|block| block.contains("scrape_configs:"))
        .expect("a yaml block with scrape_configs in the CLI's README");
    let dir = std::env::temp_dir().join(format!("apikeys-xtask-scrape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("prometheus.yml"), config).unwrap();
    std::fs::copy(
        workspace_root().join("contrib/prometheus/apikeys.rules.yml"),
        dir.join("apikeys.rules.yml"),
    )
    .unwrap();
    let Some(output) = promtool(&["check", "config", "prometheus.yml"], &dir) else {
        return;
    };
    let _ = std::fs::remove_dir_all(&dir);
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        output.status.success(),
        "promtool check config:\n{said}\n{config}"
    );
    assert!(said.contains("SUCCESS: 7 rules found"), "{said}");
}
