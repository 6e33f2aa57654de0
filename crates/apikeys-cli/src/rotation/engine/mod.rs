//! The rotation engine: replaces each planned key by a new one, step by step, each step
//! announced in the [`Journal`] before it is taken and recorded after, so that a run killed
//! anywhere can be resumed ([`resume`]) without losing a secret or orphaning a key.
//!
//! One key's steps: check the old key → `create` (under a name unique to the run and
//! attempt, so that a create whose answer was lost can be found again by listing) →
//! `deliver` the secret to the sink → `confirm` the new key exists → `revoke` the old key.
//! The secret is delivered right after the create, so that it lives in memory only between
//! two journal lines.
//!
//! The rule that makes resuming safe: a new key whose secret was not delivered is useless,
//! so it is revoked (`discard`; it is in the journal, so never orphaned) and the rotation
//! redone. A `create` without its `created` line: the account's keys are listed and any
//! key with the recorded name discarded. With `--secret-dir`, the new key's file under its
//! final name means its secret was delivered. Revoking a key the server no longer knows
//! (404) counts as revoked.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicBool, Ordering};

use apikeys_common::{Error, KeyInfo, KeyLifecycle, NewKey};
use chrono::{DateTime, TimeDelta, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::Serialize;

use super::journal::{Entry, Journal, JournalError, Step};
use super::sink::{Delivery, Sink};

#[cfg(test)]
mod tests;

/// How many accounts rotate at once unless told (keys of one account go one after another).
pub const CONCURRENT_ACCOUNTS: usize = 4;

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

/// How one key's rotation ended.
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    /// The account.
    pub account: String,
    /// The key that was to be replaced.
    pub old: String,
    /// Its name.
    pub name: Option<String>,
    /// `rotated` or `failed`.
    pub status: &'static str,
    /// The new key, when there is one that works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<String>,
    /// Where the new key's secret went (a path or `secret-cmd`), never the secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret_at: Option<String>,
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
    /// Whether the key was rotated.
    pub fn rotated(&self) -> bool {
        self.status == "rotated"
    }
}

/// Why a run stopped before every key was dealt with.
#[derive(Debug)]
pub enum Abort {
    /// The journal could not be written: no further step may be taken.
    Journal(JournalError),
    /// A test's kill.
    #[cfg(test)]
    Killed,
}

impl std::fmt::Display for Abort {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Abort::Journal(error) => write!(f, "{error}; run again with --resume"),
            #[cfg(test)]
            Abort::Killed => f.write_str("killed"),
        }
    }
}

/// Where a test kills a run: at a step, after its journal line and before its call
/// (`Before`), or after its call and before its outcome line (`After`).
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StopAt(pub &'static str, pub When);

/// See [`StopAt`].
#[cfg(test)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum When {
    Before,
    After,
}

/// One run: its id, the accounts, the sink and the journal.
pub struct Engine<'a> {
    run: String,
    accounts: &'a HashMap<String, Box<dyn KeyLifecycle>>,
    sink: &'a Sink,
    journal: &'a Journal,
    /// How many accounts rotate at once.
    concurrency: usize,
    /// Set when the run must stop (the journal failed, or a test killed it): every key
    /// stops at its next step.
    stopped: AtomicBool,
    #[cfg(test)]
    stop: Option<StopAt>,
}

/// What the journal says of one key: its plan and how far its rotation got.
#[derive(Clone, Debug, Default)]
struct State {
    /// Creates announced so far (the next name's attempt number).
    attempts: u32,
    /// A create announced without its `created` line: the name to look for.
    lost_create: Option<String>,
    /// The new key, created and not discarded.
    new: Option<String>,
    /// Where its secret went, once delivered.
    delivered: Option<String>,
    /// Whether the server confirmed it.
    confirmed: bool,
    /// New keys whose discard was announced and not recorded.
    discarding: Vec<String>,
    /// Whether the rotation is done.
    done: bool,
}

