//! The rotation protocol of one key, as a pure state machine (the sans-IO style of
//! `quinn-proto` and `rustls`): no clock, no network, no files.
//!
//! A [`Rotation`] changes only by [`Record`]s, the journal's lines: [`Rotation::apply`]
//! folds one in. [`Rotation::next`] says what to do next (write a record, make a [`Call`],
//! wait, or finish), and [`Rotation::decide`] turns a call's [`Reply`] into the records
//! that say what happened. The driver ([`super::engine`]) journals each record (synced)
//! before it applies it, so resuming a killed run is folding its records back in and
//! calling [`Rotation::resumed`]: there is no second code path.
//!
//! One key's steps: check the old key → `create` a new key whose name carries a marker no
//! other key has (journaled first, so a create whose answer is lost is found again by its
//! marker, never by a name) → deliver its secret (a `--secret-dir` file is staged and its
//! identity journaled before it is published, so that only the file this run wrote counts)
//! → confirm the server knows the new key → retire the old key: revoke it at once, or after
//! an overlap disable it (where the vendor can) and later revoke it.
//!
//! The rule that makes a crash safe: a new key whose delivery is not proven is useless (its
//! secret lived only in the killed process), so it is revoked ("discarded") and the
//! rotation redone. Every key the tool touches is the planned old key or a key whose id or
//! marker the journal recorded before it could exist.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// What every vendor lets a rotation do, from the lifecycle of its account.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Abilities {
    /// The most characters a key's name may have, where the vendor limits it.
    pub name_chars: Option<usize>,
    /// Whether a key can be disabled (and enabled again) rather than only revoked.
    pub disable: bool,
    /// Whether a key can be renamed after it was created.
    pub rename: bool,
}

/// How long the old key keeps working after its replacement was delivered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Overlap {
    /// From delivery to the old key's retirement (zero: revoked at once).
    pub overlap: TimeDelta,
    /// How long a retired key stays disabled before it is revoked, where the vendor can
    /// disable keys (elsewhere it is revoked at the end of the overlap).
    pub disabled_for: TimeDelta,
}

/// Whose rotation it is: the account's vendor, base URL and scope, and a fingerprint of its
/// credential (a keyed hash: it cannot reveal the credential). A journal line whose seal
/// does not verify says, through this, what changed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct AccountId {
    /// Vendor, base URL and scope.
    pub identity: String,
    /// The credential's fingerprint.
    pub fingerprint: String,
}

/// The first record of a rotation: everything it needs, decided once.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Plan {
    /// The account, as it was when the rotation was planned.
    pub account: AccountId,
    /// The key to replace.
    pub old: String,
    /// Its name, if it has one.
    pub name: Option<String>,
    /// Why it is due.
    pub why: Vec<String>,
    /// The new key's expiry.
    pub expires_at: Option<DateTime<Utc>>,
    /// Random (from the OS's CSPRNG) and unique to this rotation: the root of its markers.
    pub nonce: String,
    /// What the vendor allows.
    pub abilities: Abilities,
    /// The overlap asked for.
    pub overlap: Overlap,
}

/// Where a delivered secret went, and the proof that it is the one this run wrote.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Staged {
    /// The file the secret is published under.
    pub to: String,
    /// The staged file's identity (`device:inode`), recorded before it is published.
    pub file: String,
}

/// One journal line's content: a step of one rotation.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Record {
    /// The rotation is planned.
    Plan(Plan),
    /// The old key exists and this credential sees it.
    Checked,
    /// A key named `name`, carrying `marker`, is about to be created.
    Create { marker: String, name: String },
    /// It was created, with this id.
    Created { new: String },
    /// The keys carrying the marker of a create whose answer was lost (none: it was not
    /// created). Each is discarded: its secret was never received.
    Found { keys: Vec<String> },
    /// The new key's secret is in a staged file, not yet published.
    Staged { new: String, staged: Staged },
    /// The new key's secret was delivered to `to`.
    Delivered { new: String, to: String },
    /// The server knows the new key.
    Confirmed { new: String },
    /// The new key was renamed to say which key it replaces and when that key retires, so
    /// that a later run on any machine can finish the retirement from the vendor's data.
    Tagged { new: String, name: String },
    /// The old key retires: disabled at `disable_at` (where the vendor can), revoked at
    /// `revoke_at`.
    Retire {
        disable_at: Option<DateTime<Utc>>,
        revoke_at: DateTime<Utc>,
    },
    /// A new key that cannot be used is about to be revoked.
    Discard { new: String, why: String },
    /// It is revoked (or was already gone).
    Discarded { new: String },
    /// The rotation cannot go on; once its discards are done it fails with this.
    GiveUp {
        failed_step: String,
        message: String,
    },
    /// The old key is disabled.
    Disabled,
    /// The old key is revoked (or was already gone).
    Revoked,
    /// The rotation is over: `new` replaced the old key, its secret is at `to`.
    Done { new: String, to: String },
    /// The rotation is over and failed; `works` says which key still works.
    Failed {
        failed_step: String,
        message: String,
        works: String,
    },
}

