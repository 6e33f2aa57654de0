//! The files under `contrib/` that users load into other programs pass those programs'
//! own checks: the Prometheus alerting rules load, and their unit tests pass, in promtool.

use std::path::Path;
use std::process::Command;

use crate::workspace_root;

/// Runs `promtool ARGS` in `contrib/prometheus`; `None` when promtool is not installed.
fn promtool(args: &[&str]) -> Option<std::process::Output> {
    let dir = workspace_root().join("contrib/prometheus");
    match Command::new("promtool").args(args).current_dir(&dir).output() {
        Ok(output) => Some(output),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            // `.ci/run` installs it (Debian's `prometheus` package), so CI always checks.
            eprintln!("skipped: promtool is not installed (apt-get install prometheus)");
            None
        }
        Err(e) => panic!("promtool could not be started: {e}"),
    }
}

fn assert_passes(args: &[&str]) {
    let Some(output) = promtool(args) else { return };
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
