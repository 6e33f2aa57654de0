//! The rotation driver: performs what the [`super::protocol`] asks for (list,
//! create, deliver, confirm, rename, disable, revoke) and feeds the results back, each
//! record journaled and synced before it is applied. A run and a resumed run are the same
//! loop: resuming folds the journal's records into each rotation first.
//!
//! Journal lines are sealed per account (see [`super::journal`]): `--resume` uses only the
//! lines its configuration wrote, for the accounts it can reach.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use apikeys_common::{CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey};
use chrono::{DateTime, TimeDelta, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::journal::{Entry, Journal, JournalError, Line, Seal};
use super::protocol::{
    self, Abilities, AccountId, Action, Call, Overlap, Plan, Record, Reply, Rotation,
};
use super::sink::{Delivery, Sink};

#[cfg(test)]
mod tests;

/// How many accounts rotate at once unless told (keys of one account go one after another).
pub const CONCURRENT_ACCOUNTS: usize = 4;

/// The variable that makes the binary kill itself (SIGKILL) right after writing that many
/// journal lines: the process-level crash tests' hook. Nothing else reads it.
pub const KILL_AFTER_LINES: &str = "APIKEYS_TEST_KILL_AFTER_JOURNAL_LINES";

/// A key the policy says is due, in the account it belongs to.
#[derive(Clone, Debug)]
pub struct PlannedRotation {
    /// The account's name.
    pub account: String,
    /// The account's vendor.
    pub vendor: String,
    /// The key to replace.
    pub key: KeyInfo,
    /// Why it is due.
    pub why: Vec<String>,
    /// How long the new key lives; `None`: as long as the old key did.
    pub lifetime: Option<TimeDelta>,
}

impl PlannedRotation {
    /// The old key's lifetime (expiry minus creation), when it had one.
    pub fn old_lifetime(&self) -> Option<TimeDelta> {
        let lifetime = self
            .key
            .expires_at?
            .signed_duration_since(self.key.created_at?);
        (lifetime > TimeDelta::zero()).then_some(lifetime)
    }

    /// The expiry of the key that replaces this one: [`PlannedRotation::lifetime`] (else
    /// the old key's lifetime) from now; none when neither is known (or it ends past the
    /// end of time, which no vendor could store anyway).
    pub fn new_expiry(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        now.checked_add_signed(self.lifetime.or_else(|| self.old_lifetime())?)
    }
}

/// A key whose name carries a retirement tag (see [`protocol::tag_in`]), found in an
/// account's listing while the key it names is still there.
#[derive(Clone, Debug)]
pub struct Found {
    /// The account.
    pub account: String,
    /// The tag.
    pub tag: protocol::Tag,
    /// The tagged (new) key.
    pub new: String,
    /// The old key's name.
    pub old_name: Option<String>,
}

/// The retirements `keys` (one account's listing) describe: tagged keys that still work
/// whose old key is still listed.
pub fn found_in(account: &str, keys: &[KeyInfo]) -> Vec<Found> {
    keys.iter()
        .filter(|key| key.enabled != Some(false))
        .filter_map(|key| {
            let tag = protocol::tag_in(key.name.as_deref()?)?;
            let old = keys
                .iter()
                .find(|old| old.id == tag.old && old.id != key.id)?;
            Some(Found {
                account: account.to_string(),
                old_name: old.name.clone(),
                tag,
                new: key.id.clone(),
            })
        })
        .collect()
}

/// One account a run can act on: its lifecycle, and the seal of its journal lines.
pub struct Account {
    /// The vendor's key lifecycle in the account's scope.
    pub keys: Box<dyn KeyLifecycle>,
    /// The account's journal seal.
    pub seal: Seal,
}

/// How one key's rotation ended (or stands).
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The account.
    pub account: String,
    /// The key that was to be replaced.
    pub old: String,
    /// Its name.
    pub name: Option<String>,
    /// `rotated`, `retiring` (the old key still works until its overlap ends), `failed`,
    /// or `unfinished` (the run could not go on: `--resume` continues it).
    pub status: &'static str,
    /// The new key, when there is one that works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Where the new key's secret went (a path or `secret-cmd`), never the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_at: Option<String>,
    /// When the old key's next retirement step is due, while it is `retiring`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub retires_at: Option<DateTime<Utc>>,
    /// The step that failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed_step: Option<String>,
    /// Why.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Which key still works, after a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub works: Option<String>,
}

impl Outcome {
    /// Whether the key was rotated (or is, with its old key retiring on schedule).
    pub fn rotated(&self) -> bool {
        matches!(self.status, "rotated" | "retiring")
    }
}

