//! `apikeys rotate --due`: the accounts of the config file, the keys the policy finds
//! something about, and the engine that rotates them.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use apikeys_common::KeyLifecycle;
use chrono::{TimeDelta, Utc};
use futures::StreamExt;

use super::engine::{self, Engine, Outcome, PlannedRotation};
use super::journal::{Journal, JournalError};
use super::sink::Sink;
use crate::cli::RotateDueArgs;
use crate::config::{self, Account, Config, Listed, Reach};
use crate::exit::{Exit, Failure};
use crate::policy::Policy;

/// The file name of the journal in `--secret-dir` when `--journal` is not given.
pub const JOURNAL_NAME: &str = "apikeys-rotate.journal";

/// Runs `rotate --due`; returns how to exit.
pub async fn run(args: RotateDueArgs, reach: Reach, json: bool) -> Exit {
    match run_checked(args, reach, json).await {
        Ok(exit) => exit,
        Err(failure) => failure.report("rotate", &[], json),
    }
}

async fn run_checked(args: RotateDueArgs, reach: Reach, json: bool) -> Result<Exit, Failure> {
    let apply = args.apply || args.resume;
    let sink = sink(&args, apply)?;
    let journal_path = journal_path(&args, apply)?;
    let config = args.config.load()?;
    let policy = args.policy.over(&config.policy);

    if args.resume {
        let (accounts, unreachable) = connect(&config, reach).await;
        let (Some(sink), Some(path)) = (sink, journal_path) else {
            return Err(Failure::invalid(
                "--resume needs --secret-dir or --secret-cmd",
            ));
        };
        let (journal, entries) = Journal::open(&path).map_err(journal_failure)?;
        if engine::unfinished_count(&entries) == 0 {
            let printed =
                crate::output::print("the journal has no unfinished rotation: nothing to resume");
            return Ok(Exit::Ok.after_output(printed, "rotate", json));
        }
        for (account, why) in &unreachable {
            let failure = Failure::other(format!(
                "account `{}` could not be reached, its rotations cannot be resumed: {why}",
                crate::output::sanitize(account)
            ));
            let _ = failure.report("rotate", &[], json);
        }
        let engine =
            Engine::new(&accounts, &sink, &journal).concurrency(usize::from(args.concurrency));
        let mut outcomes = engine::resume(&engine, &entries)
            .await
            .map_err(|abort| Failure::other(abort.to_string()))?;
        // The engine only knows the account is missing; the report says why.
        for outcome in &mut outcomes {
            if let Some(why) = unreachable.get(&outcome.account)
                && outcome.failed_step.as_deref() == Some("check")
            {
                outcome.message = Some(format!("the account could not be reached: {why}"));
            }
        }
        return Ok(finish(&outcomes, &journal, json, unreachable.is_empty()));
    }

    let now = Utc::now();
    let concurrency = usize::from(args.concurrency);
    let mut listed: Vec<_> = config::list_each(&config.accounts, reach, concurrency, &|| {})
        .collect()
        .await;
    listed.sort_by_key(|(index, _)| *index);
    let mut accounts = HashMap::new();
    let mut unreachable = Vec::new();
    let mut plan = Vec::new();
    // In the file's order, whichever account answered first.
    for (account, (_, listed)) in config.accounts.iter().zip(listed) {
        let Listed { keys, listed } = match listed {
            Ok(listed) => listed,
            Err(failure) => {
                unreachable.push((account.name.clone(), failure.message));
                continue;
            }
        };
        for key in listed {
            let findings = policy.findings(&key, now);
            if !findings.is_empty() {
                let mut planned = PlannedRotation {
                    account: account.name.clone(),
                    vendor: account.vendor().to_string(),
                    key,
                    why: findings.iter().map(ToString::to_string).collect(),
                    lifetime: args.lifetime,
                };
                if planned.lifetime.is_none() && planned.old_lifetime().is_none() {
                    planned.lifetime = new_lifetime(&policy, &planned)?;
                }
                plan.push(planned);
            }
        }
        accounts.insert(account.name.clone(), keys);
    }
    for (account, why) in &unreachable {
        let failure = Failure::other(format!(
            "account `{}` could not be listed, none of its keys is planned: {why}",
            crate::output::sanitize(account)
        ));
        let _ = failure.report("rotate", &[], json);
    }
    if !apply {
        let outcome = if unreachable.is_empty() {
            Exit::Ok
        } else {
            Exit::Incomplete
        };
        return Ok(outcome.after_output(super::print_plan(&plan, json), "rotate", json));
    }
    let (Some(sink), Some(path)) = (sink, journal_path) else {
        return Err(Failure::invalid(
            "--apply needs --secret-dir or --secret-cmd",
        ));
    };
    let (journal, entries) = Journal::open(&path).map_err(journal_failure)?;
    let doubtful = engine::in_doubt(&entries);
    if !doubtful.is_empty() {
        return Err(Failure::invalid(format!(
            "the journal {} has {} rotation(s) that a killed run left unfinished: run \
             `apikeys rotate --resume` with the same sink first",
            path.display(),
            doubtful.len()
        )));
    }
    let engine = Engine::new(&accounts, &sink, &journal).concurrency(usize::from(args.concurrency));
    let outcomes = engine::run(&engine, plan)
        .await
        .map_err(|abort| Failure::other(abort.to_string()))?;
    Ok(finish(&outcomes, &journal, json, unreachable.is_empty()))
}

