//! `apikeys demo`: starts the sandbox in-process and, for every vendor, runs create → list
//! → rotate → revoke → list, printing what happened and never a secret.

use std::time::Duration;

use apikeys_common::{KeyInfo, KeyLifecycle, NewKey, Secret};
use apikeys_sandbox::{Sandbox, Vendor};
use indicatif::ProgressBar;
use serde::Serialize;

use crate::commands::list;
use crate::connect::{Scope, Target};
use crate::exit::{Exit, Failure};
use crate::output;

/// What the demo says of a secret it received.
const SECRET_NOTE: &str = "secret: received, not shown";

/// One step of one vendor's lifecycle.
#[derive(Debug, Serialize)]
struct Step {
    step: &'static str,
    ok: bool,
    detail: String,
}

/// One vendor's lifecycle.
#[derive(Debug, Serialize)]
struct Report {
    vendor: &'static str,
    base_url: String,
    ok: bool,
    steps: Vec<Step>,
}

/// Runs the demo; exits 0 only when every vendor's lifecycle succeeded.
pub async fn run(json: bool, timeout: Duration) -> Exit {
    let sandbox = match Sandbox::start().await {
        Ok(sandbox) => sandbox,
        Err(error) => {
            let failure = Failure::other(format!("could not start the sandbox: {error}"));
            output::eprint(&failure.line("demo", &[]));
            return failure.exit;
        }
    };
    let mut reports = Vec::new();
    for &vendor in Vendor::ALL {
        // Both lists come from the vendor table, so every vendor has a scope.
        let Some(scope) = Scope::demo(&sandbox, vendor) else {
            continue;
        };
        let target = Target {
            base_url: sandbox.base_url(vendor),
            api_key: sandbox.credential(vendor),
            timeout,
            allow_insecure_http: false,
            scope,
        };
        reports.push(lifecycle(&target).await);
    }
    let ok = reports.iter().filter(|report| report.ok).count();
    let printed = if json {
        output::print_json(&reports)
    } else {
        output::print(&text(&reports))
    };
    let outcome = if ok == reports.len() {
        Exit::Ok
    } else {
        let failure = Failure::other(format!(
            "the lifecycle failed for {} of {} vendors",
            reports.len() - ok,
            reports.len()
        ));
        output::eprint(&failure.line("demo", &[]));
        failure.exit
    };
    outcome.after_output(printed, "demo", json)
}

/// The whole lifecycle at one vendor; every step is recorded, the first failure ends it
/// (after revoking whatever key the demo created).
async fn lifecycle(target: &Target) -> Report {
    let mut report = Report {
        vendor: target.vendor(),
        base_url: target.base_url.clone(),
        ok: false,
        steps: Vec::new(),
    };
    let mut secrets = vec![target.api_key.clone()];
    let keys = match target.lifecycle() {
        Ok(keys) => keys,
        Err(error) => {
            report.fail("connect", &Failure::from_error(&error), &secrets);
            return report;
        }
    };
    let keys = keys.as_ref();

    // create
    let created = match keys.create(&NewKey::named("apikeys-demo")).await {
        Ok(created) => created,
        Err(error) => {
            report.fail("create", &Failure::from_error(&error), &secrets);
            return report;
        }
    };
    secrets.push(created.secret.clone());
    let first = created.key.id.clone();
    report.ok_step(
        "create",
        format!("key {first} named \"apikeys-demo\"; {SECRET_NOTE}"),
    );

    // list: the new key is there
    match listed(keys).await {
        Ok(all) if all.iter().any(|key| key.id == first) => {
            report.ok_step("list", format!("{} key(s), {first} among them", all.len()))
        }
        Ok(all) => {
            let failure = Failure::other(format!("{} key(s), but not {first}", all.len()));
            report.fail("list", &failure, &secrets);
            cleanup(keys, &[&first]).await;
            return report;
        }
        Err(failure) => {
            report.fail("list", &failure, &secrets);
            cleanup(keys, &[&first]).await;
            return report;
        }
    }

    // rotate: a new key replaces the first one
    let second = match keys
        .rotate(&first, &NewKey::named("apikeys-demo-rotated"))
        .await
    {
        Ok(rotated) => {
            secrets.push(rotated.secret.clone());
            let second = rotated.key.id;
            report.ok_step(
                "rotate",
                format!("{first} revoked, replaced by {second}; {SECRET_NOTE}"),
            );
            second
        }
        Err(error) => {
            let failure = Failure::from_error(error.error())
                .context(&format!("rotation failed at the {} step", error.step()));
            report.fail("rotate", &failure, &secrets);
            match error.created() {
                Some(created) => cleanup(keys, &[&first, &created.key.id]).await,
                None => cleanup(keys, &[&first]).await,
            }
            return report;
        }
    };

    // revoke the rotated key
    if let Err(error) = keys.revoke(&second).await {
        report.fail("revoke", &Failure::from_error(&error), &secrets);
        return report;
    }
    report.ok_step("revoke", format!("key {second}"));

    // list: both keys are gone
    match listed(keys).await {
        Ok(all) => {
            let left: Vec<&str> = all
                .iter()
                .map(|key| key.id.as_str())
                .filter(|id| *id == first || *id == second)
                .collect();
            if left.is_empty() {
                report.ok_step(
                    "list",
                    format!("{} key(s), neither {first} nor {second}", all.len()),
                );
                report.ok = true;
            } else {
                let failure = Failure::other(format!("still listed: {}", left.join(", ")));
                report.fail("list", &failure, &secrets);
            }
        }
        Err(failure) => report.fail("list", &failure, &secrets),
    }
    report
}

async fn listed(keys: &dyn KeyLifecycle) -> Result<Vec<KeyInfo>, Failure> {
    list(keys, ProgressBar::hidden())
        .await
        .map_err(|e| Failure::from_error(&e))
}

/// Best effort: revokes the keys the demo created before it failed.
async fn cleanup(keys: &dyn KeyLifecycle, ids: &[&str]) {
    for id in ids {
        let _ = keys.revoke(id).await;
    }
}

impl Report {
    fn ok_step(&mut self, step: &'static str, detail: String) {
        self.steps.push(Step {
            step,
            ok: true,
            detail,
        });
    }

    fn fail(&mut self, step: &'static str, failure: &Failure, secrets: &[Secret]) {
        let secrets: Vec<&str> = secrets.iter().map(Secret::expose_secret).collect();
        self.steps.push(Step {
            step,
            ok: false,
            detail: failure.clean(&secrets),
        });
    }
}

/// The reports as a table: one row per step, the vendor named on its first.
fn text(reports: &[Report]) -> String {
    let mut table = output::table(&["vendor", "step", "result", "what happened"]);
    for report in reports {
        for (i, step) in report.steps.iter().enumerate() {
            let vendor = if i == 0 { report.vendor } else { "" };
            let result = if step.ok { "ok" } else { "FAILED" };
            table.add_row(vec![vendor, step.step, result, step.detail.as_str()]);
        }
    }
    let ok = reports.iter().filter(|report| report.ok).count();
    let summary = reports
        .iter()
        .map(|r| format!("{} {}", r.vendor, if r.ok { "ok" } else { "FAILED" }))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "apikeys demo: the whole key lifecycle against an in-process sandbox of each vendor\n\
         {table}\n\
         {ok} of {} vendors completed create, list, rotate, revoke, list: {summary}",
        reports.len()
    )
}