/// What the driver is asked to do.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Call {
    /// Does the old key exist?
    Check { old: String },
    /// Create a key with this name (whose secret the driver keeps in memory only).
    Create { name: String },
    /// Which keys carry this marker?
    Find { marker: String },
    /// Deliver the new key's secret (held since `Create`).
    Deliver { new: String },
    /// Publish a staged secret file (no secret needed: it is in the file).
    Publish { new: String, staged: Staged },
    /// Does the new key exist?
    Confirm { new: String },
    /// Rename the new key.
    Tag { new: String, name: String },
    /// Disable the old key.
    Disable { old: String },
    /// Revoke a key: the old one, or a new one that cannot be used.
    Revoke { id: String },
}

/// How a call ended.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Reply {
    /// It worked.
    Ok,
    /// The key is not there (`404`).
    Gone,
    /// It failed; the text says why (never a secret).
    Failed(String),
    /// `Create`: the new key's id.
    Created(String),
    /// `Find`: the keys carrying the marker.
    Found(Vec<String>),
    /// `Deliver` to a file: staged, to be published.
    Staged(Staged),
    /// `Deliver` or `Publish`: delivered there.
    Delivered(String),
}

/// What to do next.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// Journal this record, then apply it.
    Record(Record),
    /// Make this call, then [`Rotation::decide`] on its reply.
    Call(Call),
    /// Nothing is due before this time: the run leaves the rotation pending.
    Wait(DateTime<Utc>),
    /// The rotation is over (a `Done` or `Failed` record was applied).
    Finished,
    /// The run cannot go on with this rotation now (a call failed where giving up would
    /// leave a key behind): it stays open in the journal for `--resume`.
    Stuck(String),
}

/// Where the old key is in its retirement.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
enum Old {
    #[default]
    Working,
    Disabled,
    Revoked,
}

/// The new key of the current attempt.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct New {
    id: String,
    staged: Option<Staged>,
    delivered: Option<String>,
    confirmed: bool,
    tagged: bool,
}

/// One key's rotation, as its records leave it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rotation {
    plan: Plan,
    checked: bool,
    /// Creates announced so far.
    attempts: u32,
    /// A create announced (its marker and name) and not answered.
    creating: Option<(String, String)>,
    /// This process did not make the announced create (it was restarted): whether the key
    /// exists is found by its marker. Never journaled.
    restarted: bool,
    new: Option<New>,
    /// New keys to revoke, in the order they became useless.
    discard: Vec<String>,
    giving_up: Option<(String, String)>,
    retire: Option<(Option<DateTime<Utc>>, DateTime<Utc>)>,
    old: Old,
    /// A call failed in this run; set by the driver, never journaled.
    stuck: Option<String>,
    closed: bool,
    /// A transition broken on purpose, to show the model checker finds it.
    #[cfg(test)]
    pub(crate) mutant: Mutant,
}

/// The transitions the model checker's own test breaks.
#[cfg(test)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub(crate) enum Mutant {
    #[default]
    None,
    /// A restarted run takes an announced create for one that made nothing, without
    /// asking the server.
    SkipFind,
    /// The old key is revoked as soon as the new one exists, before its delivery.
    RevokeEarly,
}

/// The marker's fixed text: `~ak1.` then the nonce and the attempt.
const MARKER_TAG: &str = "~ak1.";

/// How many characters of randomness a nonce has (base 32: 50 bits).
pub const NONCE_CHARS: usize = 10;

impl Rotation {
    /// A rotation planned by `plan` (its `Plan` record is the first line of its journal).
    pub fn new(plan: Plan) -> Rotation {
        Rotation {
            plan,
            checked: false,
            attempts: 0,
            creating: None,
            restarted: false,
            new: None,
            discard: Vec::new(),
            giving_up: None,
            retire: None,
            old: Old::Working,
            stuck: None,
            closed: false,
            #[cfg(test)]
            mutant: Mutant::None,
        }
    }