/// The lifetime of a key replacing one that never expired: none, unless the policy
/// requires an expiry (or the replacement would be flagged again at once), when it is the
/// policy's max-age, and without one the command refuses to plan.
fn new_lifetime(policy: &Policy, planned: &PlannedRotation) -> Result<Option<TimeDelta>, Failure> {
    if !policy.require_expiry {
        return Ok(None);
    }
    policy.max_age.map(Some).ok_or_else(|| {
        Failure::invalid(format!(
            "key `{}` of account `{}` never expires and the policy requires an expiry: \
             give --lifetime DURATION (or a max-age) for the keys that replace such keys",
            crate::output::sanitize(&planned.key.id),
            crate::output::sanitize(&planned.account)
        ))
    })
}

/// Prints the report; exit 9 when a rotation failed, 8 when an account was not reached,
/// whether or not the report could be written.
fn finish(outcomes: &[Outcome], journal: &Journal, json: bool, every_account: bool) -> Exit {
    let outcome = if outcomes.iter().any(|o| !o.rotated()) {
        Exit::RotationFailed
    } else if !every_account {
        Exit::Incomplete
    } else {
        Exit::Ok
    };
    let printed = super::print_report(outcomes, journal.path(), json);
    outcome.after_output(printed, "rotate", json)
}

/// The sink the flags name; with `--apply`, exactly one is required.
fn sink(args: &RotateDueArgs, apply: bool) -> Result<Option<Sink>, Failure> {
    let sink = match (&args.secret_dir, &args.secret_cmd) {
        (Some(dir), None) => {
            if !dir.is_dir() {
                return Err(Failure::invalid(format!(
                    "--secret-dir {} is not a directory",
                    dir.display()
                )));
            }
            Some(Sink::Dir(dir.clone()))
        }
        (None, Some(command)) => Some(Sink::Command {
            command: command.clone(),
            timeout: Duration::from_secs(args.secret_cmd_timeout),
        }),
        (None, None) => None,
        (Some(_), Some(_)) => {
            return Err(Failure::invalid(
                "pass --secret-dir or --secret-cmd, not both",
            ));
        }
    };
    if apply && sink.is_none() {
        return Err(Failure::invalid(
            "--apply needs a place for the new secrets, which are shown only once: \
             --secret-dir DIR or --secret-cmd CMD",
        ));
    }
    Ok(sink)
}

