//! `apikeys rotate --due`: rotates every key the policy says is due, journaled so that a
//! run killed at any point resumes (`--resume`) without losing a secret or orphaning a key.
//!
//! [`journal`] (the write-ahead log and its lock), [`sink`] (where new secrets go) and
//! [`engine`] (the steps of each key, and resuming them).

pub mod command;
pub mod engine;
pub mod journal;
pub mod protocol;
pub mod secret_cmd;
pub mod sink;

use crate::exit::Failure;
use crate::output;
use engine::{Outcome, PlannedRotation};

/// Prints the plan of a run without `--apply`: account, key, name and why.
pub fn print_plan(plan: &[PlannedRotation], json: bool) -> Result<(), Failure> {
    if json {
        let rows: Vec<_> = plan
            .iter()
            .map(|p| {
                serde_json::json!({
                    "account": p.account,
                    "vendor": p.vendor,
                    "id": p.key.id,
                    "name": p.key.name,
                    "why": p.why,
                })
            })
            .collect();
        return output::print_json(&serde_json::json!({ "plan": rows, "applied": false }));
    }
    if plan.is_empty() {
        return output::print("no key is due for rotation");
    }
    let mut table = output::table(&["account", "key", "name", "why"]);
    for p in plan {
        table.add_row(vec![
            output::sanitize(&p.account),
            output::sanitize(&p.key.id),
            output::sanitize(p.key.name.as_deref().unwrap_or("")),
            output::sanitize(&p.why.join("; ")),
        ]);
    }
    output::print(&format!(
        "{table}\n{} key(s) due; nothing was changed: pass --apply with --secret-dir or \
         --secret-cmd to rotate them",
        plan.len()
    ))
}

/// One rotation under way, as `rotate --pending` shows it.
#[derive(serde::Serialize)]
struct Pending {
    account: String,
    old: String,
    new: String,
    /// `retiring` (waiting for its overlap) or `unfinished` (a run stopped: `--resume`).
    stage: &'static str,
    /// When its next step is due; `None`: now.
    due: Option<chrono::DateTime<chrono::Utc>>,
}

/// Prints the rotations under way: the journal's open ones and the retirements tagged at
/// the vendors, each with its stage and when its next step is due.
pub fn print_pending(
    open: &[(String, protocol::Rotation)],
    found: &[engine::Found],
    now: chrono::DateTime<chrono::Utc>,
    json: bool,
) -> Result<(), Failure> {
    let mut rows = Vec::new();
    for (account, rotation) in open {
        let (stage, due) = match rotation.next(now) {
            protocol::Action::Wait(at) => ("retiring", Some(at)),
            _ => ("unfinished", None),
        };
        rows.push(Pending {
            account: account.clone(),
            old: rotation.plan().old.clone(),
            new: rotation.new_key().unwrap_or_default().to_string(),
            stage,
            due,
        });
    }
    for f in found {
        let due = f
            .tag
            .disable_at
            .filter(|at| *at > now)
            .unwrap_or(f.tag.revoke_at);
        rows.push(Pending {
            account: f.account.clone(),
            old: f.tag.old.clone(),
            new: f.new.clone(),
            stage: "retiring",
            due: Some(due),
        });
    }
    if json {
        return output::print_json(&serde_json::json!({ "pending": rows }));
    }
    if rows.is_empty() {
        return output::print("no rotation is under way");
    }
    let mut table = output::table(&["account", "old key", "new key", "stage", "next step due"]);
    for row in &rows {
        table.add_row(vec![
            output::sanitize(&row.account),
            output::sanitize(&row.old),
            output::sanitize(&row.new),
            row.stage.to_string(),
            row.due.map_or_else(
                || "now (--resume)".into(),
                |at| at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ),
        ]);
    }
    output::print(&format!("{table}\n{} rotation(s) under way", rows.len()))
}

/// Prints what a run did: per key, rotated (new id, where its secret went) or failed (the
/// step, why, and which key still works). Never a secret.
pub fn print_report(
    outcomes: &[Outcome],
    journal: &std::path::Path,
    json: bool,
) -> Result<(), Failure> {
    if json {
        return output::print_json(&serde_json::json!({
            "rotations": outcomes,
            "journal": journal.display().to_string(),
        }));
    }
    if outcomes.is_empty() {
        return output::print(&format!(
            "no key was due and no rotation was under way; journal: {}",
            journal.display()
        ));
    }
    let mut table = output::table(&["account", "old key", "status", "new key", "detail"]);
    for o in outcomes {
        let detail = match (&o.secret_at, &o.failed_step) {
            (Some(at), _) => match (o.retires_at, &o.message) {
                (Some(_), Some(stage)) => {
                    format!("secret in {at}; {stage}: a later `rotate --due --apply` goes on then")
                }
                _ => format!("secret in {at}"),
            },
            (None, Some(step)) => format!(
                "failed at {step}: {}; {}",
                o.message.as_deref().unwrap_or(""),
                o.works.as_deref().unwrap_or("")
            ),
            (None, None) => [o.message.as_deref(), o.works.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join("; "),
        };
        table.add_row(vec![
            output::sanitize(&o.account),
            output::sanitize(&o.old),
            o.status.to_string(),
            output::sanitize(o.new.as_deref().unwrap_or("")),
            output::sanitize(&detail),
        ]);
    }
    let rotated = outcomes.iter().filter(|o| o.rotated()).count();
    output::print(&format!(
        "{table}\n{rotated} of {} key(s) rotated; journal: {}",
        outcomes.len(),
        journal.display()
    ))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::sink::Delivery;
    use apikeys_common::{CreatedKey, KeyInfo, Secret};

    /// A key `id` just created, its secret `tb_s3cret_value`.
    pub fn created(id: &str) -> CreatedKey {
        CreatedKey::new(KeyInfo::new(id), Secret::from("tb_s3cret_value"))
    }

    /// A delivery of a ThingsBoard key of the account `prod/tb`.
    pub const TO: Delivery<'static> = Delivery {
        account: "prod/tb",
        vendor: "thingsboard",
        old: "old-1",
    };

    /// A fresh directory under the system's temporary directory.
    pub fn tempdir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!(
            "apikeys-rotation-test-{}",
            uuid::Uuid::new_v4().simple()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
