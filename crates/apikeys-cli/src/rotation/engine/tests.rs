//! Kill-and-resume: a run stopped between any two steps, then resumed by a fresh engine
//! from the journal, ends with every key rotated exactly once, every new secret delivered,
//! no key orphaned and no secret in the journal.

use std::collections::HashMap;
use std::time::Duration;

use apikeys_common::{KeyInfo, KeyLifecycle, NewKey, Secret};
use apikeys_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;

use super::*;
use crate::connect::{Scope, Target};
use crate::rotation::journal::Journal;
use crate::rotation::sink::{COMMAND_TIMEOUT, Sink};
use crate::rotation::tests::tempdir;

/// Two vendors whose ids differ in shape: UUIDs and numbers.
const VENDORS: [Vendor; 2] = [Vendor::ThingsBoard, Vendor::Automox];

/// Every place a run can die: after a step's journal line and before its call, or after
/// the call and before the line that records it.
const STOPS: [StopAt; 8] = [
    StopAt("create", When::Before),
    StopAt("create", When::After),
    StopAt("deliver", When::Before),
    StopAt("deliver", When::After),
    StopAt("confirm", When::Before),
    StopAt("confirm", When::After),
    StopAt("revoke", When::Before),
    StopAt("revoke", When::After),
];

fn target(sandbox: &Sandbox, vendor: Vendor, api_key: Secret) -> Target {
    Target {
        base_url: sandbox.base_url(vendor),
        api_key,
        timeout: Duration::from_secs(10),
        allow_insecure_http: false,
        scope: Scope::demo(sandbox, vendor).unwrap(),
    }
}

fn lifecycle(sandbox: &Sandbox, vendor: Vendor) -> Box<dyn KeyLifecycle> {
    target(sandbox, vendor, sandbox.credential(vendor))
        .lifecycle()
        .unwrap()
}

async fn ids(keys: &dyn KeyLifecycle) -> Vec<String> {
    let mut ids: Vec<String> = keys.list().map_ok(|k| k.id).try_collect().await.unwrap();
    ids.sort();
    ids
}

/// A sandbox with one account of `vendor` in which two keys are due.
struct World {
    sandbox: Sandbox,
    vendor: Vendor,
    accounts: HashMap<String, Box<dyn KeyLifecycle>>,
    /// The keys that were there before the due ones were made.
    seeded: Vec<String>,
    plan: Vec<PlannedRotation>,
    dir: std::path::PathBuf,
}

impl World {
    async fn new(vendor: Vendor) -> World {
        let sandbox = Sandbox::start().await.unwrap();
        let keys = lifecycle(&sandbox, vendor);
        let seeded = ids(keys.as_ref()).await;
        let mut plan = Vec::new();
        for name in ["deploy", "backup"] {
            let created = keys.create(&NewKey::named(name)).await.unwrap();
            plan.push(PlannedRotation {
                account: "acct".into(),
                vendor: vendor.name().into(),
                key: KeyInfo::new(created.key.id).name(name),
                why: vec!["older than 90 days".into()],
            });
        }
        let mut accounts = HashMap::new();
        accounts.insert("acct".to_string(), keys);
        World {
            sandbox,
            vendor,
            accounts,
            seeded,
            plan,
            dir: tempdir(),
        }
    }

    fn keys(&self) -> &dyn KeyLifecycle {
        self.accounts["acct"].as_ref()
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.dir.join("apikeys-rotate.journal")
    }

    /// A run of the whole plan, stopped at `stop` (if any).
    async fn run(&self, sink: &Sink, stop: Option<StopAt>) -> Result<Vec<Outcome>, Abort> {
        let (journal, entries) = Journal::open(&self.journal_path()).unwrap();
        assert!(in_doubt(&entries).is_empty());
        let mut engine = Engine::new(&self.accounts, sink, &journal);
        engine.stop = stop;
        run(&engine, self.plan.clone()).await
    }

    /// A fresh engine resuming from the journal, stopped at `stop` (if any).
    async fn resume(&self, sink: &Sink, stop: Option<StopAt>) -> Result<Vec<Outcome>, Abort> {
        let (journal, entries) = Journal::open(&self.journal_path()).unwrap();
        let mut engine = Engine::new(&self.accounts, sink, &journal);
        engine.stop = stop;
        resume(&engine, &entries).await
    }

    /// Every planned key rotated exactly once: the account holds the seeded keys and one
    /// new key per planned key, each of which authenticates with the secret `delivered`
    /// says it got; the journal holds no secret.
    async fn assert_rotated_once(&self, outcomes: &[Outcome], delivered: &HashMap<String, String>) {
        assert_eq!(outcomes.len(), self.plan.len(), "{outcomes:?}");
        let mut expected = self.seeded.clone();
        for outcome in outcomes {
            assert!(outcome.rotated(), "{outcome:?}");
            expected.push(outcome.new.clone().unwrap());
        }
        expected.sort();
        assert_eq!(
            ids(self.keys()).await,
            expected,
            "no old key left, no key orphaned"
        );
        let journal = std::fs::read_to_string(self.journal_path()).unwrap();
        for outcome in outcomes {
            let new = outcome.new.as_deref().unwrap();
            let secret = delivered
                .get(new)
                .unwrap_or_else(|| panic!("the secret of {new} was not delivered: {delivered:?}"));
            let with_it = target(&self.sandbox, self.vendor, Secret::from(secret.as_str()))
                .lifecycle()
                .unwrap();
            assert!(
                with_it.get(new).await.is_ok(),
                "the delivered secret of {new} works"
            );
        }
        for secret in delivered.values() {
            assert!(
                !journal.contains(secret.as_str()),
                "a secret in the journal"
            );
        }
    }
}

