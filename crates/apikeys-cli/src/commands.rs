//! The vendor commands: `list`, `get`, `create`, `update`, `revoke` and `rotate`, run on
//! whichever `KeyLifecycle` the command line describes.

use apikeys_common::{CreatedKey, KeyInfo, KeyLifecycle, KeyUpdate, NewKey, RotationError};
use futures::TryStreamExt;
use serde::Serialize;

use crate::cli::Action;
use crate::connect::Invocation;
use crate::exit::{Failure, exit_code};
use crate::output;

/// Runs one vendor command; what went wrong comes back as a [`Failure`].
pub async fn run(invocation: Invocation, json: bool) -> Result<(), Failure> {
    let vendor = invocation.target.vendor();
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
            let new = NewKey::named(args.name).expires_at(args.expires_at);
            let created = keys
                .create(&new)
                .await
                .map_err(|e| Failure::from_error(&e))?;
            print_created(vendor, "created", &created, args.show_secret, json)
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
                output::print(&format!("revoked {vendor} key {id}"))
            }
        }
        Action::Rotate(args) => {
            let new = NewKey::named(args.name).expires_at(args.expires_at);
            match keys.rotate(&args.old, &new).await {
                Ok(created) => {
                    let what = format!("rotated {vendor} key {}: old key revoked,", args.old);
                    print_created(vendor, &what, &created, args.show_secret, json)
                }
                Err(error) => {
                    if let Some(created) = error.created() {
                        let what = "rotation stopped after it created";
                        print_created(vendor, what, created, args.show_secret, json)?;
                    }
                    Err(rotation_failure(&error))
                }
            }
        }
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

/// Reports a new key: its id, and its secret alone on one stdout line when `show_secret`.
fn print_created(
    vendor: &str,
    what: &str,
    created: &CreatedKey,
    show_secret: bool,
    json: bool,
) -> Result<(), Failure> {
    let secret = show_secret.then(|| created.secret.expose_secret());
    if json {
        return output::print_json(&CreatedJson {
            key: &created.key,
            secret,
        });
    }
    let id = &created.key.id;
    match secret {
        Some(secret) => output::print(&format!("{what} {vendor} key {id}; its secret:\n{secret}")),
        None => output::print(&format!(
            "{what} {vendor} key {id}\n\
             secret: shown once by {vendor} and not printed (pass --show-secret to print it)"
        )),
    }
}