impl State {
    fn apply(&mut self, step: &Step) {
        match step {
            Step::Plan { .. } => *self = State::default(),
            Step::Create { name } => {
                self.attempts = self.attempts.saturating_add(1);
                self.lost_create = Some(name.clone());
            }
            Step::Created { new } => {
                self.lost_create = None;
                self.new = Some(new.clone());
                self.delivered = None;
                self.confirmed = false;
            }
            Step::Delivered { to, .. } => self.delivered = Some(to.clone()),
            Step::Confirmed { .. } => self.confirmed = true,
            Step::Discard { new, .. } => {
                if !self.discarding.contains(new) {
                    self.discarding.push(new.clone());
                }
                if self.new.as_ref() == Some(new) {
                    self.new = None;
                    self.delivered = None;
                    self.confirmed = false;
                }
            }
            Step::Discarded { new } => self.discarding.retain(|id| id != new),
            Step::Done { .. } => self.done = true,
            Step::Deliver { .. }
            | Step::Confirm { .. }
            | Step::Revoke
            | Step::Revoked
            | Step::Failed { .. } => {}
        }
    }

    /// Whether nothing the journal's runs created is alive or in doubt: a new run may
    /// start this key afresh.
    fn settled(&self) -> bool {
        self.done
            || (self.new.is_none() && self.lost_create.is_none() && self.discarding.is_empty())
    }
}

/// One key to drive: its plan and its state.
#[derive(Clone, Debug)]
struct Record {
    plan: PlannedRotation,
    expires_at: Option<DateTime<Utc>>,
    state: State,
}

/// The keys the journal's lines leave unfinished (no `done` line after their last `plan`),
/// in the order they were planned.
fn unfinished(entries: &[Entry]) -> Vec<Record> {
    let mut records: BTreeMap<(String, String), (usize, Record)> = BTreeMap::new();
    for (index, entry) in entries.iter().enumerate() {
        let key = (entry.account.clone(), entry.old.clone());
        if let Step::Plan {
            vendor,
            name,
            why,
            expires_at,
        } = &entry.step
        {
            let mut info = KeyInfo::new(entry.old.clone());
            info.name = name.clone();
            let plan = PlannedRotation {
                account: entry.account.clone(),
                vendor: vendor.clone(),
                key: info,
                why: why.clone(),
                // The new key's expiry was journaled with the plan.
                lifetime: None,
            };
            let record = Record {
                plan,
                expires_at: *expires_at,
                state: State::default(),
            };
            records.insert(key, (index, record));
        } else if let Some((_, record)) = records.get_mut(&key) {
            record.state.apply(&entry.step);
        }
    }
    let mut open: Vec<(usize, Record)> = records
        .into_values()
        .filter(|(_, record)| !record.state.done)
        .collect();
    open.sort_by_key(|(index, _)| *index);
    open.into_iter().map(|(_, record)| record).collect()
}

/// The keys of `entries` whose rotation is unfinished and not settled: a fresh run must
/// not start while a key created by an earlier run may be alive (`--resume` finishes it).
pub fn in_doubt(entries: &[Entry]) -> Vec<(String, String)> {
    unfinished(entries)
        .into_iter()
        .filter(|record| !record.state.settled())
        .map(|record| (record.plan.account, record.plan.key.id))
        .collect()
}

