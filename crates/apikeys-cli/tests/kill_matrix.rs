//! issue 22, "Proof", process level: the real `apikeys rotate --due --apply` SIGKILLed
//! right after each of its journal lines (the `APIKEYS_TEST_KILL_AFTER_JOURNAL_LINES`
//! hook), for each sink, with and without an overlap, then resumed, against a sandbox whose
//! first ThingsBoard create commits then loses its answer and whose first balena revoke
//! answers 503. After every scenario the invariants are checked through the vendors' own
//! listings and by authenticating with every delivered secret.
//!
//! ThingsBoard can disable keys, balena cannot; both accounts are in one configuration and
//! rotate one after the other (`--concurrency 1`), so a line number names the same step in
//! every run and the kills cover both vendors' lines.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use apikeys_common::{KeyInfo, KeyLifecycle, NewKey, RetryPolicy};
use apikeys_sandbox::{Fault, FaultRule, Vendor};
use chrono::{DateTime, Utc};
use common::{Running, apikeys, tempdir, text};
use futures::TryStreamExt;
use serde_json::Value;

/// The marker every key the tool creates carries in its name.
const MARKER: &str = "~ak1.";
/// Long enough for a scenario's first runs (each world's, on a loaded machine) to end
/// inside the overlap, short enough to wait once per scenario.
const OVERLAP: [&str; 4] = ["--overlap", "6s", "--disabled-for", "2s"];
/// Past the overlap and the disabled time, for the later run.
const RETIRED_AFTER: Duration = Duration::from_millis(8_500);
/// How many runs may follow the first to finish what it left (a kill, a failed revoke).
const SETTLE_RUNS: usize = 5;
/// How many times the binary's client sends a call that fails with a 503.
const ATTEMPTS: u64 = 3;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Acct {
    Tb,
    Bal,
}

const ACCOUNTS: [Acct; 2] = [Acct::Tb, Acct::Bal];

impl Acct {
    fn vendor(self) -> Vendor {
        match self {
            Acct::Tb => Vendor::ThingsBoard,
            Acct::Bal => Vendor::Balena,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Acct::Tb => "tb",
            Acct::Bal => "bal",
        }
    }

    fn env(self) -> &'static str {
        match self {
            Acct::Tb => "TEST_TB_KEY",
            Acct::Bal => "TEST_BAL_KEY",
        }
    }
}

/// A key the test created, with its secret.
#[derive(Clone, Debug)]
struct Held {
    acct: Acct,
    id: String,
    secret: String,
}

#[derive(Clone, Copy, Debug)]
struct Scenario {
    dir_sink: bool,
    overlap: bool,
}

impl Scenario {
    fn label(self) -> String {
        format!(
            "{} {}",
            if self.dir_sink {
                "--secret-dir"
            } else {
                "--secret-cmd"
            },
            if self.overlap {
                "--overlap 6s --disabled-for 2s"
            } else {
                "no overlap"
            }
        )
    }
}

/// One sandbox and configuration, seeded with a due key and a bystander of the same name
/// in each account.
struct World {
    sandbox: Running,
    /// Where the test's own calls to the vendors run.
    runtime: tokio::runtime::Runtime,
    config: PathBuf,
    journal: PathBuf,
    secrets: PathBuf,
    due: Vec<Held>,
    bystanders: Vec<Held>,
    /// The ids each account listed before anything rotated.
    before: Vec<(Acct, BTreeSet<String>)>,
    /// The journal line to kill after, counted over every run of the scenario.
    kill: Option<usize>,
    killed: bool,
    /// Invariant 1 right after the kill, before any resume.
    after_kill: Result<(), String>,
    /// Journal lines before each run's kill was computed.
    log: Vec<String>,
}