impl World {
    /// What the resume did, from the journal: the steps of the second run (for the
    /// matrix in the README; `cargo test -- --nocapture` prints it).
    fn resumed_by(&self) -> String {
        let journal = std::fs::read_to_string(self.journal_path()).unwrap();
        let lines: Vec<serde_json::Value> = journal
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        let first = lines[0]["run"].clone();
        let steps: Vec<&str> = lines
            .iter()
            .filter(|l| l["run"] != first && l["old"] == lines[0]["old"])
            .map(|l| l["step"].as_str().unwrap())
            .collect();
        steps.join(" ")
    }
}

/// The secrets in a `--secret-dir`, by new key id.
fn secrets_in_dir(dir: &std::path::Path) -> HashMap<String, String> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|entry| {
            let name = entry.unwrap().file_name().into_string().unwrap();
            let id = name
                .strip_prefix("acct.")?
                .strip_suffix(".secret")?
                .to_string();
            let secret = std::fs::read_to_string(dir.join(&name)).unwrap();
            Some((id, secret.trim().to_string()))
        })
        .collect()
}

/// A `--secret-cmd` that records `<key id> <secret>` lines in `record`.
fn recording_command(record: &std::path::Path) -> Sink {
    Sink::Command {
        command: format!(
            "read -r secret; echo \"$APIKEYS_KEY_ID $secret\" >> '{}'",
            record.display()
        ),
        timeout: COMMAND_TIMEOUT,
    }
}

fn recorded(record: &std::path::Path) -> HashMap<String, String> {
    std::fs::read_to_string(record)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (id, secret) = line.split_once(' ')?;
            Some((id.to_string(), secret.to_string()))
        })
        .collect()
}

