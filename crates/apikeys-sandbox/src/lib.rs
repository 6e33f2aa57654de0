#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A handler's error is the vendor's whole error response, built once per refused request
// and returned straight to axum: boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

mod common;
mod odata;
mod seed;
mod vendors;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use apikeys_common::Secret;
pub use seed::{SeedError, SeedKey};
// The vendor list, each emulator's scope type and their mounting are generated from the
// vendor table in `xtask/src/vendors.rs`.
pub use vendors::*;

/// A running sandbox: one HTTP server on loopback that emulates every [`Vendor`].
///
/// Dropping it (or [`Sandbox::shutdown`]) stops the server. Every sandbox has its own state
/// and its own random credentials.
pub struct Sandbox {
    addr: SocketAddr,
    credentials: Credentials,
    scopes: Scopes,
    seeders: Arc<Seeders>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sandbox")
            .field("addr", &self.addr)
            .field("scopes", &self.scopes)
            .finish_non_exhaustive()
    }
}

impl Sandbox {
    /// Starts a sandbox on a free port of 127.0.0.1.
    ///
    /// Call it inside a Tokio runtime: the server runs as a task of that runtime.
    pub async fn start() -> std::io::Result<Sandbox> {
        Sandbox::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))).await
    }

    /// Starts a sandbox on `addr` (port 0 picks a free port).
    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Sandbox> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (router, credentials, scopes, seeders) = vendors::mount(&format!("http://{addr}"));
        let seeders = Arc::new(seeders);
        // The seeding route sits at the root, outside every vendor's mount.
        let router = router.merge(seed::routes(Arc::clone(&seeders)));

        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            // A dropped sender stops the server as surely as a sent signal.
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move { server.await });

        Ok(Sandbox {
            addr,
            credentials,
            scopes,
            seeders,
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The vendor's base URL, exactly as its crate's `Client::builder(..)` expects it:
    /// `http://127.0.0.1:<port>` and the vendor's [`Vendor::base_path`].
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!("http://{}{}", self.addr, vendor.base_path())
    }

    /// A credential the vendor accepts, for the client builder's `.api_key(..)` (balena:
    /// `.jwt(..)` or `.api_key(..)`; both send the same header). The crate README's table
    /// says which credential each vendor gets; each is in that vendor's seeded key list.
    pub fn credential(&self, vendor: Vendor) -> Secret {
        self.credentials.get(vendor).clone()
    }

    /// The seeded users, tenants, organizations and ids each vendor's calls need.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
    }

    /// Adds keys to the vendor's seeded scope (the user, tenant, organization or account
    /// that [`Sandbox::scopes`] names, so exactly the keys the vendor crate's `KeyScope` for
    /// that scope lists) and returns their ids as the vendor crate's lifecycle writes them
    /// (`KeyInfo::id`: decimal numbers, or UUIDs at ThingsBoard).
    ///
    /// Each key gets a fresh id and a random secret, as a created one does, and is written
    /// on the wire exactly as the vendor writes its keys, with `created_at`, `expires_at` and
    /// `enabled` in the vendor's own fields, to its precision. The creation rules that only
    /// a new key meets do not apply (an expiry in the past is how an expired key is seeded,
    /// and Automox's ten enabled keys per user is not enforced); names must still be
    /// non-blank, and unique where the vendor makes them so. A field the vendor cannot
    /// represent (the crate README's table says which) is refused, never dropped: then no
    /// key of the call is added.
    pub fn seed(
        &self,
        vendor: Vendor,
        keys: impl IntoIterator<Item = SeedKey>,
    ) -> Result<Vec<String>, SeedError> {
        self.seeders.seed(vendor, keys.into_iter().collect())
    }

    /// Seeds from the text of a seed file: TOML with one array of [`SeedKey`] tables per
    /// vendor, named by [`Vendor::name`] (`[[thingsboard]]`), as `apikeys-sandbox --seed`
    /// reads it. Returns each seeded vendor's ids, in [`Vendor::ALL`]'s order. An unknown
    /// table or field is refused with its line; a refused key stops the seeding at its
    /// vendor (the vendors before it stay seeded).
    pub fn seed_toml(&self, text: &str) -> Result<Vec<(Vendor, Vec<String>)>, SeedError> {
        seed::seed_toml(&self.seeders, text)
    }

    /// Stops the server and waits until it has stopped accepting connections and finished
    /// the requests in flight.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}