    /// The plan.
    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// Whether a `Done` or `Failed` record closed it.
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Whether the old key is disabled (and waits to be revoked).
    pub fn old_disabled(&self) -> bool {
        self.old == Old::Disabled
    }

    /// Where the new key's secret was delivered, once it was.
    pub fn delivered_to(&self) -> Option<&str> {
        self.new.as_ref()?.delivered.as_deref()
    }

    /// The new key, once created and not discarded.
    pub fn new_key(&self) -> Option<&str> {
        self.new.as_ref().map(|new| new.id.as_str())
    }

    /// The marker of attempt `attempt`.
    fn marker(&self, attempt: u32) -> String {
        format!("{MARKER_TAG}{}-{attempt}", self.plan.nonce)
    }

    /// Folds one record in.
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Plan(plan) => {
                #[cfg(test)]
                let mutant = self.mutant;
                *self = Rotation::new(plan.clone());
                #[cfg(test)]
                {
                    self.mutant = mutant;
                }
            }
            Record::Checked => self.checked = true,
            Record::Create { marker, name } => {
                self.attempts = self.attempts.saturating_add(1);
                self.creating = Some((marker.clone(), name.clone()));
                // Announced by this process, which makes it next.
                self.restarted = false;
            }
            Record::Created { new } => {
                self.creating = None;
                self.new = Some(New {
                    id: new.clone(),
                    staged: None,
                    delivered: None,
                    confirmed: false,
                    tagged: false,
                });
            }
            Record::Found { keys } => {
                self.creating = None;
                for key in keys {
                    self.push_discard(key);
                }
            }
            Record::Staged { new, staged } => {
                if let Some(current) = self.current(new) {
                    current.staged = Some(staged.clone());
                }
            }
            Record::Delivered { new, to } => {
                if let Some(current) = self.current(new) {
                    current.delivered = Some(to.clone());
                }
            }
            Record::Confirmed { new } => {
                if let Some(current) = self.current(new) {
                    current.confirmed = true;
                }
            }
            Record::Tagged { new, .. } => {
                if let Some(current) = self.current(new) {
                    current.tagged = true;
                }
            }
            Record::Retire {
                disable_at,
                revoke_at,
            } => self.retire = Some((*disable_at, *revoke_at)),
            Record::Discard { new, .. } => {
                if self.new.as_ref().is_some_and(|current| current.id == *new) {
                    self.new = None;
                }
                self.push_discard(new);
            }
            Record::Discarded { new } => self.discard.retain(|id| id != new),
            Record::GiveUp {
                failed_step,
                message,
            } => {
                self.giving_up = Some((failed_step.clone(), message.clone()));
            }
            Record::Disabled => self.old = Old::Disabled,
            Record::Revoked => self.old = Old::Revoked,
            Record::Done { .. } | Record::Failed { .. } => self.closed = true,
        }
    }

    fn current(&mut self, id: &str) -> Option<&mut New> {
        self.new.as_mut().filter(|new| new.id == id)
    }

    fn push_discard(&mut self, id: &str) {
        if !self.discard.iter().any(|known| known == id) {
            self.discard.push(id.to_string());
        }
    }

    /// After a restart: a create announced by the killed process is looked for by its
    /// marker, and a new key whose delivery was neither proven nor staged lost its secret
    /// with that process, so it is discarded. Returns the records to write.
    pub fn resumed(&mut self) -> Vec<Record> {
        self.restarted = true;
        match &self.new {
            Some(new) if new.delivered.is_none() && new.staged.is_none() && !self.closed => {
                vec![Record::Discard {
                    new: new.id.clone(),
                    why: "its secret was lost with the run that created it".into(),
                }]
            }
            _ => Vec::new(),
        }
    }

    /// Marks the rotation as unable to go on in this run (a call failed where giving up
    /// would leave a key unaccounted for).
    pub fn stick(&mut self, why: String) {
        self.stuck = Some(why);
    }

    /// The new key's name: the old name (without an earlier rotation's marker), cut to
    /// fit the vendor's limit with the marker, which is never cut.
    pub fn new_name(&self, marker: &str) -> String {
        let human = match self.plan.name.as_deref() {
            Some(name) if !strip_marker(name).trim().is_empty() => strip_marker(name).trim(),
            _ => "rotated key",
        };
        fit(human, &format!(" {marker}"), self.plan.abilities.name_chars)
    }

    /// What to do next, at `now`.
    pub fn next(&self, now: DateTime<Utc>) -> Action {
        if self.closed {
            return Action::Finished;
        }
        if let Some(why) = &self.stuck {
            return Action::Stuck(why.clone());
        }
        if let Some(id) = self.discard.first() {
            return Action::Call(Call::Revoke { id: id.clone() });
        }
        #[cfg(test)]
        if self.mutant == Mutant::SkipFind && self.restarted && self.creating.is_some() {
            return Action::Record(Record::Found { keys: Vec::new() });
        }
        if let Some((marker, name)) = &self.creating {
            // Made by this process, unless it restarted or the create failed: then whether
            // the key exists is asked of the server, by the marker.
            return Action::Call(if self.restarted || self.giving_up.is_some() {
                Call::Find {
                    marker: marker.clone(),
                }
            } else {
                Call::Create { name: name.clone() }
            });
        }
        if let Some((step, message)) = &self.giving_up {
            return Action::Record(Record::Failed {
                failed_step: step.clone(),
                message: message.clone(),
                works: format!("the old key {} still works", self.plan.old),
            });
        }
        if !self.checked {
            return Action::Call(Call::Check {
                old: self.plan.old.clone(),
            });
        }
        let Some(new) = &self.new else {
            let marker = self.marker(self.attempts.saturating_add(1));
            return Action::Record(Record::Create {
                name: self.new_name(&marker),
                marker,
            });
        };
        #[cfg(test)]
        if self.mutant == Mutant::RevokeEarly && self.old == Old::Working {
            return Action::Call(Call::Revoke {
                id: self.plan.old.clone(),
            });
        }
        let Some(to) = &new.delivered else {
            return Action::Call(match &new.staged {
                Some(staged) => Call::Publish {
                    new: new.id.clone(),
                    staged: staged.clone(),
                },
                None => Call::Deliver {
                    new: new.id.clone(),
                },
            });
        };
        if !new.confirmed {
            return Action::Call(Call::Confirm {
                new: new.id.clone(),
            });
        }
        let Some((disable_at, revoke_at)) = self.retire else {
            let overlap = self.plan.overlap;
            let revoke_at = now.checked_add_signed(overlap.overlap).unwrap_or(now);
            let disable = self.plan.abilities.disable && overlap.disabled_for > TimeDelta::zero();
            let (disable_at, revoke_at) = match (overlap.overlap > TimeDelta::zero(), disable) {
                (true, true) => (
                    Some(revoke_at),
                    revoke_at
                        .checked_add_signed(overlap.disabled_for)
                        .unwrap_or(revoke_at),
                ),
                _ => (None, revoke_at),
            };
            return Action::Record(Record::Retire {
                disable_at,
                revoke_at,
            });
        };
        if !new.tagged
            && self.old == Old::Working
            && revoke_at > now
            && let Some(name) = self.tagged_name(disable_at, revoke_at)
        {
            return Action::Call(Call::Tag {
                new: new.id.clone(),
                name,
            });
        }
        match self.old {
            Old::Working => match disable_at {
                Some(at) if at > now => Action::Wait(at),
                Some(_) => Action::Call(Call::Disable {
                    old: self.plan.old.clone(),
                }),
                None if revoke_at > now => Action::Wait(revoke_at),
                None => Action::Call(Call::Revoke {
                    id: self.plan.old.clone(),
                }),
            },
            Old::Disabled if revoke_at > now => Action::Wait(revoke_at),
            Old::Disabled => Action::Call(Call::Revoke {
                id: self.plan.old.clone(),
            }),
            Old::Revoked => Action::Record(Record::Done {
                new: new.id.clone(),
                to: to.clone(),
            }),
        }
    }

    /// The new key's name once delivered during an overlap: its marker, then the old key's
    /// id and the times it is disabled and revoked (seconds since 1970, base 36), for a
    /// later run without the journal. `None` where the vendor cannot rename keys, or the
    /// old id would not survive the trip (only letters, digits and `-` do), or it does not fit.
    fn tagged_name(
        &self,
        disable_at: Option<DateTime<Utc>>,
        revoke_at: DateTime<Utc>,
    ) -> Option<String> {
        if !self.plan.abilities.rename
            || self.plan.old.is_empty()
            || !self
                .plan
                .old
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-')
        {
            return None;
        }
        let marker = self.marker(self.attempts);
        let disable = disable_at.map_or_else(String::new, |at| base36(at.timestamp()));
        let tail = format!(
            " {marker}.{}.{disable}.{}",
            self.plan.old,
            base36(revoke_at.timestamp())
        );
        let limit = self.plan.abilities.name_chars;
        if limit.is_some_and(|limit| tail.chars().count() >= limit) {
            return None;
        }
        let human = self.plan.name.as_deref().map_or("", strip_marker).trim();
        Some(fit(
            if human.is_empty() {
                "rotated key"
            } else {
                human
            },
            &tail,
            limit,
        ))
    }

    /// The records that say what a call's `reply` means.
    pub fn decide(&self, call: &Call, reply: Reply) -> Vec<Record> {
        let old = &self.plan.old;
        match (call, reply) {
            (Call::Check { .. }, Reply::Ok) => vec![Record::Checked],
            (Call::Check { .. }, Reply::Gone) => vec![Record::Failed {
                failed_step: "check".into(),
                message: format!("the old key {old} is not found with this credential"),
                works: "nothing was created".into(),
            }],
            (Call::Check { .. }, Reply::Failed(why)) => vec![Record::Failed {
                failed_step: "check".into(),
                message: format!("could not check the old key: {why}"),
                works: format!("the old key {old} still works; nothing was created"),
            }],
            (Call::Create { .. }, Reply::Created(new)) => vec![Record::Created { new }],
            // Created or not? `Find` tells, by the marker.
            (Call::Create { .. }, Reply::Failed(why)) => vec![Record::GiveUp {
                failed_step: "create".into(),
                message: format!("could not create the new key: {why}"),
            }],
            (Call::Find { .. }, Reply::Found(keys)) => vec![Record::Found { keys }],
            (Call::Deliver { new } | Call::Publish { new, .. }, Reply::Staged(staged)) => {
                vec![Record::Staged {
                    new: new.clone(),
                    staged,
                }]
            }
            (Call::Deliver { new } | Call::Publish { new, .. }, Reply::Delivered(to)) => {
                vec![Record::Delivered {
                    new: new.clone(),
                    to,
                }]
            }
            // A staged secret that cannot be published (a resumed run found something else
            // at its name): its key is discarded and the rotation redone with a new one.
            (Call::Publish { new, .. }, Reply::Failed(why)) => vec![Record::Discard {
                new: new.clone(),
                why: format!("its secret could not be published: {why}"),
            }],
            (Call::Deliver { new }, Reply::Failed(why)) => vec![
                Record::Discard {
                    new: new.clone(),
                    why: format!("its secret was not delivered: {why}"),
                },
                Record::GiveUp {
                    failed_step: "deliver".into(),
                    message: format!("could not deliver the new secret: {why}"),
                },
            ],
            (Call::Confirm { new }, Reply::Ok) => vec![Record::Confirmed { new: new.clone() }],
            (Call::Confirm { new }, Reply::Gone) => vec![
                Record::Discard {
                    new: new.clone(),
                    why: "the server does not know it".into(),
                },
                Record::GiveUp {
                    failed_step: "confirm".into(),
                    message: format!("the new key {new} could not be found again"),
                },
            ],
            (Call::Tag { new, name }, Reply::Ok) => vec![Record::Tagged {
                new: new.clone(),
                name: name.clone(),
            }],
            // Untagged, the journal alone carries the retirement: go on without.
            (Call::Tag { new, .. }, Reply::Failed(_) | Reply::Gone) => vec![Record::Tagged {
                new: new.clone(),
                name: String::new(),
            }],
            (Call::Disable { .. }, Reply::Ok) => vec![Record::Disabled],
            (Call::Disable { .. }, Reply::Gone) => vec![Record::Revoked],
            (Call::Revoke { id }, Reply::Ok | Reply::Gone) if self.discard.contains(id) => {
                vec![Record::Discarded { new: id.clone() }]
            }
            (Call::Revoke { id }, Reply::Ok | Reply::Gone) if id == old => vec![Record::Revoked],
            // Anything else (a failed confirm, disable or revoke, a failed or impossible
            // search): nothing is recorded and the run leaves the rotation open.
            _ => Vec::new(),
        }
    }
}