/// Why a run stopped before every key was dealt with, and what it did until then.
#[derive(Debug)]
pub struct Abort {
    /// The journal could not be written: no further step may be taken.
    pub error: JournalError,
    /// The rotations that ended before it.
    pub outcomes: Vec<Outcome>,
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}; run again with --resume", self.error)
    }
}

/// One run: its id, the accounts, the sink and the journal.
pub struct Engine<'a> {
    run: String,
    accounts: &'a HashMap<String, Account>,
    /// Accounts of the configuration that could not be set up, with why.
    unreachable: &'a HashMap<String, String>,
    sink: &'a Sink,
    journal: &'a Journal,
    concurrency: usize,
    overlap: Overlap,
    /// Set when the journal failed: every rotation stops at its next record.
    stopped: AtomicBool,
    lines: AtomicUsize,
    kill_after: Option<usize>,
}

/// A rotation the journal leaves open, from its sealed lines.
struct Open {
    account: String,
    rotation: Rotation,
}

/// The open rotations of `lines`: those sealed by their account's seal and not closed,
/// in the order they were planned. Lines of accounts not in `accounts`, or not sealed by
/// them, are returned apart (by line number) and never used.
pub fn open_rotations(
    lines: &[Line],
    accounts: &HashMap<String, Account>,
) -> (Vec<(String, Rotation)>, Vec<usize>) {
    let mut rotations: BTreeMap<(String, String), (usize, Rotation)> = BTreeMap::new();
    let mut foreign = Vec::new();
    for line in lines {
        let entry = &line.entry;
        let sealed = accounts
            .get(&entry.account)
            .is_some_and(|account| line.sealed_by(&account.seal));
        if !sealed {
            foreign.push(line.number);
            continue;
        }
        let key = (entry.account.clone(), entry.old.clone());
        match &entry.record {
            Record::Plan(plan) if plan.old == entry.old => {
                rotations.insert(key, (line.number, Rotation::new(plan.clone())));
            }
            record => match rotations.get_mut(&key) {
                Some((_, rotation)) => rotation.apply(record),
                None => foreign.push(line.number),
            },
        }
    }
    let mut open: Vec<_> = rotations
        .into_iter()
        .filter(|(_, (_, rotation))| !rotation.closed())
        .map(|((account, _), (number, rotation))| (number, account, rotation))
        .collect();
    open.sort_by_key(|(number, _, _)| *number);
    let open = open
        .into_iter()
        .map(|(_, account, rotation)| (account, rotation))
        .collect();
    (open, foreign)
}

/// The accounts whose names the journal's lines use (sealed or not): a fresh run refuses
/// to start while any of their rotations is open, so that `--resume` finishes it first.
pub fn accounts_named(lines: &[Line]) -> Vec<String> {
    let mut names: Vec<String> = lines.iter().map(|l| l.entry.account.clone()).collect();
    names.sort();
    names.dedup();
    names
}

/// A fresh id for a run: eight hex digits.
pub fn run_id() -> String {
    uuid::Uuid::new_v4()
        .simple()
        .to_string()
        .chars()
        .take(8)
        .collect()
}

/// What a lifecycle lets a rotation do.
fn abilities(keys: &dyn KeyLifecycle) -> Abilities {
    let can = keys.abilities();
    Abilities {
        name_chars: can.name_chars,
        disable: can.disable,
        rename: can.rename,
    }
}