impl World {
    fn start(kill: Option<usize>, faults: bool) -> World {
        let sandbox = Running::start();
        let dir = tempdir();
        let secrets = dir.join("secrets");
        std::fs::create_dir_all(&secrets).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "[[account]]\nname = \"tb\"\nvendor = \"thingsboard\"\nbase-url = \"{}\"\n\
                 scope = {{ user-id = \"{}\" }}\ncredential = {{ env = \"TEST_TB_KEY\" }}\n\n\
                 [[account]]\nname = \"bal\"\nvendor = \"balena\"\nbase-url = \"{}\"\n\
                 credential = {{ env = \"TEST_BAL_KEY\" }}\n",
                sandbox.base_url(Vendor::ThingsBoard),
                sandbox.scopes().thingsboard.user_id,
                sandbox.base_url(Vendor::Balena),
            ),
        )
        .unwrap();
        let mut world = World {
            sandbox,
            runtime: tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap(),
            journal: dir.join("journal"),
            config,
            secrets,
            due: Vec::new(),
            bystanders: Vec::new(),
            before: Vec::new(),
            kill,
            killed: false,
            after_kill: Ok(()),
            log: Vec::new(),
        };
        let tomorrow = Utc::now() + chrono::TimeDelta::days(1);
        for acct in ACCOUNTS {
            // The bystander has the due key's name: names identify nothing.
            let due = world.create(acct, "deploy", Some(tomorrow));
            let bystander = world.create(acct, "deploy", None);
            world.due.push(due);
            world.bystanders.push(bystander);
            let ids = world.list(acct).into_iter().map(|(id, _)| id).collect();
            world.before.push((acct, ids));
        }
        if faults {
            world
                .sandbox
                .set_faults([
                    // The first ThingsBoard create happens, its answer is lost.
                    FaultRule::new(Vendor::ThingsBoard, "create", Fault::CommitThenDrop).first(1),
                    // The first balena revoke is refused (all three attempts of the client).
                    FaultRule::new(
                        Vendor::Balena,
                        "revoke",
                        Fault::status_with_retry_after(503, "0"),
                    )
                    .first(ATTEMPTS),
                ])
                .unwrap();
        }
        world
    }

    fn credential(&self, acct: Acct) -> String {
        self.sandbox
            .credential(acct.vendor())
            .expose_secret()
            .to_string()
    }

    /// The account's keys through the vendor crate, authenticated with `key`.
    fn keys(&self, acct: Acct, key: &str) -> Box<dyn KeyLifecycle> {
        let url = self.sandbox.base_url(acct.vendor());
        match acct {
            Acct::Tb => Box::new(thingsboard_apikeys::KeyScope::new(
                thingsboard_apikeys::Client::builder(url)
                    .api_key(key)
                    .retry(RetryPolicy::disabled())
                    .build()
                    .unwrap(),
                self.sandbox.scopes().thingsboard.user_id,
            )),
            Acct::Bal => Box::new(balena_apikeys::KeyScope::new(
                balena_apikeys::Client::builder(url)
                    .api_key(key)
                    .retry(RetryPolicy::disabled())
                    .build()
                    .unwrap(),
            )),
        }
    }

    fn create(&self, acct: Acct, name: &str, expires_at: Option<DateTime<Utc>>) -> Held {
        let keys = self.keys(acct, &self.credential(acct));
        let created = self
            .runtime
            .block_on(keys.create(&NewKey::named(name).expires_at(expires_at)))
            .unwrap();
        Held {
            acct,
            id: created.key.id,
            secret: created.secret.expose_secret().to_string(),
        }
    }

    /// The account's keys, (id, name), as the vendor lists them.
    fn list(&self, acct: Acct) -> Vec<(String, String)> {
        let keys = self.keys(acct, &self.credential(acct));
        let listed: Vec<KeyInfo> = self.runtime.block_on(keys.list().try_collect()).unwrap();
        listed
            .into_iter()
            .map(|k| (k.id, k.name.unwrap_or_default()))
            .collect()
    }

    /// Whether `secret` authenticates at the vendor (reading the key `id`).
    fn works(&self, acct: Acct, id: &str, secret: &str) -> bool {
        let keys = self.keys(acct, secret);
        self.runtime.block_on(keys.get(id)).is_ok()
    }

    fn sink(&self, scenario: Scenario) -> Vec<String> {
        if scenario.dir_sink {
            vec!["--secret-dir".into(), self.secrets.display().to_string()]
        } else {
            let store = format!(
                "cat > '{}'/\"$APIKEYS_KEY_ID\".secret",
                self.secrets.display()
            );
            vec!["--secret-cmd".into(), store]
        }
    }

    fn lines(&self) -> usize {
        std::fs::read_to_string(&self.journal)
            .map(|t| t.lines().count())
            .unwrap_or(0)
    }

    /// `apikeys rotate <args>`, killed at the scenario's kill line if it falls in this run.
    fn rotate(&mut self, scenario: Scenario, args: &[&str]) -> std::process::Output {
        let mut cmd = apikeys();
        cmd.arg("rotate")
            .args(args)
            .args(self.sink(scenario))
            .args(["--journal", &self.journal.display().to_string()])
            .args(["--expiring-within", "7d", "--lifetime", "90d"])
            .args(["--concurrency", "1"])
            .arg("--config")
            .arg(&self.config);
        if scenario.overlap && !args.contains(&"--resume") {
            cmd.args(OVERLAP);
        }
        for acct in ACCOUNTS {
            cmd.env(acct.env(), self.credential(acct));
        }
        let before = self.lines();
        if let Some(n) = self.kill.filter(|n| !self.killed && *n > before) {
            cmd.env(
                "APIKEYS_TEST_KILL_AFTER_JOURNAL_LINES",
                (n - before).to_string(),
            );
        }
        let started = Instant::now();
        let out = cmd.output().unwrap();
        let took = started.elapsed();
        if out.status.code().is_none() {
            self.killed = true;
            self.after_kill = self.holding();
        }
        let stderr = text(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        self.log.push(format!(
            "{} (after line {before}, {took:.1?}) -> {:?}: {} {}",
            args.join(" "),
            out.status.code(),
            text(&out.stdout).trim(),
            stderr.trim()
        ));
        out
    }

    /// A run of `--due --apply`; while a run fails, `--resume` (what the journal leaves
    /// open) and a fresh `--due --apply` (what failed and is still due), as cron would.
    fn apply_and_settle(&mut self, scenario: Scenario) {
        let mut ok = self
            .rotate(scenario, &["--due", "--apply"])
            .status
            .success();
        for _ in 0..SETTLE_RUNS {
            if ok {
                return;
            }
            ok = self.rotate(scenario, &["--resume"]).status.success()
                && self
                    .rotate(scenario, &["--due", "--apply"])
                    .status
                    .success();
        }
    }

    /// The secret delivered for key `id`, by either sink.
    fn delivered(&self, acct: Acct, id: &str) -> Option<String> {
        [
            format!("{}.{id}.secret", acct.name()),
            format!("{id}.secret"),
        ]
        .iter()
        .find_map(|name| std::fs::read_to_string(self.secrets.join(name)).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
    }

    /// Invariant 1 at any moment: per account, the old key works, or a key of the tool's
    /// works with the secret delivered for it.
    fn holding(&self) -> Result<(), String> {
        for due in &self.due {
            let acct = due.acct;
            if self.works(acct, &due.id, &due.secret) {
                continue;
            }
            let delivered = self.list(acct).iter().any(|(id, name)| {
                name.contains(MARKER)
                    && self
                        .delivered(acct, id)
                        .is_some_and(|secret| self.works(acct, id, &secret))
            });
            if !delivered {
                return Err(format!(
                    "{}: after the kill, neither the old key nor a delivered new key works",
                    acct.name()
                ));
            }
        }
        Ok(())
    }

    /// Every invariant of issue 22's "Proof"; `retiring`: the old keys are in their overlap.
    fn check(&self, retiring: bool) -> Result<(), String> {
        for acct in ACCOUNTS {
            let listed = self.list(acct);
            let ids: BTreeSet<&str> = listed.iter().map(|(id, _)| id.as_str()).collect();
            let due = self.due.iter().find(|h| h.acct == acct).unwrap();
            let bystander = self.bystanders.iter().find(|h| h.acct == acct).unwrap();
            let before = &self.before.iter().find(|(a, _)| *a == acct).unwrap().1;
            // 3: nothing but the planned old key and the tool's own keys was touched.
            for id in before.iter().filter(|id| **id != due.id) {
                if !ids.contains(id.as_str()) {
                    return Err(format!("{}: key {id} (not planned) is gone", acct.name()));
                }
            }
            if !self.works(acct, &bystander.id, &bystander.secret) {
                return Err(format!(
                    "{}: the bystander of the same name stopped working",
                    acct.name()
                ));
            }
            // 2: no key beyond the seeded ones and the tool's marked ones.
            let new: Vec<&(String, String)> = listed
                .iter()
                .filter(|(id, _)| !before.contains(id))
                .collect();
            if let Some((id, name)) = new.iter().find(|(_, name)| !name.contains(MARKER)) {
                return Err(format!("{}: unmarked new key {id} `{name}`", acct.name()));
            }
            // 4, and 1 for a finished run: exactly one new key per rotation survives.
            if new.len() != 1 {
                return Err(format!(
                    "{}: {} new keys survive: {new:?}",
                    acct.name(),
                    new.len()
                ));
            }
            // 2 and 1: the new key was delivered, and its delivered secret works.
            let id = &new[0].0;
            let Some(secret) = self.delivered(acct, id) else {
                return Err(format!(
                    "{}: new key {id} is live but was never delivered",
                    acct.name()
                ));
            };
            if !self.works(acct, id, &secret) {
                return Err(format!(
                    "{}: the delivered secret of {id} does not work",
                    acct.name()
                ));
            }
            let old_listed = ids.contains(due.id.as_str());
            if retiring {
                if !old_listed || !self.works(acct, &due.id, &due.secret) {
                    return Err(format!(
                        "{}: the old key stopped working in its overlap",
                        acct.name()
                    ));
                }
            } else if old_listed {
                return Err(format!(
                    "{}: the old key {} was not revoked",
                    acct.name(),
                    due.id
                ));
            }
        }
        // 5: no delivered secret (nor a staged one) in the journal.
        let journal = std::fs::read_to_string(&self.journal).unwrap_or_default();
        for entry in std::fs::read_dir(&self.secrets).unwrap() {
            let path = entry.unwrap().path();
            let secret = std::fs::read_to_string(&path).unwrap_or_default();
            let secret = secret.trim();
            if !secret.is_empty() && journal.contains(secret) {
                return Err(format!(
                    "the secret of {} is in the journal",
                    path.display()
                ));
            }
        }
        Ok(())
    }
}

/// Runs `scenario` on fresh worlds, one per kill line (none: the clean run), and returns
/// each world's outcome.
type Played = (Option<usize>, World, Result<(), String>);

/// Runs `f` on each item, in two threads: most of a world's time is spent waiting on its
/// processes and the sandbox.
fn in_two<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let half = items.len().div_ceil(2);
    let mut items = items;
    let second = items.split_off(half);
    std::thread::scope(|scope| {
        let f = &f;
        let other = scope.spawn(move || second.into_iter().map(f).collect::<Vec<R>>());
        let mut done: Vec<R> = items.into_iter().map(f).collect();
        done.extend(other.join().unwrap());
        done
    })
}