/// `text` without a marker of this tool's (and what follows it).
pub fn strip_marker(text: &str) -> &str {
    match text.find(MARKER_TAG) {
        Some(at) => text.get(..at).unwrap_or(text).trim_end(),
        None => text,
    }
}

/// The marker `name` carries, if any: `~ak1.<nonce>-<attempt>`.
pub fn marker_in(name: &str) -> Option<&str> {
    let at = name.find(MARKER_TAG)?;
    let rest = name.get(at..)?;
    let end = rest
        .char_indices()
        .skip(MARKER_TAG.len())
        .find(|(_, c)| !(c.is_ascii_alphanumeric() || *c == '-'))
        .map_or(rest.len(), |(i, _)| i);
    rest.get(..end)
}

/// What the name of a tagged key says: its marker, the key it replaces, and when that key
/// is disabled and revoked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    /// The marker (`~ak1.<nonce>-<attempt>`).
    pub marker: String,
    /// The old key.
    pub old: String,
    /// When the old key is disabled, if it is.
    pub disable_at: Option<DateTime<Utc>>,
    /// When it is revoked.
    pub revoke_at: DateTime<Utc>,
}

/// Reads the tag a delivered key's name carries during an overlap (see
/// [`Rotation::next`]'s `Tag` call); `None` for any name that is not exactly one.
pub fn tag_in(name: &str) -> Option<Tag> {
    let marker = marker_in(name)?;
    let rest = name.get(name.find(marker)?.checked_add(marker.len())?..)?;
    let mut parts = rest.strip_prefix('.')?.split('.');
    let (old, disable, revoke) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || old.is_empty()
        || !old.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    {
        return None;
    }
    let time = |text: &str| {
        let seconds = i64::from_str_radix(text, 36).ok()?;
        DateTime::<Utc>::from_timestamp(seconds, 0)
    };
    let disable_at = match disable {
        "" => None,
        text => Some(time(text)?),
    };
    Some(Tag {
        marker: marker.to_string(),
        old: old.to_string(),
        disable_at,
        revoke_at: time(revoke)?,
    })
}