impl<'a> Engine<'a> {
    /// A run with a fresh id.
    pub fn new(
        accounts: &'a HashMap<String, Account>,
        unreachable: &'a HashMap<String, String>,
        sink: &'a Sink,
        journal: &'a Journal,
    ) -> Engine<'a> {
        let kill_after = std::env::var(KILL_AFTER_LINES)
            .ok()
            .and_then(|n| n.parse().ok());
        Engine {
            run: run_id(),
            accounts,
            unreachable,
            sink,
            journal,
            concurrency: CONCURRENT_ACCOUNTS,
            overlap: Overlap::default(),
            stopped: AtomicBool::new(false),
            lines: AtomicUsize::new(0),
            kill_after,
        }
    }

    /// Rotates in this many accounts at once (at least one).
    pub fn concurrency(mut self, accounts: usize) -> Self {
        self.concurrency = accounts.max(1);
        self
    }

    /// Keeps each old key working for `overlap` after its replacement is delivered.
    pub fn overlap(mut self, overlap: Overlap) -> Self {
        self.overlap = overlap;
        self
    }

    /// Rotates every key of `plan`: each gets its `Plan` record, then goes through its
    /// steps. Keys of one account go one after another, accounts concurrently.
    pub async fn run(&self, plan: Vec<PlannedRotation>) -> Result<Vec<Outcome>, Abort> {
        let now = Utc::now();
        let mut open = Vec::new();
        let mut plans: HashMap<String, Vec<Entry>> = HashMap::new();
        for planned in plan {
            let Some(account) = self.accounts.get(&planned.account) else {
                continue;
            };
            let plan = Plan {
                account: account.seal.account().clone(),
                old: planned.key.id.clone(),
                name: planned.key.name.clone(),
                why: planned.why.clone(),
                expires_at: planned.new_expiry(now),
                nonce: protocol::nonce(),
                abilities: abilities(account.keys.as_ref()),
                overlap: self.overlap,
            };
            let entry = self.entry(&planned.account, &plan.old, Record::Plan(plan.clone()));
            plans
                .entry(planned.account.clone())
                .or_default()
                .push(entry);
            open.push(Open {
                account: planned.account,
                rotation: Rotation::new(plan),
            });
        }
        // Every plan line of an account in one write: a kill plans all or none of them.
        for (name, entries) in plans {
            self.append(&name, &entries).map_err(|error| Abort {
                error,
                outcomes: Vec::new(),
            })?;
        }
        self.drive_all(open, false).await
    }

    /// Takes over the retirements that tagged keys describe (see [`protocol::adopt`]):
    /// journals each one's records, and returns them to drive with [`Engine::resume`].
    pub fn adopt(&self, found: Vec<Found>) -> Result<Vec<(String, Rotation)>, JournalError> {
        let mut adopted = Vec::new();
        for found in found {
            let Some(account) = self.accounts.get(&found.account) else {
                continue;
            };
            let records = protocol::adopt(
                &found.tag,
                &found.new,
                found.old_name,
                abilities(account.keys.as_ref()),
                account.seal.account().clone(),
            );
            let entries: Vec<Entry> = records
                .into_iter()
                .map(|record| self.entry(&found.account, &found.tag.old, record))
                .collect();
            self.append(&found.account, &entries)?;
            let mut rotation = Rotation::new(Plan {
                account: AccountId::default(),
                old: found.tag.old.clone(),
                name: None,
                why: Vec::new(),
                expires_at: None,
                nonce: String::new(),
                abilities: Abilities {
                    name_chars: None,
                    disable: false,
                    rename: false,
                },
                overlap: Overlap::default(),
            });
            for entry in &entries {
                rotation.apply(&entry.record);
            }
            adopted.push((found.account, rotation));
        }
        Ok(adopted)
    }

    /// Finishes every rotation the journal's `lines` leave open, each from its last
    /// record.
    pub async fn resume(&self, open: Vec<(String, Rotation)>) -> Result<Vec<Outcome>, Abort> {
        let open = open
            .into_iter()
            .map(|(account, rotation)| Open { account, rotation })
            .collect();
        self.drive_all(open, true).await
    }

    async fn drive_all(&self, open: Vec<Open>, resumed: bool) -> Result<Vec<Outcome>, Abort> {
        let mut by_account: Vec<(String, Vec<Open>)> = Vec::new();
        for one in open {
            match by_account.iter_mut().find(|(name, _)| *name == one.account) {
                Some((_, list)) => list.push(one),
                None => by_account.push((one.account.clone(), vec![one])),
            }
        }
        let results: Vec<(Vec<Outcome>, Option<JournalError>)> = futures::stream::iter(by_account)
            .map(|(_, list)| async move {
                let mut outcomes = Vec::new();
                for one in list {
                    match self.drive(one, resumed).await {
                        Ok(outcome) => outcomes.push(outcome),
                        Err(error) => return (outcomes, Some(error)),
                    }
                }
                (outcomes, None)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut outcomes = Vec::new();
        let mut failure = None;
        for (done, error) in results {
            outcomes.extend(done);
            failure = failure.or(error);
        }
        match failure {
            Some(error) => Err(Abort { error, outcomes }),
            None => Ok(outcomes),
        }
    }

    fn failed(&self) -> JournalError {
        JournalError::Io(
            self.journal.path().to_path_buf(),
            std::io::Error::other("an earlier write failed"),
        )
    }

    fn entry(&self, account: &str, old: &str, record: Record) -> Entry {
        Entry {
            at: Utc::now(),
            run: self.run.clone(),
            account: account.to_string(),
            old: old.to_string(),
            record,
        }
    }

    /// Journals `record` for `rotation` (synced), then applies it.
    fn write(
        &self,
        account: &str,
        rotation: &mut Rotation,
        record: Record,
    ) -> Result<(), JournalError> {
        let entry = self.entry(account, &rotation.plan().old, record);
        self.append(account, std::slice::from_ref(&entry))?;
        rotation.apply(&entry.record);
        Ok(())
    }

    /// Appends `entries`, sealed by `account`'s seal, unless the run has stopped.
    fn append(&self, account: &str, entries: &[Entry]) -> Result<(), JournalError> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(self.failed());
        }
        let seal = &self
            .accounts
            .get(account)
            .ok_or_else(|| self.failed())?
            .seal;
        if let Err(error) = self.journal.append(seal, entries) {
            self.stopped.store(true, Ordering::SeqCst);
            return Err(error);
        }
        let before = self.lines.fetch_add(entries.len(), Ordering::SeqCst);
        let written = before.saturating_add(entries.len());
        if self.kill_after.is_some_and(|n| before < n && n <= written) {
            // The crash tests' kill, right after a synced line: the process in the binary,
            // the run (nothing more is done or written) in unit tests.
            #[cfg(not(test))]
            let _ = rustix::process::kill_process(
                rustix::process::getpid(),
                rustix::process::Signal::KILL,
            );
            self.stopped.store(true, Ordering::SeqCst);
            return Err(JournalError::Io(
                self.journal.path().to_path_buf(),
                std::io::Error::other("killed"),
            ));
        }
        Ok(())
    }

    /// One rotation, from wherever its records leave it to done, failed, retiring or
    /// unfinished.
    async fn drive(&self, one: Open, resumed: bool) -> Result<Outcome, JournalError> {
        let Open {
            account: name,
            mut rotation,
        } = one;
        let Some(account) = self.accounts.get(&name) else {
            let why = self.unreachable.get(&name).map_or_else(
                || format!("no account `{name}` in the configuration"),
                |why| format!("the account could not be reached: {why}"),
            );
            return Ok(outcome(&name, &rotation, "unfinished", None, Some(why)));
        };
        let keys = account.keys.as_ref();
        if resumed {
            for record in rotation.resumed() {
                self.write(&name, &mut rotation, record)?;
            }
        }
        let mut secret: Option<CreatedKey> = None;
        let mut closing = None;
        loop {
            match rotation.next(Utc::now()) {
                Action::Record(record) => {
                    if matches!(record, Record::Done { .. } | Record::Failed { .. }) {
                        closing = Some(record.clone());
                    }
                    self.write(&name, &mut rotation, record)?;
                }
                Action::Call(call) => {
                    let reply = self.call(&name, keys, &rotation, &call, &mut secret).await;
                    let why = match &reply {
                        Reply::Failed(why) => why.clone(),
                        _ => "the server's answer leaves this step in doubt".into(),
                    };
                    let records = rotation.decide(&call, reply);
                    if records.is_empty() {
                        rotation.stick(why);
                    }
                    for record in records {
                        self.write(&name, &mut rotation, record)?;
                    }
                }
                Action::Wait(until) => {
                    let stage = if rotation.old_disabled() {
                        format!(
                            "the old key is disabled, and is revoked from {}",
                            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        )
                    } else {
                        format!(
                            "the old key keeps working until {}",
                            until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
                        )
                    };
                    let mut o = outcome(&name, &rotation, "retiring", None, Some(stage));
                    o.retires_at = Some(until);
                    o.secret_at = rotation.delivered_to().map(str::to_string);
                    return Ok(o);
                }
                Action::Stuck(why) => {
                    let works = format!(
                        "the old key {} still works; run again with --resume",
                        rotation.plan().old
                    );
                    let mut o = outcome(&name, &rotation, "unfinished", None, Some(why));
                    o.works = Some(works);
                    return Ok(o);
                }
                Action::Finished => {
                    return Ok(match closing {
                        Some(Record::Done { new, to }) => {
                            let mut o = outcome(&name, &rotation, "rotated", Some(new), None);
                            o.secret_at = Some(to);
                            o
                        }
                        Some(Record::Failed {
                            failed_step,
                            message,
                            works,
                        }) => {
                            let mut o = outcome(&name, &rotation, "failed", None, Some(message));
                            o.failed_step = Some(failed_step);
                            o.works = Some(works);
                            o
                        }
                        _ => outcome(&name, &rotation, "rotated", None, None),
                    });
                }
            }
        }
    }

    /// Makes one call and says how it went.
    async fn call(
        &self,
        account: &str,
        keys: &dyn KeyLifecycle,
        rotation: &Rotation,
        call: &Call,
        secret: &mut Option<CreatedKey>,
    ) -> Reply {
        let answer = |result: Result<(), Error>| match result {
            Ok(()) => Reply::Ok,
            Err(error) if error.is_not_found() => Reply::Gone,
            Err(error) => Reply::Failed(crate::exit::chain(&error)),
        };
        match call {
            Call::Check { old } => answer(keys.get(old).await.map(drop)),
            Call::Create { name } => {
                let new = NewKey::named(name.clone()).expires_at(rotation.plan().expires_at);
                match keys.create(&new).await {
                    Ok(created) => {
                        let id = created.key.id.clone();
                        *secret = Some(created);
                        Reply::Created(id)
                    }
                    Err(error) => Reply::Failed(crate::exit::chain(&error)),
                }
            }
            Call::Find { marker } => {
                let listed: Result<Vec<KeyInfo>, Error> = keys.list().try_collect().await;
                match listed {
                    Ok(listed) => Reply::Found(
                        listed
                            .into_iter()
                            .filter(|key| {
                                key.name.as_deref().and_then(protocol::marker_in)
                                    == Some(marker.as_str())
                            })
                            .map(|key| key.id)
                            .collect(),
                    ),
                    Err(error) => Reply::Failed(format!(
                        "could not list the keys to find what a lost create left: {}",
                        crate::exit::chain(&error)
                    )),
                }
            }
            Call::Deliver { new } => {
                // Taken: the secret leaves memory with this call, whatever its outcome.
                let Some(created) = secret.take().filter(|c| c.key.id == *new) else {
                    return Reply::Failed("the secret is not held by this run".into());
                };
                let to = Delivery {
                    account,
                    vendor: keys.vendor(),
                    old: &rotation.plan().old,
                };
                self.sink.deliver(to, &created).await
            }
            Call::Publish { staged, .. } => self.sink.publish(staged).await,
            Call::Confirm { new } => answer(keys.get(new).await.map(drop)),
            Call::Tag { new, name } => answer(
                keys.update(new, &KeyUpdate::new().name(name.clone()))
                    .await
                    .map(drop),
            ),
            Call::Disable { old } => answer(
                keys.update(old, &KeyUpdate::new().enabled(false))
                    .await
                    .map(drop),
            ),
            Call::Revoke { id } => {
                let mut reply = answer(keys.revoke(id).await);
                if reply == Reply::Gone {
                    // A 404 from a lagging replica must not count as revoked: ask again.
                    reply = match answer(keys.get(id).await.map(drop)) {
                        Reply::Ok => Reply::Failed(format!(
                            "the server answered 404 to revoking {id} but still has it"
                        )),
                        other => other,
                    };
                }
                if matches!(reply, Reply::Ok | Reply::Gone) && *id != rotation.plan().old {
                    // A discarded key's staged file holds a revoked secret only.
                    self.sink.clean_up(account, id);
                }
                reply
            }
        }
    }
}

