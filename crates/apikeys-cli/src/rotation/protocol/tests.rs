//! The protocol's unit tests, and its model check.
//!
//! The model checker is `stateright`: breadth-first over every reachable state of a small
//! world (a vendor's server, a sink, the journal, a clock and the process that drives the
//! protocol), with crashes, server faults and attacks as actions of their own. It was
//! chosen over `proptest-state-machine` because the issue is "every crash point and every
//! fault", which an exhaustive search covers within its bounds and a random one samples.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use stateright::{Checker, Model, Property};

use super::*;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).single().unwrap()
}

fn plan(old: &str, nonce: &str, abilities: Abilities, overlap: Overlap) -> Plan {
    Plan {
        account: AccountId::default(),
        old: old.into(),
        name: Some("production deploy key for the ci".into()),
        why: vec!["expired".into()],
        expires_at: None,
        nonce: nonce.into(),
        abilities,
        overlap,
    }
}

const ANY: Abilities = Abilities {
    name_chars: None,
    disable: false,
    rename: false,
};

#[test]
fn names_keep_the_marker_whole_and_cut_the_human_part() {
    let mut abilities = ANY;
    abilities.name_chars = Some(24);
    let rotation = Rotation::new(plan("7", "abcdefghij", abilities, Overlap::default()));
    let name = rotation.new_name("~ak1.abcdefghij-1");
    assert_eq!(name, "produc ~ak1.abcdefghij-1");
    assert!(name.chars().count() <= 24);
    assert_eq!(marker_in(&name), Some("~ak1.abcdefghij-1"));
    // A rotated key's name loses its marker before the next one is added.
    assert_eq!(strip_marker(&name), "produc");
    // A limit the marker alone fills leaves only the marker.
    abilities.name_chars = Some(5);
    let rotation = Rotation::new(plan("7", "abcdefghij", abilities, Overlap::default()));
    assert_eq!(rotation.new_name("~ak1.abcdefghij-1"), "~ak1.abcdefghij-1");
}

#[test]
fn equal_names_get_different_markers() {
    let a = Rotation::new(plan("1", &nonce(), ANY, Overlap::default()));
    let b = Rotation::new(plan("2", &nonce(), ANY, Overlap::default()));
    let (
        Action::Record(Record::Create { marker: ma, .. }),
        Action::Record(Record::Create { marker: mb, .. }),
    ) = (checked(a).next(start()), checked(b).next(start()))
    else {
        panic!("both create next");
    };
    assert_ne!(ma, mb);
}

fn checked(mut rotation: Rotation) -> Rotation {
    rotation.apply(&Record::Checked);
    rotation
}

#[test]
fn tags_round_trip_and_foreign_text_is_no_tag() {
    let at = start();
    let mut abilities = ANY;
    abilities.rename = true;
    abilities.disable = true;
    let overlap = Overlap {
        overlap: TimeDelta::hours(1),
        disabled_for: TimeDelta::hours(2),
    };
    let mut rotation = checked(Rotation::new(plan(
        "4870231",
        "abcdefghij",
        abilities,
        overlap,
    )));
    let Action::Record(create) = rotation.next(at) else {
        panic!("create next");
    };
    rotation.apply(&create);
    rotation.apply(&Record::Created { new: "9".into() });
    rotation.apply(&Record::Delivered {
        new: "9".into(),
        to: "f".into(),
    });
    rotation.apply(&Record::Confirmed { new: "9".into() });
    let Action::Record(retire) = rotation.next(at) else {
        panic!("retire next");
    };
    rotation.apply(&retire);
    let Action::Call(Call::Tag { name, .. }) = rotation.next(at) else {
        panic!("tag next");
    };
    let tag = tag_in(&name).unwrap();
    assert_eq!(tag.old, "4870231");
    assert_eq!(tag.marker, "~ak1.abcdefghij-1");
    assert_eq!(tag.disable_at, Some(at + TimeDelta::hours(1)));
    assert_eq!(tag.revoke_at, at + TimeDelta::hours(3));
    // Adopted by a run without the journal, the rotation goes on from the retirement.
    let mut adopted = Rotation::new(plan("x", "y", abilities, Overlap::default()));
    for record in adopt(&tag, "9", None, abilities, AccountId::default()) {
        adopted.apply(&record);
    }
    assert_eq!(adopted.next(at), Action::Wait(at + TimeDelta::hours(1)));
    assert_eq!(
        adopted.next(at + TimeDelta::hours(1)),
        Action::Call(Call::Disable {
            old: "4870231".into()
        })
    );
    for foreign in [
        "ci",
        "ci ~ak1.x-1",
        "ci ~ak1.x-1.7..",
        "ci ~ak1.x-1.7.zz.zzzzzzzzzzzzzzzzzzzz",
        "ci ~ak1.x-1.../etc.1",
        "ci ~ak1.x-1.7.1.1.1",
    ] {
        assert_eq!(tag_in(foreign), None, "{foreign}");
    }
}