/// `--journal`, else `<secret-dir>/apikeys-rotate.journal`; `--secret-cmd` needs `--journal`.
fn journal_path(args: &RotateDueArgs, apply: bool) -> Result<Option<PathBuf>, Failure> {
    match (&args.journal, &args.secret_dir) {
        (Some(path), _) => Ok(Some(path.clone())),
        (None, Some(dir)) => Ok(Some(dir.join(JOURNAL_NAME))),
        (None, None) if apply && args.secret_cmd.is_some() => Err(Failure::invalid(
            "--secret-cmd needs --journal PATH: the journal is what makes a killed run resumable",
        )),
        (None, None) => Ok(None),
    }
}

fn journal_failure(error: JournalError) -> Failure {
    match error {
        JournalError::Locked(_) => Failure {
            exit: Exit::InvalidInput,
            message: error.to_string(),
        },
        _ => Failure::other(error.to_string()),
    }
}

/// Every account's lifecycle (credentials read off the async threads: a `command`
/// credential runs a process), and the accounts that could not be set up, each with why
/// (`the credential variable AMX_KEY is not set`), by name.
async fn connect(
    config: &Config,
    reach: Reach,
) -> (
    HashMap<String, Box<dyn KeyLifecycle>>,
    HashMap<String, String>,
) {
    let mut accounts = HashMap::new();
    let mut failed = HashMap::new();
    for account in &config.accounts {
        let owned: Account = account.clone();
        let built = tokio::task::spawn_blocking(move || owned.lifecycle(reach)).await;
        match built {
            Ok(Ok(keys)) => {
                accounts.insert(account.name.clone(), keys);
            }
            Ok(Err(failure)) => {
                failed.insert(account.name.clone(), failure.message);
            }
            Err(error) => {
                failed.insert(account.name.clone(), error.to_string());
            }
        }
    }
    (accounts, failed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use apikeys_common::KeyInfo;

    fn forever(name: &str) -> PlannedRotation {
        PlannedRotation {
            account: "acct".into(),
            vendor: "v".into(),
            key: KeyInfo::new("7").name(name),
            why: vec!["no-expiry".into()],
            lifetime: None,
        }
    }

    #[test]
    fn a_key_that_never_expired_gets_an_expiry_only_when_the_policy_requires_one() {
        let days = TimeDelta::days(90);
        let lax = Policy::default();
        assert_eq!(new_lifetime(&lax, &forever("ci")).unwrap(), None);
        let strict = Policy {
            require_expiry: true,
            max_age: Some(days),
            ..Policy::default()
        };
        assert_eq!(new_lifetime(&strict, &forever("ci")).unwrap(), Some(days));
        let without_age = Policy {
            require_expiry: true,
            ..Policy::default()
        };
        let refused = new_lifetime(&without_age, &forever("ci")).unwrap_err();
        assert_eq!(refused.exit, Exit::InvalidInput);
        assert!(
            refused.message.contains("--lifetime"),
            "{}",
            refused.message
        );
    }

    #[test]
    fn the_new_expiry_is_the_lifetime_else_the_old_keys_lifetime_from_now() {
        let now = Utc::now();
        let mut plan = forever("ci");
        assert_eq!(plan.old_lifetime(), None);
        plan.key.created_at = Some(now - TimeDelta::days(100));
        plan.key.expires_at = Some(now - TimeDelta::days(70));
        assert_eq!(plan.old_lifetime(), Some(TimeDelta::days(30)));
        plan.lifetime = Some(TimeDelta::days(7));
        assert_eq!(plan.new_expiry(now), Some(now + TimeDelta::days(7)));
        plan.lifetime = None;
        assert_eq!(plan.new_expiry(now), Some(now + TimeDelta::days(30)));
        plan.lifetime = Some(TimeDelta::MAX);
        assert_eq!(
            plan.new_expiry(now),
            None,
            "a lifetime past the end of time is no expiry, not a panic"
        );
    }
}