#[tokio::test]
async fn an_uninterrupted_run_rotates_every_key_once() {
    for vendor in VENDORS {
        let world = World::new(vendor).await;
        let sink = Sink::Dir(world.dir.clone());
        let outcomes = world.run(&sink, None).await.unwrap();
        world
            .assert_rotated_once(&outcomes, &secrets_in_dir(&world.dir))
            .await;
        let journal = std::fs::read_to_string(world.journal_path()).unwrap();
        let steps: Vec<String> = journal
            .lines()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["step"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(
            steps[2..11],
            [
                "create",
                "created",
                "deliver",
                "delivered",
                "confirm",
                "confirmed",
                "revoke",
                "revoked",
                "done"
            ],
            "{journal}"
        );
    }
}

#[tokio::test]
async fn a_run_killed_anywhere_resumes_to_one_rotation_per_key_with_a_secret_dir() {
    for vendor in VENDORS {
        for stop in STOPS {
            let world = World::new(vendor).await;
            let sink = Sink::Dir(world.dir.clone());
            let killed = world.run(&sink, Some(stop)).await;
            assert!(
                matches!(killed, Err(Abort::Killed)),
                "{vendor} {stop:?}: {killed:?}"
            );
            let outcomes = world.resume(&sink, None).await.unwrap();
            world
                .assert_rotated_once(&outcomes, &secrets_in_dir(&world.dir))
                .await;
            eprintln!("secret-dir {vendor} {stop:?}: {}", world.resumed_by());
            // The secret files of discarded keys are gone with them; none is half-written.
            let files: Vec<String> = std::fs::read_dir(&world.dir)
                .unwrap()
                .map(|e| e.unwrap().file_name().into_string().unwrap())
                .filter(|name| name.ends_with(".secret") || name.ends_with(".partial"))
                .collect();
            assert_eq!(files.len(), 2, "{vendor} {stop:?}: {files:?}");
        }
    }
}

#[tokio::test]
async fn a_run_killed_anywhere_resumes_to_one_rotation_per_key_with_a_secret_cmd() {
    for vendor in VENDORS {
        for stop in STOPS {
            let world = World::new(vendor).await;
            let record = world.dir.join("record");
            let sink = recording_command(&record);
            let killed = world.run(&sink, Some(stop)).await;
            assert!(
                matches!(killed, Err(Abort::Killed)),
                "{vendor} {stop:?}: {killed:?}"
            );
            let outcomes = world.resume(&sink, None).await.unwrap();
            world
                .assert_rotated_once(&outcomes, &recorded(&record))
                .await;
            eprintln!("secret-cmd {vendor} {stop:?}: {}", world.resumed_by());
        }
    }
}

#[tokio::test]
async fn a_resume_killed_while_discarding_resumes_again() {
    for vendor in VENDORS {
        for (first, second) in [
            (
                StopAt("deliver", When::Before),
                StopAt("discard", When::Before),
            ),
            (
                StopAt("deliver", When::Before),
                StopAt("discard", When::After),
            ),
            (
                StopAt("create", When::After),
                StopAt("discard", When::After),
            ),
            (StopAt("create", When::After), StopAt("create", When::After)),
        ] {
            let world = World::new(vendor).await;
            let record = world.dir.join("record");
            let sink = recording_command(&record);
            assert!(world.run(&sink, Some(first)).await.is_err());
            let again = world.resume(&sink, Some(second)).await;
            assert!(
                matches!(again, Err(Abort::Killed)),
                "{vendor} {first:?} {second:?}"
            );
            let outcomes = world.resume(&sink, None).await.unwrap();
            world
                .assert_rotated_once(&outcomes, &recorded(&record))
                .await;
        }
    }
}

#[tokio::test]
async fn a_failing_sink_leaves_the_old_key_and_revokes_the_new_one() {
    let world = World::new(Vendor::Automox).await;
    let sink = Sink::Command {
        command: "cat >/dev/null; exit 1".into(),
        timeout: COMMAND_TIMEOUT,
    };
    let before = ids(world.keys()).await;
    let outcomes = world.run(&sink, None).await.unwrap();
    for outcome in &outcomes {
        assert_eq!(
            outcome.failed_step.as_deref(),
            Some("deliver"),
            "{outcome:?}"
        );
        assert!(outcome.works.as_deref().unwrap().contains("still works"));
        assert!(
            world.keys().get(&outcome.old).await.is_ok(),
            "the old key works"
        );
    }
    assert_eq!(ids(world.keys()).await, before, "the new keys are revoked");
    let journal = std::fs::read_to_string(world.journal_path()).unwrap();
    assert_eq!(
        journal.matches(r#""step":"discarded""#).count(),
        2,
        "{journal}"
    );
    // Settled: a new run may start; a resume with a working sink finishes the rotation.
    let (_, entries) = Journal::open(&world.journal_path()).unwrap();
    assert!(in_doubt(&entries).is_empty());
    let record = world.dir.join("record");
    let outcomes = world
        .resume(&recording_command(&record), None)
        .await
        .unwrap();
    world
        .assert_rotated_once(&outcomes, &recorded(&record))
        .await;
}

#[tokio::test]
async fn accounts_rotate_concurrently_and_a_kill_in_one_stops_all() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut accounts = HashMap::new();
    let mut plan = Vec::new();
    let mut seeded = HashMap::new();
    for vendor in VENDORS {
        let keys = lifecycle(&sandbox, vendor);
        seeded.insert(vendor.name(), ids(keys.as_ref()).await);
        for name in ["a", "b"] {
            let created = keys.create(&NewKey::named(name)).await.unwrap();
            plan.push(PlannedRotation {
                account: vendor.name().into(),
                vendor: vendor.name().into(),
                key: KeyInfo::new(created.key.id).name(name),
                why: vec!["due".into()],
            });
        }
        accounts.insert(vendor.name().to_string(), keys);
    }
    let dir = tempdir();
    let path = dir.join("journal");
    let sink = Sink::Dir(dir.clone());
    {
        let (journal, _) = Journal::open(&path).unwrap();
        let mut engine = Engine::new(&accounts, &sink, &journal);
        engine.stop = Some(StopAt("confirm", When::After));
        assert!(matches!(
            run(&engine, plan.clone()).await,
            Err(Abort::Killed)
        ));
    }
    let (journal, entries) = Journal::open(&path).unwrap();
    assert!(
        !in_doubt(&entries).is_empty(),
        "a fresh run must wait for the resume"
    );
    let engine = Engine::new(&accounts, &sink, &journal);
    let outcomes = resume(&engine, &entries).await.unwrap();
    assert_eq!(outcomes.len(), 4);
    for vendor in VENDORS {
        let keys = accounts[vendor.name()].as_ref();
        let mut expected = seeded[vendor.name()].clone();
        expected.extend(
            outcomes
                .iter()
                .filter(|o| o.account == vendor.name())
                .map(|o| o.new.clone().unwrap()),
        );
        expected.sort();
        assert_eq!(ids(keys).await, expected, "{vendor}");
    }
}

#[test]
fn new_names_are_unique_short_and_do_not_grow() {
    let mut plan = PlannedRotation {
        account: "a".into(),
        vendor: "v".into(),
        key: KeyInfo::new("7").name("ci (rotated 0badf00d-1)"),
        why: vec![],
    };
    assert_eq!(unique_name(&plan, "3f9a01b2", 2), "ci (rotated 3f9a01b2-2)");
    plan.key.name = Some("x".repeat(80));
    assert!(unique_name(&plan, "3f9a01b2", 1).chars().count() <= 50);
    plan.key.name = None;
    assert_eq!(unique_name(&plan, "r", 1), "key 7 (rotated r-1)");
}