#[test]
fn nonces_are_ten_base32_characters_and_differ() {
    let a = nonce();
    assert_eq!(a.len(), NONCE_CHARS);
    assert!(
        a.chars()
            .all(|c| c.is_ascii_lowercase() || ('2'..='7').contains(&c))
    );
    assert_ne!(a, nonce());
}

// ---------------------------------------------------------------------------------------
// The model.

/// Which sink the model's process delivers to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum SinkKind {
    /// `--secret-dir`: staged, then published (a file can be planted at the final name).
    Dir,
    /// `--secret-cmd` / stdout: delivered in one call.
    Command,
}

/// The world's bounds and settings.
#[derive(Clone, Debug)]
struct World {
    sink: SinkKind,
    abilities: Abilities,
    overlap: Overlap,
    crashes: u8,
    faults: u8,
    ticks: u8,
    mutant: Mutant,
    /// The driver takes a 404 on revoke at its word (the broken driver of a test).
    trust_404: bool,
    /// The driver replays journal lines without checking their seals (likewise).
    trust_forged: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct Key {
    name: String,
    enabled: bool,
    /// Whether the user holds its secret.
    held: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum FileAt {
    Ours(String),
    Planted,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct State {
    /// The journal: which rotation, and the record.
    journal: Vec<(usize, Record)>,
    /// The process's view of each rotation.
    machines: Vec<Rotation>,
    /// Rotations whose restart records (`Rotation::resumed`) are still to be written.
    restarting: Vec<bool>,
    /// The new key whose secret the process holds in memory.
    secret: Option<String>,
    server: BTreeMap<String, Key>,
    next_id: u8,
    files: BTreeMap<String, FileAt>,
    partials: BTreeSet<String>,
    crashes: u8,
    faults: u8,
    ticks: u8,
    /// A key the tool must not touch was touched.
    trespass: Option<String>,
    /// Journal lines not sealed by the account (forged), by rotation.
    forged: Vec<(usize, Record)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Fault {
    /// The call fails before the server commits anything.
    Refused,
    /// The server commits, the answer is lost.
    Lost,
    /// The sink fails.
    Sink,
    /// The server answers 404 for a key it still has (a lagging replica).
    Gone,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
enum Step {
    /// The process takes rotation `i`'s next action, and it goes well.
    Go(usize),
    /// The same, with a fault.
    Fail(usize, Fault),
    /// The process is killed (or exits) and is started again with `--resume`.
    Crash,
    /// An hour passes.
    Tick,
    /// Someone appends a line to the journal, not sealed by the account, saying that
    /// rotation `i` created the bystander's key.
    Forge(usize),
}

const OLD: [&str; 2] = ["o1", "o2"];
const NONCES: [&str; 2] = ["nonceaaaaa", "noncebbbbb"];

impl World {
    fn now(&self, state: &State) -> DateTime<Utc> {
        start() + TimeDelta::hours(i64::from(self.ticks - state.ticks))
    }

    /// Whether the tool may touch `id` (invariant 3): a planned old key, or a key carrying
    /// a marker the journal recorded.
    fn may_touch(state: &State, id: &str) -> bool {
        if OLD.contains(&id) {
            return true;
        }
        let Some(key) = state.server.get(id) else {
            return true; // gone already: touching it changes nothing
        };
        marker_in(&key.name).is_some_and(|marker| {
            state
                .journal
                .iter()
                .any(|(_, r)| matches!(r, Record::Create { marker: m, .. } if m == marker))
        })
    }

    /// Carries out `call` of rotation `i`, with `fault`, and returns the reply.
    fn call(&self, state: &mut State, call: &Call, fault: Option<&Fault>) -> Reply {
        let refused = matches!(fault, Some(Fault::Refused));
        let lost = matches!(fault, Some(Fault::Lost));
        let failed = || Reply::Failed("fault".into());
        match call {
            Call::Check { old } => match (refused, state.server.contains_key(old)) {
                (true, _) => failed(),
                (false, true) => Reply::Ok,
                (false, false) => Reply::Gone,
            },
            Call::Create { name } => {
                if refused {
                    return failed();
                }
                state.next_id += 1;
                let id = format!("n{}", state.next_id);
                let key = Key {
                    name: name.clone(),
                    enabled: true,
                    held: false,
                };
                state.server.insert(id.clone(), key);
                if lost {
                    return failed();
                }
                state.secret = Some(id.clone());
                Reply::Created(id)
            }
            Call::Find { marker } => {
                if refused {
                    return failed();
                }
                let found = state
                    .server
                    .iter()
                    .filter(|(_, key)| marker_in(&key.name) == Some(marker.as_str()))
                    .map(|(id, _)| id.clone())
                    .collect();
                Reply::Found(found)
            }
            Call::Deliver { new } => {
                if matches!(fault, Some(Fault::Sink)) || state.secret.as_ref() != Some(new) {
                    return failed();
                }
                match self.sink {
                    SinkKind::Command => {
                        if let Some(key) = state.server.get_mut(new) {
                            key.held = true;
                        }
                        Reply::Delivered("secret-cmd".into())
                    }
                    SinkKind::Dir => {
                        state.partials.insert(new.clone());
                        Reply::Staged(Staged {
                            to: format!("file-{new}"),
                            file: format!("inode-{new}"),
                        })
                    }
                }
            }
            Call::Publish { new, staged } => {
                // What `Sink::publish` does: the final name counts only if it is the
                // staged file; else the staged file is linked there.
                if matches!(fault, Some(Fault::Sink)) {
                    return failed();
                }
                let ours = staged.file == format!("inode-{new}");
                match state.files.get(&staged.to) {
                    Some(FileAt::Ours(id)) if id == new && ours => {}
                    Some(_) => return failed(),
                    None if ours && state.partials.contains(new) => {
                        state
                            .files
                            .insert(staged.to.clone(), FileAt::Ours(new.clone()));
                    }
                    None => return failed(),
                }
                if let Some(key) = state.server.get_mut(new) {
                    key.held = true;
                }
                Reply::Delivered(staged.to.clone())
            }
            Call::Confirm { new } => match (refused, state.server.contains_key(new)) {
                (true, _) => failed(),
                (false, true) => Reply::Ok,
                (false, false) => Reply::Gone,
            },
            Call::Tag { new, name } => {
                self.touch(state, new);
                if refused {
                    return failed();
                }
                match state.server.get_mut(new) {
                    Some(key) => {
                        key.name = name.clone();
                        Reply::Ok
                    }
                    None => Reply::Gone,
                }
            }
            Call::Disable { old } => {
                self.touch(state, old);
                if refused {
                    return failed();
                }
                match state.server.get_mut(old) {
                    Some(key) => {
                        key.enabled = false;
                        if lost { failed() } else { Reply::Ok }
                    }
                    None => Reply::Gone,
                }
            }
            Call::Revoke { id } => {
                self.touch(state, id);
                if refused {
                    return failed();
                }
                if matches!(fault, Some(Fault::Gone)) {
                    // What `Engine::call` does with a 404: asks again; the key is there.
                    return match (self.trust_404, state.server.contains_key(id)) {
                        (false, true) => failed(),
                        _ => Reply::Gone,
                    };
                }
                match state.server.remove(id) {
                    Some(_) if lost => failed(),
                    Some(_) => Reply::Ok,
                    None => Reply::Gone,
                }
            }
        }
    }

    fn touch(&self, state: &mut State, id: &str) {
        if !World::may_touch(state, id) && state.trespass.is_none() {
            state.trespass = Some(id.to_string());
        }
    }

    /// The keys rotation `i` created (by its nonce), alive on the server.
    fn created_by(state: &State, i: usize) -> Vec<(&String, &Key)> {
        state
            .server
            .iter()
            .filter(|(_, key)| {
                marker_in(&key.name).is_some_and(|m| m.starts_with(&format!("~ak1.{}-", NONCES[i])))
            })
            .collect()
    }
}

impl Model for World {
    type State = State;
    type Action = Step;

    fn init_states(&self) -> Vec<State> {
        let mut server = BTreeMap::new();
        // Two due keys with equal names, and a key of someone else's with the same name.
        for id in OLD.iter().chain(["foreign"].iter()) {
            let key = Key {
                name: "production deploy key for the ci".into(),
                enabled: true,
                held: *id != "foreign",
            };
            server.insert(id.to_string(), key);
        }
        let mut journal = Vec::new();
        let mut machines = Vec::new();
        for (i, old) in OLD.iter().enumerate() {
            let plan = plan(old, NONCES[i], self.abilities, self.overlap);
            let mut machine = Rotation::new(plan.clone());
            machine.mutant = self.mutant;
            journal.push((i, Record::Plan(plan)));
            machines.push(machine);
        }
        let state = State {
            journal,
            machines,
            restarting: vec![false; OLD.len()],
            secret: None,
            server,
            next_id: 0,
            files: BTreeMap::new(),
            partials: BTreeSet::new(),
            crashes: self.crashes,
            faults: self.faults,
            ticks: self.ticks,
            trespass: None,
            forged: Vec::new(),
        };
        // Someone may have planted a file where the first new key's secret is published.
        let mut planted = state.clone();
        planted.files.insert("file-n1".into(), FileAt::Planted);
        match self.sink {
            SinkKind::Dir => vec![state, planted],
            SinkKind::Command => vec![state],
        }
    }

    fn actions(&self, state: &State, actions: &mut Vec<Step>) {
        // Keys of one account go one after another: the first rotation that can act.
        let now = self.now(state);
        let active = (0..state.machines.len()).find(|&i| {
            state.restarting[i]
                || matches!(
                    state.machines[i].next(now),
                    Action::Record(_) | Action::Call(_)
                )
        });
        if let Some(i) = active {
            actions.push(Step::Go(i));
            let is_call =
                !state.restarting[i] && matches!(state.machines[i].next(now), Action::Call(_));
            if is_call && state.faults > 0 {
                actions.push(Step::Fail(i, Fault::Refused));
                actions.push(Step::Fail(i, Fault::Lost));
                actions.push(Step::Fail(i, Fault::Gone));
                if matches!(
                    state.machines[i].next(now),
                    Action::Call(Call::Deliver { .. } | Call::Publish { .. })
                ) {
                    actions.push(Step::Fail(i, Fault::Sink));
                }
            }
        }
        if state.crashes > 0 {
            actions.push(Step::Crash);
        }
        if state.forged.is_empty() {
            actions.push(Step::Forge(0));
        }
        // The clock moves while the process waits for an overlap to pass.
        if state.ticks > 0 && active.is_none() {
            actions.push(Step::Tick);
        }
    }

    fn next_state(&self, last: &State, step: Step) -> Option<State> {
        let mut state = last.clone();
        let now = self.now(&state);
        match step {
            Step::Go(i) | Step::Fail(i, _) => {
                let fault = match &step {
                    Step::Fail(_, fault) => {
                        state.faults -= 1;
                        Some(fault.clone())
                    }
                    _ => None,
                };
                if state.restarting[i] {
                    // One restart record at a time: a crash can come between two.
                    match state.machines[i].resumed().into_iter().next() {
                        Some(record) => {
                            state.journal.push((i, record.clone()));
                            state.machines[i].apply(&record);
                        }
                        None => state.restarting[i] = false,
                    }
                    return Some(state);
                }
                match state.machines[i].next(now) {
                    Action::Record(record) => {
                        state.journal.push((i, record.clone()));
                        state.machines[i].apply(&record);
                    }
                    Action::Call(call) => {
                        let reply = self.call(&mut state, &call, fault.as_ref());
                        let records = state.machines[i].decide(&call, reply);
                        if records.is_empty() {
                            state.machines[i].stick("a call failed".into());
                        }
                        for record in records {
                            state.journal.push((i, record.clone()));
                            state.machines[i].apply(&record);
                        }
                    }
                    _ => return None,
                }
            }
            Step::Crash => {
                state.crashes -= 1;
                state.secret = None;
                for (i, machine) in state.machines.iter_mut().enumerate() {
                    let mut fresh = Rotation::new(machine.plan().clone());
                    fresh.mutant = self.mutant;
                    // What `open_rotations` does: only the account's sealed lines count.
                    let forged = state.forged.iter().filter(|_| self.trust_forged);
                    for (_, record) in state.journal.iter().chain(forged).filter(|(j, _)| *j == i) {
                        fresh.apply(record);
                    }
                    *machine = fresh;
                }
                state.restarting = vec![true; state.machines.len()];
            }
            Step::Tick => state.ticks -= 1,
            Step::Forge(i) => state.forged.push((
                i,
                Record::Created {
                    new: "foreign".into(),
                },
            )),
        }
        Some(state)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            // 1. The user holds a working key of every planned rotation.
            Property::always("a working key whose secret the user has", |_, s: &State| {
                (0..OLD.len()).all(|i| {
                    let old = s.server.get(OLD[i]).is_some_and(|k| k.enabled && k.held);
                    old || World::created_by(s, i)
                        .iter()
                        .any(|(_, k)| k.enabled && k.held)
                })
            }),
            // 2. A created key carries a marker the journal recorded before it existed...
            Property::always("every created key is in the journal", |_, s: &State| {
                s.server.iter().filter(|(id, _)| id.starts_with('n')).all(|(_, key)| {
                    marker_in(&key.name).is_some_and(|marker| {
                        s.journal
                            .iter()
                            .any(|(_, r)| matches!(r, Record::Create { marker: m, .. } if m == marker))
                    })
                })
            }),
            // ...and once a rotation is over, its keys are the one kept or none.
            // 4. At most one new key per rotation survives.
            Property::always(
                "a finished rotation leaves one new key or none",
                |_, s: &State| {
                    (0..OLD.len()).all(|i| {
                        let machine = &s.machines[i];
                        let alive = World::created_by(s, i);
                        if !machine.closed() {
                            return true;
                        }
                        match machine.new_key() {
                            Some(new) => {
                                alive.len() == 1 && alive.iter().all(|(id, k)| *id == new && k.held)
                            }
                            None => alive.is_empty(),
                        }
                    })
                },
            ),
            // 3. Only the planned old key or a key with a recorded marker is touched.
            Property::always("no other key is touched", |_, s: &State| {
                s.trespass.is_none() && s.server.contains_key("foreign")
            }),
            // 5. No secret in the journal (secrets live only in the process and the sink).
            Property::always("no secret in the journal", |_, s: &State| {
                !format!("{:?}", s.journal).contains("secret-of")
            }),
            // The vendor's name limit holds, the marker whole.
            Property::always(
                "names fit the vendor's limit",
                |model: &World, s: &State| {
                    s.journal.iter().all(|(_, r)| match r {
                        Record::Create { marker, name } => {
                            name.contains(marker.as_str())
                                && model
                                    .abilities
                                    .name_chars
                                    .is_none_or(|n| name.chars().count() <= n)
                        }
                        Record::Tagged { name, .. } => model
                            .abilities
                            .name_chars
                            .is_none_or(|n| name.chars().count() <= n),
                        _ => true,
                    })
                },
            ),
            Property::sometimes("both rotations done", |_, s: &State| {
                s.journal
                    .iter()
                    .filter(|(_, r)| matches!(r, Record::Done { .. }))
                    .count()
                    == 2
            }),
        ]
    }
}

fn world(sink: SinkKind, abilities: Abilities, overlap: Overlap) -> World {
    World {
        sink,
        abilities,
        overlap,
        crashes: 2,
        faults: 1,
        ticks: 2,
        mutant: Mutant::None,
        trust_404: false,
        trust_forged: false,
    }
}

/// Every world the check covers: each sink, with and without an overlap, with and without
/// a vendor that can disable or rename keys, under a tight name limit.
fn worlds() -> Vec<(String, World)> {
    let overlap = Overlap {
        overlap: TimeDelta::hours(1),
        disabled_for: TimeDelta::hours(1),
    };
    let tight = Abilities {
        name_chars: Some(50),
        disable: false,
        rename: true,
    };
    let disabling = Abilities {
        name_chars: None,
        disable: true,
        rename: true,
    };
    let mut worlds = Vec::new();
    for sink in [SinkKind::Dir, SinkKind::Command] {
        worlds.push((
            format!("{sink:?}, no overlap, 50 chars"),
            world(sink, tight, Overlap::default()),
        ));
        worlds.push((
            format!("{sink:?}, overlap, revoke only, 50 chars"),
            world(sink, tight, overlap),
        ));
        worlds.push((
            format!("{sink:?}, overlap, disable then revoke"),
            world(sink, disabling, overlap),
        ));
    }
    worlds
}

#[test]
fn the_model_checker_finds_no_reachable_state_that_breaks_an_invariant() {
    let mut total = 0;
    for (name, world) in worlds() {
        let checker = world.checker().threads(2).spawn_bfs().join();
        checker.assert_properties();
        let states = checker.unique_state_count();
        eprintln!("model `{name}`: {states} states, all invariants hold");
        total += states;
    }
    eprintln!("model: {total} states in all");
}

#[test]
fn the_model_checker_finds_a_broken_driver() {
    let broken = |trust_404: bool| {
        let mut world = world(SinkKind::Command, ANY, Overlap::default());
        world.trust_404 = trust_404;
        world.trust_forged = !trust_404;
        let checker = world.checker().threads(2).spawn_bfs().join();
        checker
            .discoveries()
            .into_keys()
            .filter(|name| *name != "both rotations done")
            .collect::<Vec<_>>()
    };
    let found = broken(true);
    assert!(!found.is_empty(), "trusting a 404 went unnoticed");
    eprintln!("a driver that trusts a 404 on revoke breaks: {found:?}");
    let found = broken(false);
    assert!(!found.is_empty(), "trusting forged lines went unnoticed");
    eprintln!("a driver that replays unsealed lines breaks: {found:?}");
}

#[test]
fn the_model_checker_finds_a_broken_transition() {
    for mutant in [Mutant::SkipFind, Mutant::RevokeEarly] {
        let mut world = world(SinkKind::Dir, ANY, Overlap::default());
        world.mutant = mutant;
        let checker = world.checker().threads(2).spawn_bfs().join();
        let broken: Vec<_> = checker
            .discoveries()
            .into_keys()
            .filter(|name| *name != "both rotations done")
            .collect();
        assert!(!broken.is_empty(), "{mutant:?} went unnoticed");
        eprintln!("mutant {mutant:?} breaks: {broken:?}");
    }
}
