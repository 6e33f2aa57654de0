//! Kill-and-resume against the sandbox: a run stopped right after any one of its journal
//! lines, then resumed by a fresh engine from the journal, ends with every key rotated
//! exactly once, every new secret delivered (it authenticates), no key orphaned and no
//! secret in the journal.

use std::collections::HashMap;
use std::time::Duration;

use apikeys_common::{KeyInfo, KeyLifecycle, NewKey, Secret};
use apikeys_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;

use super::*;
use crate::connect::{Scope, Target};
use crate::rotation::journal::Journal;
use crate::rotation::secret_cmd::SecretCmd;
use crate::rotation::sink::{COMMAND_TIMEOUT, Sink};
use crate::rotation::tests::tempdir;

/// Two vendors whose ids differ in shape: UUIDs and numbers.
const VENDORS: [Vendor; 2] = [Vendor::ThingsBoard, Vendor::Automox];

fn target(sandbox: &Sandbox, vendor: Vendor, api_key: Secret) -> Target {
    Target {
        base_url: sandbox.base_url(vendor),
        api_key,
        timeout: Duration::from_secs(10),
        allow_insecure_http: false,
        scope: Scope::demo(sandbox, vendor).unwrap(),
    }
}

fn account(sandbox: &Sandbox, vendor: Vendor) -> Account {
    let credential = sandbox.credential(vendor);
    Account {
        keys: target(sandbox, vendor, credential.clone())
            .lifecycle()
            .unwrap(),
        seal: Seal::new(credential.expose_secret(), vendor.name()),
    }
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
    accounts: HashMap<String, Account>,
    /// The keys that were there before the due ones were made.
    seeded: Vec<String>,
    plan: Vec<PlannedRotation>,
    dir: std::path::PathBuf,
}

impl World {
    /// Two due keys named `names`.
    async fn new(vendor: Vendor, names: [&str; 2]) -> World {
        let sandbox = Sandbox::start().await.unwrap();
        let account = account(&sandbox, vendor);
        let seeded = ids(account.keys.as_ref()).await;
        let mut plan = Vec::new();
        for name in names {
            let created = account.keys.create(&NewKey::named(name)).await.unwrap();
            plan.push(PlannedRotation {
                account: "acct".into(),
                vendor: vendor.name().into(),
                key: KeyInfo::new(created.key.id).name(name),
                why: vec!["older than 90 days".into()],
                lifetime: None,
            });
        }
        let mut accounts = HashMap::new();
        accounts.insert("acct".to_string(), account);
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
        self.accounts["acct"].keys.as_ref()
    }

    fn journal_path(&self) -> std::path::PathBuf {
        self.dir.join("apikeys-rotate.journal")
    }

    /// A run of the whole plan, killed after `kill` journal lines (if any).
    async fn run(&self, sink: &Sink, kill: Option<usize>) -> Result<Vec<Outcome>, Abort> {
        let (journal, _) = Journal::open(&self.journal_path()).unwrap();
        let none = HashMap::new();
        let mut engine = Engine::new(&self.accounts, &none, sink, &journal);
        engine.kill_after = kill;
        engine.run(self.plan.clone()).await
    }

    /// A fresh engine resuming from the journal.
    async fn resume(&self, sink: &Sink) -> Vec<Outcome> {
        let (journal, lines) = Journal::open(&self.journal_path()).unwrap();
        let (open, foreign) = open_rotations(&lines, &self.accounts);
        assert!(foreign.is_empty(), "{foreign:?}");
        let none = HashMap::new();
        let engine = Engine::new(&self.accounts, &none, sink, &journal);
        engine.resume(open).await.unwrap()
    }