/// The outcome of an account's journaled rotations that cannot be resumed: the account
/// could not be reached (`why`).
pub fn unreachable_outcome(account: &str, why: &str) -> Outcome {
    Outcome {
        account: account.to_string(),
        old: String::new(),
        name: None,
        status: "unfinished",
        new: None,
        secret_at: None,
        retires_at: None,
        failed_step: Some("check".into()),
        message: Some(format!("the account could not be reached: {why}")),
        works: None,
    }
}

/// The outcome that reports journal lines this configuration did not write.
pub fn foreign_outcome(lines: &[String]) -> Outcome {
    Outcome {
        account: String::new(),
        old: String::new(),
        name: None,
        status: "failed",
        new: None,
        secret_at: None,
        retires_at: None,
        failed_step: Some("journal".into()),
        message: Some(format!(
            "journal line(s) {} were not written by this configuration: ignored",
            lines.join(", ")
        )),
        works: None,
    }
}

fn outcome(
    account: &str,
    rotation: &Rotation,
    status: &'static str,
    new: Option<String>,
    message: Option<String>,
) -> Outcome {
    Outcome {
        account: account.to_string(),
        old: rotation.plan().old.clone(),
        name: rotation.plan().name.clone(),
        status,
        new: new.or_else(|| rotation.new_key().map(str::to_string)),
        secret_at: None,
        retires_at: None,
        failed_step: None,
        message,
        works: None,
    }
}