fn play(scenario: Scenario, kills: &[Option<usize>]) -> Vec<Played> {
    let worlds = in_two(kills.to_vec(), |kill| {
        let mut world = World::start(kill, true);
        world.apply_and_settle(scenario);
        let result = world.check(scenario.overlap);
        let result = world.after_kill.clone().and(result);
        (kill, world, result)
    });
    if !scenario.overlap {
        return worlds;
    }
    // One wait for every world: then a later run retires the old keys.
    std::thread::sleep(RETIRED_AFTER);
    in_two(worlds, |(kill, mut world, result)| {
        world.apply_and_settle(scenario);
        let result = result
            .and_then(|()| world.check(false))
            .and_then(|()| world.after_kill.clone());
        (kill, world, result)
    })
}

fn scenario(scenario: Scenario) {
    let start = Instant::now();
    let clean = play(scenario, &[None]);
    let (_, world, result) = &clean[0];
    assert_eq!(*result, Ok(()), "clean run: {:#?}", world.log);
    let lines = world.lines();
    for run in &world.log {
        let run = run.split_once(": ").map_or(run.as_str(), |(run, _)| run);
        eprintln!("kill matrix | {} | clean: {run}", scenario.label());
    }
    let journal = std::fs::read_to_string(&world.journal).unwrap();
    // The faults were met: the lost create was found by its marker and discarded, and the
    // refused revoke left the rotation for a later run.
    assert!(journal.contains(r#""step":"found""#), "{journal}");
    assert!(journal.contains(r#""step":"discarded""#), "{journal}");
    // Where the vendor can, the old key was disabled before it was revoked; balena cannot.
    let disabled = |account: &str| {
        journal.lines().any(|line| {
            line.contains(&format!(r#""account":"{account}""#))
                && line.contains(r#""step":"disabled""#)
        })
    };
    assert_eq!(disabled("tb"), scenario.overlap, "{journal}");
    assert!(!disabled("bal"), "{journal}");
    let fired: Vec<u64> = world.sandbox.faults().iter().map(|f| f.fired).collect();
    assert_eq!(fired, [1, ATTEMPTS], "{:?}", world.sandbox.faults());
    // Every ThingsBoard line, every other balena line: the file stays within a minute or
    // two on two cores.
    let mut balena = 0;
    let kills: Vec<Option<usize>> = journal
        .lines()
        .enumerate()
        .filter(|(_, line)| {
            if line.contains(r#""account":"tb""#) {
                return true;
            }
            balena += 1;
            balena % 2 == 1
        })
        .map(|(i, _)| Some(i + 1))
        .collect();
    let played = play(scenario, &kills);
    let failed: Vec<String> = played
        .iter()
        .filter_map(|(kill, world, result)| {
            result
                .as_ref()
                .err()
                .map(|why| format!("kill after line {kill:?}: {why}\n  runs: {:#?}", world.log))
        })
        .collect();
    let killed = played.iter().filter(|(_, w, _)| w.killed).count();
    eprintln!(
        "kill matrix | {} | {lines} lines | {killed} kills (every ThingsBoard line, every \
         other balena line) | {} | {:.1?}",
        scenario.label(),
        if failed.is_empty() {
            "all invariants hold".to_string()
        } else {
            format!("{} failed", failed.len())
        },
        start.elapsed()
    );
    assert_eq!(killed, kills.len(), "every kill happened");
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

// issue 22, Proof (process level): --secret-dir, the old key revoked at once.
#[test]
fn killed_at_every_line_secret_dir() {
    scenario(Scenario {
        dir_sink: true,
        overlap: false,
    });
}

// issue 22, Proof (process level): --secret-cmd, the old key revoked at once.
#[test]
fn killed_at_every_line_secret_cmd() {
    scenario(Scenario {
        dir_sink: false,
        overlap: false,
    });
}

// issue 22, Proof (process level): --secret-dir with an overlap finished by a later run.
#[test]
fn killed_at_every_line_secret_dir_overlap() {
    scenario(Scenario {
        dir_sink: true,
        overlap: true,
    });
}

// issue 22, Proof (process level): --secret-cmd with an overlap finished by a later run.
#[test]
fn killed_at_every_line_secret_cmd_overlap() {
    scenario(Scenario {
        dir_sink: false,
        overlap: true,
    });
}

fn staged_line(journal: &Path) -> Option<(usize, Value)> {
    let text = std::fs::read_to_string(journal).ok()?;
    text.lines().enumerate().find_map(|(i, line)| {
        let (_, json) = line.split_once(' ')?;
        let entry: Value = serde_json::from_str(json).ok()?;
        (entry["record"]["step"] == "staged").then_some((i + 1, entry))
    })
}

fn account_of(entry: &Value) -> Acct {
    if entry["account"] == "tb" {
        Acct::Tb
    } else {
        Acct::Bal
    }
}

fn live(world: &World, acct: Acct, id: &str) -> bool {
    world.list(acct).iter().any(|(listed, _)| listed == id)
}

// issue 22, case 7: a kill between staging the secret file and linking its final name,
// then a file planted at the final name, then `--resume`.
#[test]
fn a_file_planted_at_the_final_name_after_a_kill_is_not_a_delivery() {
    let scenario = Scenario {
        dir_sink: true,
        overlap: false,
    };
    let mut clean = World::start(None, false);
    assert!(
        clean
            .rotate(scenario, &["--due", "--apply"])
            .status
            .success()
    );
    let (n, _) = staged_line(&clean.journal).expect("a staged line");

    let mut world = World::start(Some(n), false);
    world.rotate(scenario, &["--due", "--apply"]);
    assert!(world.killed, "{:?}", world.log);
    let (_, entry) = staged_line(&world.journal).unwrap();
    let acct = account_of(&entry);
    let new = entry["record"]["new"].as_str().unwrap().to_string();
    let to = PathBuf::from(entry["record"]["staged"]["to"].as_str().unwrap());
    let name = to.file_name().unwrap().to_string_lossy().into_owned();
    let partial = to.with_file_name(format!(".{name}.partial"));
    let staged = std::fs::read_to_string(&partial).expect("the staged file");
    assert!(
        world.works(acct, &new, staged.trim()),
        "the staged secret is live"
    );
    assert!(!to.exists());
    std::fs::write(&to, "planted\n").unwrap();

    // The planted file is no delivery: the new key is discarded. Its revoke is refused
    // once, so the key stays live, and its staged file (the only copy of its secret) stays.
    world
        .sandbox
        .set_faults([FaultRule::new(
            acct.vendor(),
            "revoke",
            Fault::status_with_retry_after(503, "0"),
        )
        .first(ATTEMPTS)])
        .unwrap();
    let out = world.rotate(scenario, &["--resume"]);
    assert!(!out.status.success(), "{:?}", world.log);
    assert!(live(&world, acct, &new), "the refused revoke left the key");
    assert_eq!(
        std::fs::read_to_string(&partial).ok().as_deref(),
        Some(staged.as_str()),
        "the .partial of a live key was deleted"
    );
    let due = world.due.iter().find(|h| h.acct == acct).unwrap().clone();
    assert!(
        world.works(acct, &due.id, &due.secret),
        "the old key was revoked without a delivery"
    );

    // Later runs finish: the key discarded (revoked), the rotation redone and delivered.
    world.kill = None;
    for _ in 0..SETTLE_RUNS {
        if world.rotate(scenario, &["--resume"]).status.success() {
            break;
        }
    }
    assert!(
        !live(&world, acct, &new),
        "the undelivered key was not revoked"
    );
    assert_eq!(std::fs::read_to_string(&to).unwrap(), "planted\n");
    // The resumed run redid the rotation with a new key once the discard went through (and
    // a later `--due --apply` finds nothing left to do).
    world.apply_and_settle(scenario);
    assert_eq!(
        world.check(false),
        Ok(()),
        "{:#?}\n{}",
        world.log,
        std::fs::read_to_string(&world.journal).unwrap_or_default()
    );
    // The old key was revoked only after the key that replaced it was delivered.
    let journal = std::fs::read_to_string(&world.journal).unwrap();
    let steps: Vec<Value> = journal
        .lines()
        .filter_map(|line| serde_json::from_str(line.split_once(' ')?.1).ok())
        .filter(|e: &Value| account_of(e) == acct)
        .collect();
    let step = |name: &str| steps.iter().position(|e| e["record"]["step"] == name);
    let discarded = steps
        .iter()
        .position(|e| e["record"]["step"] == "discarded" && e["record"]["new"] == new.as_str())
        .expect("the planted file's key discarded");
    let delivered = step("delivered").expect("a delivery");
    assert!(delivered > discarded, "{journal}");
    assert_ne!(steps[delivered]["record"]["new"], new.as_str());
    assert!(
        step("revoked").expect("the old key revoked") > delivered,
        "{journal}"
    );
}