/// The records that take over the retirement a tag describes, found on the vendor by a
/// run without the journal that started it (a CI runner, a container): the tagged key
/// `new` was delivered (it is tagged only once its delivery was proven) and confirmed,
/// and the old key retires as the tag says.
pub fn adopt(
    tag: &Tag,
    new: &str,
    old_name: Option<String>,
    abilities: Abilities,
    account: AccountId,
) -> Vec<Record> {
    let nonce = tag
        .marker
        .strip_prefix(MARKER_TAG)
        .and_then(|rest| rest.rsplit_once('-'))
        .map_or_else(String::new, |(nonce, _)| nonce.to_string());
    let plan = Plan {
        account,
        old: tag.old.clone(),
        name: old_name,
        why: vec!["retiring: its replacement was delivered by an earlier run".into()],
        expires_at: None,
        nonce,
        abilities,
        overlap: Overlap::default(),
    };
    vec![
        Record::Plan(plan),
        Record::Checked,
        Record::Create {
            marker: tag.marker.clone(),
            name: String::new(),
        },
        Record::Created { new: new.into() },
        Record::Delivered {
            new: new.into(),
            to: "an earlier run's sink".into(),
        },
        Record::Confirmed { new: new.into() },
        Record::Retire {
            disable_at: tag.disable_at,
            revoke_at: tag.revoke_at,
        },
        Record::Tagged {
            new: new.into(),
            name: String::new(),
        },
    ]
}

