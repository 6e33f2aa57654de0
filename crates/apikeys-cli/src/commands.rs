//! The vendor commands: `list`, `get`, `create`, `update`, `revoke` and `rotate`, run on
//! whichever `KeyLifecycle` the command line describes.

use apikeys_common::{
    CreatedKey, Error, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, PartialKey, RotationError,
    rotate_with,
};
use futures::TryStreamExt;
use serde::Serialize;

use crate::cli::Action;
use crate::connect::Invocation;
use crate::exit::{Failure, exit_code};
use crate::output;
use crate::secrets::{Destination, Opened};

/// Runs one vendor command; what went wrong comes back as a [`Failure`].
pub async fn run(invocation: Invocation, json: bool) -> Result<(), Failure> {
    let vendor = invocation.target.vendor();
    // A new secret needs somewhere to go, and a name must be a name: both are checked
    // before anything is sent.
    match &invocation.action {
        Action::Create(args) => check_new(&args.name, &destination_of_create(args))?,
        Action::Rotate(args) => check_new(&args.name, &destination_of_rotate(args))?,
        Action::Update(args) if args.name.as_deref().is_some_and(|n| n.trim().is_empty()) => {
            return Err(Failure::invalid("--name cannot be empty"));
        }
        _ => {}
    }
    let keys = invocation
        .target
        .lifecycle()
        .map_err(|e| Failure::from_error(&e))?;
    let keys = keys.as_ref();
    match invocation.action {
        Action::List => {
            let all = list(keys, output::spinner(&format!("listing {vendor} keys")))
                .await
                .map_err(|e| Failure::from_error(&e))?;
            output::print_keys(&all, json)
        }
        Action::Get { id } => {
            let key = keys.get(&id).await.map_err(|e| Failure::from_error(&e))?;
            print_key(&key, json)
        }
        Action::Create(args) => {
            let destination = destination_of_create(&args);
            let mut opened = destination.open()?;
            let new = NewKey::named(args.name).expires_at(args.expires_at);
            match keys.create(&new).await {
                Ok(created) => {
                    let shown = created_text(vendor, "created", &created, &destination, json);
                    let shown = keep(keys, vendor, &created, &mut opened, shown).await?;
                    print_unshown(&destination, &shown)
                }
                Err(error) => {
                    if let Some(partial) = error.created_key() {
                        report_partial(keys, vendor, partial, &mut opened, &destination, json)
                            .await?;
                    }
                    Err(Failure::from_error(&error))
                }
            }
        }
        Action::Update(args) => {
            let mut update = KeyUpdate::new();
            update.name = args.name;
            update.enabled = match (args.enable, args.disable) {
                (true, _) => Some(true),
                (_, true) => Some(false),
                _ => None,
            };
            let key = keys
                .update(&args.id, &update)
                .await
                .map_err(|e| Failure::from_error(&e))?;
            print_key(&key, json)
        }
        Action::Revoke { id } => {
            keys.revoke(&id)
                .await
                .map_err(|e| Failure::from_error(&e))?;
            if json {
                output::print_json(&serde_json::json!({ "revoked": id }))
            } else {
                output::print(&format!("revoked {vendor} key {}", output::sanitize(&id)))
            }
        }
        Action::Rotate(args) => {
            let destination = destination_of_rotate(&args);
            let new = NewKey::named(args.name).expires_at(args.expires_at);
            rotate(keys, vendor, &args.old, &new, &destination, json).await
        }
    }
}