/// How many keys of the journal are unfinished (for `--resume` to say there is nothing).
pub fn unfinished_count(entries: &[Entry]) -> usize {
    unfinished(entries).len()
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

/// Rotates every key of `plan`: its plan lines are journaled first, then each key goes
/// through its steps. Keys of one account go one after another, accounts concurrently.
pub async fn run(engine: &Engine<'_>, plan: Vec<PlannedRotation>) -> Result<Vec<Outcome>, Abort> {
    let now = Utc::now();
    let records: Vec<Record> = plan
        .into_iter()
        .map(|plan| Record {
            expires_at: plan.new_expiry(now),
            plan,
            state: State::default(),
        })
        .collect();
    let lines: Vec<Entry> = records
        .iter()
        .map(|record| {
            engine.entry(
                &record.plan,
                Step::Plan {
                    vendor: record.plan.vendor.clone(),
                    name: record.plan.key.name.clone(),
                    why: record.plan.why.clone(),
                    expires_at: record.expires_at,
                },
            )
        })
        .collect();
    engine.journal.append(&lines).map_err(Abort::Journal)?;
    engine.drive_all(records).await
}

/// Finishes every key the journal's `entries` leave unfinished, each from its last
/// recorded step.
pub async fn resume(engine: &Engine<'_>, entries: &[Entry]) -> Result<Vec<Outcome>, Abort> {
    engine.drive_all(unfinished(entries)).await
}

/// A step's outcome for one key: go on, or stop with this outcome.
type Flow<T> = Result<std::result::Result<T, Outcome>, Abort>;

impl<'a> Engine<'a> {
    /// A run with a fresh id.
    pub fn new(
        accounts: &'a HashMap<String, Box<dyn KeyLifecycle>>,
        sink: &'a Sink,
        journal: &'a Journal,
    ) -> Engine<'a> {
        Engine {
            run: run_id(),
            accounts,
            sink,
            journal,
            concurrency: CONCURRENT_ACCOUNTS,
            stopped: AtomicBool::new(false),
            #[cfg(test)]
            stop: None,
        }
    }

    /// Rotates in this many accounts at once (at least one).
    pub fn concurrency(mut self, accounts: usize) -> Self {
        self.concurrency = accounts.max(1);
        self
    }

    async fn drive_all(&self, records: Vec<Record>) -> Result<Vec<Outcome>, Abort> {
        let mut by_account: Vec<(String, Vec<Record>)> = Vec::new();
        for record in records {
            match by_account
                .iter_mut()
                .find(|(account, _)| *account == record.plan.account)
            {
                Some((_, list)) => list.push(record),
                None => by_account.push((record.plan.account.clone(), vec![record])),
            }
        }
        let results: Vec<Result<Vec<Outcome>, Abort>> = futures::stream::iter(by_account)
            .map(|(_, records)| async move {
                let mut outcomes = Vec::new();
                for record in records {
                    outcomes.push(self.drive(record).await?);
                }
                Ok(outcomes)
            })
            .buffer_unordered(self.concurrency)
            .collect()
            .await;
        let mut outcomes = Vec::new();
        for result in results {
            outcomes.extend(result?);
        }
        Ok(outcomes)
    }

    fn entry(&self, plan: &PlannedRotation, step: Step) -> Entry {
        Entry {
            at: Utc::now(),
            run: self.run.clone(),
            account: plan.account.clone(),
            old: plan.key.id.clone(),
            step,
        }
    }

    /// Writes a line (and syncs it) unless the run has stopped.
    fn log(&self, record: &mut Record, step: Step) -> Result<(), Abort> {
        if self.stopped.load(Ordering::SeqCst) {
            return Err(self.abort());
        }
        let entry = self.entry(&record.plan, step);
        if let Err(error) = self.journal.append(std::slice::from_ref(&entry)) {
            self.stopped.store(true, Ordering::SeqCst);
            return Err(Abort::Journal(error));
        }
        record.state.apply(&entry.step);
        Ok(())
    }

    /// What a stopped run returns at its next step.
    fn abort(&self) -> Abort {
        #[cfg(test)]
        {
            Abort::Killed
        }
        #[cfg(not(test))]
        {
            Abort::Journal(JournalError::Io(
                self.journal.path().to_path_buf(),
                std::io::Error::other("an earlier write failed"),
            ))
        }
    }

    /// A test's kill point: stops the whole run, as a kill would, without another line.
    #[cfg_attr(not(test), allow(clippy::unused_self))]
    fn point(&self, _step: &'static str, _after: bool) -> Result<(), Abort> {
        #[cfg(test)]
        if let Some(StopAt(step, when)) = self.stop
            && step == _step
            && (when == When::After) == _after
            && !self.stopped.swap(true, Ordering::SeqCst)
        {
            return Err(Abort::Killed);
        }
        Ok(())
    }

    /// Closes a key's record with a failure.
    fn failed(
        &self,
        record: &mut Record,
        step: &str,
        message: String,
        works: String,
    ) -> Result<Outcome, Abort> {
        self.log(
            record,
            Step::Failed {
                failed_step: step.into(),
                message: message.clone(),
                works: works.clone(),
            },
        )?;
        Ok(Outcome {
            account: record.plan.account.clone(),
            old: record.plan.key.id.clone(),
            name: record.plan.key.name.clone(),
            status: "failed",
            new: None,
            secret_at: None,
            failed_step: Some(step.into()),
            message: Some(message),
            works: Some(works),
        })
    }

    /// One key, from wherever its record says it is to `done` or `failed`.
    async fn drive(&self, mut record: Record) -> Result<Outcome, Abort> {
        match self.drive_steps(&mut record).await? {
            Ok(outcome) | Err(outcome) => Ok(outcome),
        }
    }

    async fn drive_steps(&self, record: &mut Record) -> Flow<Outcome> {
        let old = record.plan.key.id.clone();
        let old_works = format!("the old key {old} still works");
        let Some(keys) = self.accounts.get(&record.plan.account) else {
            let message = format!("no account `{}` in the configuration", record.plan.account);
            return self.failed(record, "check", message, old_works).map(Err);
        };
        let keys = keys.as_ref();

        // Finish what a killed run left half-done.
        for new in record.state.discarding.clone() {
            if let Err(outcome) = self.discard(record, keys, &new, None).await? {
                return Ok(Err(outcome));
            }
        }
        if let Some(name) = record.state.lost_create.clone()
            && let Err(outcome) = self.find_lost(record, keys, &name).await?
        {
            return Ok(Err(outcome));
        }
        if let Some(new) = record.state.new.clone()
            && record.state.delivered.is_none()
        {
            if let Some(to) = self.sink.was_delivered(&record.plan.account, &new) {
                // A kill between the link and the removal of the temporary file.
                self.sink.clean_up(&record.plan.account, &new);
                self.log(record, Step::Delivered { new, to })?;
            } else {
                let why = "its secret was not delivered";
                if let Err(outcome) = self.discard(record, keys, &new, Some(why)).await? {
                    return Ok(Err(outcome));
                }
            }
        }

        // A new key, delivered.
        if record.state.new.is_none() {
            if let Err(error) = keys.get(&old).await {
                let message = format!("could not check the old key: {}", describe(&error));
                return self
                    .failed(record, "check", message, none_if_gone(&error, &old_works))
                    .map(Err);
            }
            let name = unique_name(
                &record.plan,
                &self.run,
                record.state.attempts.saturating_add(1),
            );
            self.log(record, Step::Create { name: name.clone() })?;
            self.point("create", false)?;
            let created = keys
                .create(&NewKey::named(name.clone()).expires_at(record.expires_at))
                .await;
            self.point("create", true)?;
            let created = match created {
                Ok(created) => created,
                Err(error) => {
                    // The server may have created it all the same: find it by its name.
                    if let Err(outcome) = self.find_lost(record, keys, &name).await? {
                        return Ok(Err(outcome));
                    }
                    let message = format!("could not create the new key: {}", describe(&error));
                    return self.failed(record, "create", message, old_works).map(Err);
                }
            };
            let new = created.key.id.clone();
            self.log(record, Step::Created { new: new.clone() })?;
            self.log(record, Step::Deliver { new: new.clone() })?;
            self.point("deliver", false)?;
            let to = Delivery {
                account: &record.plan.account,
                vendor: &record.plan.vendor,
                old: &old,
            };
            let delivered = self.sink.deliver(to, &created).await;
            drop(created);
            self.point("deliver", true)?;
            match delivered {
                Ok(to) => self.log(record, Step::Delivered { new, to })?,
                Err(why) => {
                    if let Err(outcome) = self.discard(record, keys, &new, Some(&why)).await? {
                        return Ok(Err(outcome));
                    }
                    let message = format!("could not deliver the new secret: {why}");
                    let works = format!("{old_works}; the new key {new} was revoked");
                    return self.failed(record, "deliver", message, works).map(Err);
                }
            }
        }
        let (Some(new), Some(to)) = (record.state.new.clone(), record.state.delivered.clone())
        else {
            let message = "the journal lost track of the new key".to_string();
            return self.failed(record, "deliver", message, old_works).map(Err);
        };

        // The server knows the new key.
        if !record.state.confirmed {
            self.log(record, Step::Confirm { new: new.clone() })?;
            self.point("confirm", false)?;
            let confirmed = keys.get(&new).await;
            self.point("confirm", true)?;
            match confirmed {
                Ok(_) => self.log(record, Step::Confirmed { new: new.clone() })?,
                Err(error) if error.is_not_found() => {
                    let why = "the server does not know it";
                    if let Err(outcome) = self.discard(record, keys, &new, Some(why)).await? {
                        return Ok(Err(outcome));
                    }
                    let message = format!("the new key {new} could not be found again");
                    return self.failed(record, "confirm", message, old_works).map(Err);
                }
                Err(error) => {
                    let message = format!("could not confirm the new key: {}", describe(&error));
                    let works = format!("{old_works}; the new key {new} (secret at {to}) may too");
                    return self.failed(record, "confirm", message, works).map(Err);
                }
            }
        }

        // The old key goes.
        self.log(record, Step::Revoke)?;
        self.point("revoke", false)?;
        let revoked = keys.revoke(&old).await;
        self.point("revoke", true)?;
        match revoked {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => {
                let message = format!("could not revoke the old key: {}", describe(&error));
                let works =
                    format!("both: the new key {new} (secret at {to}) and the old key {old}");
                return self.failed(record, "revoke", message, works).map(Err);
            }
        }
        self.log(record, Step::Revoked)?;
        self.log(
            record,
            Step::Done {
                new: new.clone(),
                to: to.clone(),
            },
        )?;
        Ok(Ok(Outcome {
            account: record.plan.account.clone(),
            old,
            name: record.plan.key.name.clone(),
            status: "rotated",
            new: Some(new),
            secret_at: Some(to),
            failed_step: None,
            message: None,
            works: None,
        }))
    }

    /// Revokes a new key that cannot be used (announced first, so that a kill cannot
    /// orphan it; a key already gone counts as revoked).
    async fn discard(
        &self,
        record: &mut Record,
        keys: &dyn KeyLifecycle,
        new: &str,
        why: Option<&str>,
    ) -> Flow<()> {
        if let Some(why) = why {
            let step = Step::Discard {
                new: new.into(),
                why: why.into(),
            };
            self.log(record, step)?;
        }
        self.point("discard", false)?;
        self.sink.clean_up(&record.plan.account, new);
        let revoked = keys.revoke(new).await;
        self.point("discard", true)?;
        match revoked {
            Ok(()) => {}
            Err(error) if error.is_not_found() => {}
            Err(error) => {
                let message = format!(
                    "could not revoke the unusable new key {new}: {}; run again with --resume",
                    describe(&error)
                );
                let works = format!("the old key {} still works", record.plan.key.id);
                return self.failed(record, "discard", message, works).map(Err);
            }
        }
        self.log(record, Step::Discarded { new: new.into() })?;
        Ok(Ok(()))
    }

    /// A create whose answer was lost: every key of the account named `name` is one the
    /// run created and never delivered, so it is discarded.
    async fn find_lost(
        &self,
        record: &mut Record,
        keys: &dyn KeyLifecycle,
        name: &str,
    ) -> Flow<()> {
        let listed: Result<Vec<KeyInfo>, Error> = keys.list().try_collect().await;
        let listed = match listed {
            Ok(listed) => listed,
            Err(error) => {
                let message = format!(
                    "could not list the keys to find `{name}`, which a create may have left: {}; \
                     run again with --resume",
                    describe(&error)
                );
                let works = format!("the old key {} still works", record.plan.key.id);
                return self.failed(record, "create", message, works).map(Err);
            }
        };
        for key in listed
            .iter()
            .filter(|key| key.name.as_deref() == Some(name))
        {
            let why = "created by a run that did not record its id";
            if let Err(outcome) = self.discard(record, keys, &key.id, Some(why)).await? {
                return Ok(Err(outcome));
            }
        }
        record.state.lost_create = None;
        Ok(Ok(()))
    }
}

/// An error as the report shows it (never a secret: errors hold none).
fn describe(error: &Error) -> String {
    error.to_string()
}

/// `works`, unless the old key is gone.
fn none_if_gone(error: &Error, works: &str) -> String {
    if error.is_not_found() {
        "the old key is not found with this credential; nothing was created".into()
    } else {
        works.into()
    }
}

/// The most characters of the old name a new name keeps (balena takes 50 in all).
const NAME_CHARS: usize = 28;

/// The new key's name: the old one's (without an earlier rotation's suffix), then the run
/// and attempt, e.g. `ci (rotated 3f9a01b2-1)`: unique, so a lost create can be found.
fn unique_name(plan: &PlannedRotation, run: &str, attempt: u32) -> String {
    let base = match plan.key.name.as_deref() {
        Some(name) if !name.trim().is_empty() => {
            let name = match name.rfind(" (rotated ") {
                Some(at) if name.ends_with(')') => name.get(..at).unwrap_or(name),
                _ => name,
            };
            name.chars().take(NAME_CHARS).collect::<String>()
        }
        _ => format!("key {}", plan.key.id)
            .chars()
            .take(NAME_CHARS)
            .collect(),
    };
    format!("{} (rotated {run}-{attempt})", base.trim_end())
}