/// `human`, cut so that `human` + `tail` has at most `limit` characters (`tail` is never
/// cut; a limit it does not fit leaves only the tail).
fn fit(human: &str, tail: &str, limit: Option<usize>) -> String {
    let room = limit.map_or(usize::MAX, |limit| {
        limit.saturating_sub(tail.chars().count())
    });
    let kept: String = human.chars().take(room).collect();
    format!("{}{tail}", kept.trim_end())
        .trim_start()
        .to_string()
}

fn base36(value: i64) -> String {
    let mut n = value.unsigned_abs();
    let mut digits = Vec::new();
    loop {
        let digit = u32::try_from(n % 36).unwrap_or(0);
        digits.push(char::from_digit(digit, 36).unwrap_or('0'));
        n /= 36;
        if n == 0 {
            break;
        }
    }
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{}", digits.iter().rev().collect::<String>())
}

/// A fresh nonce: [`NONCE_CHARS`] characters of base 32 from the OS's CSPRNG (a v4 UUID's
/// random bits).
pub fn nonce() -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz234567";
    let bits = uuid::Uuid::new_v4().as_u128();
    (0..NONCE_CHARS)
        .map(|i| {
            let index = usize::try_from((bits >> (i * 5)) & 31).unwrap_or(0);
            char::from(ALPHABET.get(index).copied().unwrap_or(b'a'))
        })
        .collect()
}

#[cfg(test)]
mod tests;