/// The rotation of `apikeys_common::rotate_with` (check, create, confirm, deliver, revoke),
/// the new secret written and synced to its file, and printed and flushed to stdout, as the
/// deliver step, before the old key is revoked. A secret that reached no one makes the new
/// key useless: `rotate_with` revokes it and the old key stays.
async fn rotate(
    keys: &dyn KeyLifecycle,
    vendor: &str,
    old: &str,
    new: &NewKey,
    destination: &Destination,
    json: bool,
) -> Result<(), Failure> {
    let mut opened = destination.open()?;
    let rotated = rotate_with(keys, old, new, async |created| {
        replacing_text(vendor, old, created, json)
            .and_then(|shown| opened.deliver(&created.secret, Some(&shown)))
            .map_err(|failure| Error::delivery(failure.message))
    })
    .await;
    let created = match rotated {
        Ok(created) => created,
        Err(error) => {
            match &error {
                RotationError::Create(create) => {
                    if let Some(partial) = create.created_key() {
                        report_partial(keys, vendor, partial, &mut opened, destination, json)
                            .await?;
                    }
                }
                // The key may exist although the server could not find it again: its
                // secret is kept, so that it can be used or revoked.
                RotationError::Confirm { created, .. } => {
                    let shown = created_text(vendor, STOPPED, created, destination, json);
                    let shown = keep(keys, vendor, created, &mut opened, shown)
                        .await
                        .map_err(|failure| failure.context(&rotation_failure(&error).message))?;
                    print_unshown(destination, &shown)?;
                }
                // The secret is where it was to go, and both keys work.
                RotationError::Revoke { created, .. } => {
                    let shown = created_text(vendor, STOPPED, created, destination, json)?;
                    print_unshown(destination, &shown)?;
                }
                _ => {}
            }
            return Err(rotation_failure(&error));
        }
    };
    if destination.show {
        // Shown, as the delivery, before the old key went.
        return Ok(());
    }
    if json {
        return output::print_json(&RotatedJson {
            old,
            new: &created.key,
            secret: None,
        });
    }
    let what = format!(
        "rotated {vendor} key {}: old key revoked,",
        output::sanitize(old)
    );
    print_created(vendor, &what, &created, destination, json)
}

/// What `rotate --show-secret` prints as its delivery, before the old key is revoked: the
/// new key, and its secret alone on the last line (`--json`: `{"old", "new", "secret"}`).
fn replacing_text(
    vendor: &str,
    old: &str,
    created: &CreatedKey,
    json: bool,
) -> Result<String, Failure> {
    if json {
        return json_text(&RotatedJson {
            old,
            new: &created.key,
            secret: Some(created.secret.expose_secret()),
        });
    }
    Ok(format!(
        "{vendor} key {} replaces {} (revoked next); its secret:\n{}",
        output::sanitize(&created.key.id),
        output::sanitize(old),
        created.secret.expose_secret()
    ))
}

/// Delivers a new key's secret (`shown` is what stdout gets with `--show-secret`) and
/// returns `shown`; a key whose secret reached no one is revoked, as nobody could use it.
async fn keep(
    keys: &dyn KeyLifecycle,
    vendor: &str,
    created: &CreatedKey,
    opened: &mut Opened,
    shown: Result<String, Failure>,
) -> Result<String, Failure> {
    let delivered = shown.and_then(|shown| {
        opened
            .deliver(&created.secret, Some(&shown))
            .map(|()| shown)
    });
    match delivered {
        Ok(shown) => Ok(shown),
        Err(failure) => Err(revoke_undelivered(keys, vendor, &created.key.id, failure).await),
    }
}

/// Revokes the key `id`, whose secret could not be delivered (`failure`), and says so; if
/// that fails too, the failure names the key to revoke.
async fn revoke_undelivered(
    keys: &dyn KeyLifecycle,
    vendor: &str,
    id: &str,
    mut failure: Failure,
) -> Failure {
    let id_text = output::sanitize(id);
    match keys.revoke(id).await {
        Ok(()) => {
            failure.message = format!(
                "{}; the new {vendor} key {id_text} was revoked, as its secret reached no one",
                failure.message
            );
        }
        Err(error) => {
            failure.message = format!(
                "{}; revoke the new {vendor} key {id_text}: its secret reached no one, and \
                 it could not be revoked ({})",
                failure.message,
                crate::exit::chain(&error)
            );
        }
    }
    failure
}

/// What a rotation that stopped after creating its new key says of that key.
const STOPPED: &str = "rotation stopped (the old key still works) after it created";

/// `rotate --json`: the old id, the new key, and its secret when asked for.
#[derive(Serialize)]
struct RotatedJson<'a> {
    old: &'a str,
    new: &'a KeyInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

fn destination_of_create(args: &crate::cli::CreateArgs) -> Destination {
    Destination {
        file: args.secret_file.clone(),
        force: args.force,
        show: args.show_secret,
    }
}

fn destination_of_rotate(args: &crate::cli::RotateArgs) -> Destination {
    Destination {
        file: args.secret_file.clone(),
        force: args.force,
        show: args.show_secret,
    }
}

/// What `create` and `rotate` check before sending anything.
fn check_new(name: &str, destination: &Destination) -> Result<(), Failure> {
    if name.trim().is_empty() {
        return Err(Failure::invalid("--name cannot be empty"));
    }
    destination.check()
}

