//! The vendor-neutral lifecycle, end to end against the sandbox, for every vendor: create →
//! list shows it → update → rotate → revoke → list no longer shows it; and a wrong
//! credential is the typed unauthorized error.

mod vendors;

use apikeys_common::{KeyLifecycle, KeyUpdate, NewKey, Secret};
use apikeys_sandbox::{Sandbox, Vendor};
use futures::TryStreamExt;

/// Every lifecycle of the sandbox, one per vendor of [`Vendor::ALL`], with an update each
/// vendor supports; `credential` replaces the sandbox's valid one when given.
fn lifecycles(
    sandbox: &Sandbox,
    credential: Option<Secret>,
) -> Vec<(Box<dyn KeyLifecycle>, KeyUpdate)> {
    // issue 23, part 2: derived from the table, so a new vendor is never skipped.
    Vendor::ALL
        .iter()
        .map(|&vendor| {
            let key = credential
                .clone()
                .unwrap_or_else(|| sandbox.credential(vendor));
            lifecycle(sandbox, vendor, key)
        })
        .collect()
}

/// The vendor crate's lifecycle (the table's), and an update of what its keys allow: a new
/// name, disabling, or (neither) an empty update that reads the key back.
fn lifecycle(sandbox: &Sandbox, vendor: Vendor, key: Secret) -> (Box<dyn KeyLifecycle>, KeyUpdate) {
    let lifecycle = vendors::lifecycle(sandbox, vendor, key);
    let abilities = lifecycle.abilities();
    let mut update = KeyUpdate::new();
    if abilities.rename {
        update = update.name("renamed");
    }
    if abilities.disable {
        update = update.enabled(false);
    }
    (lifecycle, update)
}

async fn ids(lifecycle: &dyn KeyLifecycle) -> Vec<String> {
    lifecycle
        .list()
        .map_ok(|key| key.id)
        .try_collect()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_vendor_runs_the_whole_lifecycle() {
    let sandbox = Sandbox::start().await.unwrap();
    let mut vendors = Vec::new();
    for (lifecycle, update) in lifecycles(&sandbox, None) {
        let vendor = lifecycle.vendor();
        let created = lifecycle
            .create(&NewKey::named("lifecycle-e2e"))
            .await
            .unwrap();
        assert!(!created.secret.expose_secret().is_empty(), "{vendor}");
        assert!(
            ids(&*lifecycle).await.contains(&created.key.id),
            "{vendor}: created key not listed"
        );

        let updated = lifecycle.update(&created.key.id, &update).await.unwrap();
        assert_eq!(updated.id, created.key.id, "{vendor}");
        if let Some(name) = &update.name {
            assert_eq!(updated.name.as_ref(), Some(name), "{vendor}");
        }
        if let Some(enabled) = update.enabled {
            assert_eq!(updated.enabled, Some(enabled), "{vendor}");
        }

        let rotated = lifecycle
            .rotate(&created.key.id, &NewKey::named("lifecycle-e2e-2"))
            .await
            .unwrap();
        let listed = ids(&*lifecycle).await;
        assert!(
            listed.contains(&rotated.key.id),
            "{vendor}: rotated key not listed"
        );
        assert!(
            !listed.contains(&created.key.id),
            "{vendor}: old key survived the rotation"
        );

        lifecycle.revoke(&rotated.key.id).await.unwrap();
        assert!(
            !ids(&*lifecycle).await.contains(&rotated.key.id),
            "{vendor}: revoked key still listed"
        );
        assert!(
            lifecycle
                .get(&rotated.key.id)
                .await
                .unwrap_err()
                .is_not_found(),
            "{vendor}"
        );
        vendors.push(vendor);
    }
    let all: Vec<&str> = Vendor::ALL.iter().map(|v| v.name()).collect();
    assert_eq!(vendors, all);
}

#[tokio::test]
async fn a_wrong_credential_is_unauthorized_everywhere() {
    let sandbox = Sandbox::start().await.unwrap();
    for (lifecycle, _) in lifecycles(&sandbox, Some(Secret::from("not-a-key-of-this-sandbox"))) {
        let err = lifecycle.list().try_collect::<Vec<_>>().await.unwrap_err();
        assert!(err.is_unauthorized(), "{}: {err:?}", lifecycle.vendor());
        let err = lifecycle.create(&NewKey::named("x")).await.unwrap_err();
        assert!(err.is_unauthorized(), "{}: {err:?}", lifecycle.vendor());
    }
}
