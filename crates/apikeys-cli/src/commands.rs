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
use crate::secrets::Destination;

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
            let new = NewKey::named(args.name).expires_at(args.expires_at);
            match keys.create(&new).await {
                Ok(created) => {
                    store(vendor, &created, &destination, "")?;
                    print_created(vendor, "created", &created, &destination, json)
                }
                Err(error) => {
                    if let Some(partial) = error.created_key() {
                        report_partial(vendor, partial, &destination, json)?;
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
/// the new secret written and synced to its destination as the deliver step, before the
/// old key is revoked. A secret that cannot be written makes the new key useless:
/// `rotate_with` revokes it and the old key stays.
async fn rotate(
    keys: &dyn KeyLifecycle,
    vendor: &str,
    old: &str,
    new: &NewKey,
    destination: &Destination,
    json: bool,
) -> Result<(), Failure> {
    let rotated = rotate_with(keys, old, new, |created| {
        let stored = destination
            .store(&created.secret)
            .map_err(|failure| Error::delivery(failure.message));
        Box::pin(futures::future::ready(stored))
    })
    .await;
    let created = match rotated {
        Ok(created) => created,
        Err(error) => {
            match &error {
                RotationError::Create(create) => {
                    if let Some(partial) = create.created_key() {
                        report_partial(vendor, partial, destination, json)?;
                    }
                }
                // The key may exist although the server could not find it again: its
                // secret is kept, so that it can be used or revoked.
                RotationError::Confirm { created, .. } => {
                    store(vendor, created, destination, "; the old key still works")?;
                    print_created(vendor, STOPPED, created, destination, json)?;
                }
                // The secret is where it was to go, and both keys work.
                RotationError::Revoke { created, .. } => {
                    print_created(vendor, STOPPED, created, destination, json)?;
                }
                _ => {}
            }
            return Err(rotation_failure(&error));
        }
    };
    if json {
        return output::print_json(&RotatedJson {
            old,
            new: &created.key,
            secret: destination.show.then(|| created.secret.expose_secret()),
        });
    }
    let what = format!(
        "rotated {vendor} key {}: old key revoked,",
        output::sanitize(old)
    );
    print_created(vendor, &what, &created, destination, json)
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

/// Writes the new secret to its file; should that fail, the error names the new key, so
/// that it can be revoked (its secret is then lost, as the file could not take it).
fn store(
    vendor: &str,
    created: &CreatedKey,
    destination: &Destination,
    after: &str,
) -> Result<(), Failure> {
    destination.store(&created.secret).map_err(|failure| {
        failure.context(&format!(
            "{vendor} created key {} (revoke it){after}",
            output::sanitize(&created.key.id)
        ))
    })
}

/// What `create` and `rotate` check before sending anything.
fn check_new(name: &str, destination: &Destination) -> Result<(), Failure> {
    if name.trim().is_empty() {
        return Err(Failure::invalid("--name cannot be empty"));
    }
    destination.check()
}

/// A key the server created before a later step failed: its id and secret go where the
/// user asked, so that it can be used or revoked.
fn report_partial(
    vendor: &str,
    partial: &PartialKey,
    destination: &Destination,
    json: bool,
) -> Result<(), Failure> {
    if let Some(secret) = &partial.secret {
        destination.store(secret)?;
    }
    let secret = partial
        .secret
        .as_ref()
        .filter(|_| destination.show)
        .map(|s| s.expose_secret());
    if json {
        return output::print_json(&serde_json::json!({
            "incomplete": { "id": partial.id, "secret": secret }
        }));
    }
    let id = partial
        .id
        .as_deref()
        .map_or_else(|| "(id unknown)".to_string(), output::sanitize);
    let mut text = format!("{vendor} created key {id} before the failure below");
    match (secret, &destination.file, &partial.secret) {
        (Some(secret), _, _) => text.push_str(&format!("; its secret:\n{secret}")),
        (None, Some(path), Some(_)) => {
            text.push_str(&format!("; its secret is in {}", path.display()))
        }
        _ => text.push_str("; its secret was not received"),
    }
    output::print(&text)
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
        message: format!("rotation failed at the {} step: {error}", error.step()),
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
    let secret = destination.show.then(|| created.secret.expose_secret());
    if json {
        return output::print_json(&CreatedJson {
            key: &created.key,
            secret,
        });
    }
    let id = output::sanitize(&created.key.id);
    match (secret, &destination.file) {
        (Some(secret), _) => {
            output::print(&format!("{what} {vendor} key {id}; its secret:\n{secret}"))
        }
        (None, Some(path)) => output::print(&format!(
            "{what} {vendor} key {id}; its secret is in {}",
            path.display()
        )),
        (None, None) => output::print(&format!("{what} {vendor} key {id}")),
    }
}