/// A key the server created before a later step failed: its id and secret go where the
/// user asked, so that it can be used or revoked (revoked at once if the secret cannot
/// go there).
async fn report_partial(
    keys: &dyn KeyLifecycle,
    vendor: &str,
    partial: &PartialKey,
    opened: &mut Opened,
    destination: &Destination,
    json: bool,
) -> Result<(), Failure> {
    let id = partial
        .id
        .as_deref()
        .map_or_else(|| "(id unknown)".to_string(), output::sanitize);
    let secret = partial.secret.as_ref().map(|s| s.expose_secret());
    let shown = if json {
        json_text(&serde_json::json!({
            "incomplete": { "id": partial.id, "secret": secret.filter(|_| destination.show) }
        }))
    } else {
        let mut text = format!("{vendor} created key {id} before the failure below");
        match (secret, &destination.file) {
            (Some(secret), _) if destination.show => {
                text.push_str(&format!("; its secret:\n{secret}"))
            }
            (Some(_), Some(path)) => {
                text.push_str(&format!("; its secret is in {}", path.display()))
            }
            _ => text.push_str("; its secret was not received"),
        }
        Ok(text)
    };
    let Some(secret) = &partial.secret else {
        return output::print(&shown?);
    };
    let delivered = shown.and_then(|shown| opened.deliver(secret, Some(&shown)).map(|()| shown));
    match delivered {
        Ok(shown) => print_unshown(destination, &shown),
        Err(failure) => Err(match &partial.id {
            Some(id) => revoke_undelivered(keys, vendor, id, failure).await,
            None => failure.context(&format!(
                "{vendor} created a key whose id it did not say, and its secret reached no one"
            )),
        }),
    }
}

/// Every key of the scope, counted on `spinner` as the pages come in.
pub async fn list(
    keys: &dyn KeyLifecycle,
    spinner: indicatif::ProgressBar,
) -> apikeys_common::Result<Vec<KeyInfo>> {
    let mut stream = keys.list();
    let mut all = Vec::new();
    let result = loop {
        match stream.try_next().await {
            Ok(Some(key)) => {
                all.push(key);
                spinner.inc(1);
            }
            Ok(None) => break Ok(all),
            Err(error) => break Err(error),
        }
    };
    spinner.finish_and_clear();
    result
}

/// A failed rotation: its step, what still works, and the exit code of its cause.
fn rotation_failure(error: &RotationError) -> Failure {
    Failure {
        exit: exit_code(error.error()),
        message: format!(
            "rotation failed at the {} step: {}",
            error.step(),
            crate::exit::chain(error)
        ),
    }
}

fn print_key(key: &KeyInfo, json: bool) -> Result<(), Failure> {
    if json {
        output::print_json(key)
    } else {
        output::print_keys(std::slice::from_ref(key), false)
    }
}

/// A new key as `--json` shows it; `secret` is there only when asked for.
#[derive(Serialize)]
struct CreatedJson<'a> {
    key: &'a KeyInfo,
    #[serde(skip_serializing_if = "Option::is_none")]
    secret: Option<&'a str>,
}

/// Reports a new key: its id, and its secret alone on one stdout line when shown.
fn print_created(
    vendor: &str,
    what: &str,
    created: &CreatedKey,
    destination: &Destination,
    json: bool,
) -> Result<(), Failure> {
    output::print(&created_text(vendor, what, created, destination, json)?)
}

/// What [`print_created`] prints.
fn created_text(
    vendor: &str,
    what: &str,
    created: &CreatedKey,
    destination: &Destination,
    json: bool,
) -> Result<String, Failure> {
    let secret = destination.show.then(|| created.secret.expose_secret());
    if json {
        return json_text(&CreatedJson {
            key: &created.key,
            secret,
        });
    }
    let id = output::sanitize(&created.key.id);
    Ok(match (secret, &destination.file) {
        (Some(secret), _) => format!("{what} {vendor} key {id}; its secret:\n{secret}"),
        (None, Some(path)) => format!(
            "{what} {vendor} key {id}; its secret is in {}",
            path.display()
        ),
        (None, None) => format!("{what} {vendor} key {id}"),
    })
}

/// Prints `text` unless it went to stdout already, as the delivery of `--show-secret`.
fn print_unshown(destination: &Destination, text: &str) -> Result<(), Failure> {
    if destination.show {
        Ok(())
    } else {
        output::print(text)
    }
}

/// `value` as pretty JSON.
fn json_text(value: &impl Serialize) -> Result<String, Failure> {
    serde_json::to_string_pretty(value)
        .map_err(|e| Failure::other(format!("could not write JSON: {e}")))
}