    /// Every planned key rotated exactly once: the account holds the seeded keys and one
    /// new key per planned key, each of which authenticates with the secret `delivered`
    /// says it got; the journal holds no secret.
    async fn assert_rotated_once(&self, delivered: &HashMap<String, String>) {
        let (_, lines) = Journal::open(&self.journal_path()).unwrap();
        let (open, _) = open_rotations(&lines, &self.accounts);
        assert!(open.is_empty(), "every rotation is closed: {open:?}");
        let mut expected = self.seeded.clone();
        let done: Vec<String> = lines
            .iter()
            .filter_map(|line| match &line.entry.record {
                Record::Done { new, .. } => Some(new.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(done.len(), self.plan.len(), "one done per key");
        expected.extend(done.iter().cloned());
        expected.sort();
        assert_eq!(
            ids(self.keys()).await,
            expected,
            "no old key left, no key orphaned"
        );
        let journal = std::fs::read_to_string(self.journal_path()).unwrap();
        let authenticates = self.secrets_authenticate().await;
        for new in done.iter().filter(|_| authenticates) {
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

    /// Whether a new key's secret is a credential of this vendor's API (a Nuki API key's
    /// is not: its tokens are): a probe key is created, tried and revoked.
    async fn secrets_authenticate(&self) -> bool {
        let probe = self.keys().create(&NewKey::named("probe")).await.unwrap();
        let with_it = target(&self.sandbox, self.vendor, probe.secret.clone())
            .lifecycle()
            .unwrap();
        let works = with_it.list().try_next().await.is_ok();
        self.keys().revoke(&probe.key.id).await.unwrap();
        works
    }

    fn lines(&self) -> usize {
        std::fs::read_to_string(self.journal_path())
            .unwrap()
            .lines()
            .count()
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
    Sink::Command(SecretCmd::new(
        &format!(
            "read -r secret; echo \"$APIKEYS_KEY_ID $secret\" >> '{}'",
            record.display()
        ),
        COMMAND_TIMEOUT,
    ))
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
        let world = World::new(vendor, ["deploy", "backup"]).await;
        let sink = Sink::Dir(world.dir.clone());
        let outcomes = world.run(&sink, None).await.unwrap();
        assert!(outcomes.iter().all(Outcome::rotated), "{outcomes:?}");
        world.assert_rotated_once(&secrets_in_dir(&world.dir)).await;
    }
}

// issue 22, case 1: two due keys with equal names (or names equal in their first 28
// characters) are two rotations, each with its own marker: neither touches the other's key.
#[tokio::test]
async fn keys_with_equal_names_rotate_each_once() {
    let long = "a name that is longer than twenty-eight characters";
    for names in [["ci", "ci"], [long, long]] {
        let world = World::new(Vendor::ThingsBoard, names).await;
        let sink = Sink::Dir(world.dir.clone());
        let outcomes = world.run(&sink, None).await.unwrap();
        assert!(outcomes.iter().all(Outcome::rotated), "{outcomes:?}");
        world.assert_rotated_once(&secrets_in_dir(&world.dir)).await;
        // Killed after the second create's line, then resumed: still one each.
        let world = World::new(Vendor::ThingsBoard, names).await;
        let kill = 12;
        assert!(world.run(&sink_of(&world), Some(kill)).await.is_err());
        world.resume(&sink_of(&world)).await;
        world.assert_rotated_once(&secrets_in_dir(&world.dir)).await;
    }
}

fn sink_of(world: &World) -> Sink {
    Sink::Dir(world.dir.clone())
}

/// The kill matrix: a run killed right after each of its journal lines in turn, for each
/// sink, then resumed.
#[tokio::test]
async fn a_run_killed_after_any_journal_line_resumes_to_one_rotation_per_key() {
    for vendor in VENDORS {
        for command in [false, true] {
            let sink_for = |world: &World| {
                if command {
                    recording_command(&world.dir.join("delivered"))
                } else {
                    sink_of(world)
                }
            };
            let clean = World::new(vendor, ["deploy", "backup"]).await;
            clean.run(&sink_for(&clean), None).await.unwrap();
            let lines = clean.lines();
            for kill in 1..lines {
                let world = World::new(vendor, ["deploy", "backup"]).await;
                let sink = sink_for(&world);
                let killed = world.run(&sink, Some(kill)).await;
                assert!(killed.is_err(), "{vendor:?} kill after line {kill}");
                world.resume(&sink).await;
                let delivered = if command {
                    recorded(&world.dir.join("delivered"))
                } else {
                    secrets_in_dir(&world.dir)
                };
                world.assert_rotated_once(&delivered).await;
            }
            eprintln!(
                "{vendor:?}, {}: killed after each of {} lines, resumed",
                if command {
                    "--secret-cmd"
                } else {
                    "--secret-dir"
                },
                lines - 1
            );
        }
    }
}

// issue 22, case 10: a run whose journal fails stops, and still returns what it did.
#[tokio::test]
async fn a_journal_failure_keeps_the_report_of_what_was_done() {
    let clean = World::new(Vendor::ThingsBoard, ["deploy", "backup"]).await;
    clean.run(&sink_of(&clean), None).await.unwrap();
    let last = clean.lines();
    let world = World::new(Vendor::ThingsBoard, ["deploy", "backup"]).await;
    // The write of the second rotation's last line fails.
    let abort = world
        .run(&sink_of(&world), Some(last - 1))
        .await
        .unwrap_err();
    assert_eq!(abort.outcomes.len(), 1, "{abort:?}");
    assert!(abort.outcomes[0].rotated(), "{abort:?}");
    assert!(abort.to_string().contains("--resume"), "{abort}");
}

// issue 22, case 6: a line sealed for another credential (another user's, another
// configuration's account of the same name) is ignored: the key it names is untouched.
#[tokio::test]
async fn forged_journal_lines_touch_no_key() {
    let world = World::new(Vendor::ThingsBoard, ["deploy", "backup"]).await;
    let victim = world.plan[0].key.id.clone();
    {
        let (journal, _) = Journal::open(&world.journal_path()).unwrap();
        let forger = Seal::new("not-the-credential", Vendor::ThingsBoard.name());
        let entry = |record| Entry {
            at: Utc::now(),
            run: "forged".into(),
            account: "acct".into(),
            old: victim.clone(),
            record,
        };
        let plan = Plan {
            account: AccountId::default(),
            old: victim.clone(),
            name: None,
            why: vec![],
            expires_at: None,
            nonce: "forgedaaaa".into(),
            abilities: Abilities {
                name_chars: None,
                disable: false,
                rename: false,
            },
            overlap: Overlap::default(),
        };
        journal
            .append(
                &forger,
                &[
                    entry(Record::Plan(plan)),
                    entry(Record::Checked),
                    entry(Record::Created {
                        new: victim.clone(),
                    }),
                ],
            )
            .unwrap();
    }
    let (_, lines) = Journal::open(&world.journal_path()).unwrap();
    let (open, foreign) = open_rotations(&lines, &world.accounts);
    assert!(open.is_empty());
    assert_eq!(foreign, vec![1, 2, 3]);
    assert!(
        ids(world.keys()).await.contains(&victim),
        "the victim is untouched"
    );
}

/// With an overlap, the old key keeps working until it is due; a later run retires it:
/// disabled, then revoked where the vendor can disable keys, revoked where it cannot. Every
/// vendor, whatever its keys allow.
#[tokio::test]
async fn an_overlap_keeps_the_old_key_until_a_later_run() {
    for &vendor in Vendor::ALL {
        let world = World::new(vendor, ["deploy", "backup"]).await;
        let disables = world.keys().abilities().disable;
        let sink = sink_of(&world);
        let (journal, _) = Journal::open(&world.journal_path()).unwrap();
        let none = HashMap::new();
        let engine = Engine::new(&world.accounts, &none, &sink, &journal).overlap(Overlap {
            overlap: TimeDelta::milliseconds(300),
            disabled_for: TimeDelta::milliseconds(300),
        });
        let outcomes = engine.run(world.plan.clone()).await.unwrap();
        assert!(
            outcomes.iter().all(|o| o.status == "retiring"),
            "{outcomes:?}"
        );
        for planned in &world.plan {
            let old = world.keys().get(&planned.key.id).await;
            assert!(
                old.unwrap().enabled != Some(false),
                "{vendor:?}: working during the overlap"
            );
        }
        drop(journal);
        tokio::time::sleep(Duration::from_millis(400)).await;
        let outcomes = world.resume(&sink).await;
        if disables {
            assert!(
                outcomes.iter().all(|o| o.status == "retiring"),
                "{outcomes:?}"
            );
            for planned in &world.plan {
                let old = world.keys().get(&planned.key.id).await.unwrap();
                assert_eq!(
                    old.enabled,
                    Some(false),
                    "{vendor:?}: disabled after the overlap"
                );
            }
            tokio::time::sleep(Duration::from_millis(400)).await;
            let outcomes = world.resume(&sink).await;
            assert!(
                outcomes.iter().all(|o| o.status == "rotated"),
                "{outcomes:?}"
            );
        } else {
            assert!(
                outcomes.iter().all(|o| o.status == "rotated"),
                "{vendor:?}: {outcomes:?}"
            );
        }
        world.assert_rotated_once(&secrets_in_dir(&world.dir)).await;
    }
}
