#![doc = include_str!("../README.md")]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(missing_docs)]
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]
// A handler's error is the vendor's whole error response, built once per refused request
// and returned straight to axum: boxing it would only add an allocation.
#![allow(clippy::result_large_err)]

mod automox;
mod balena;
mod common;
mod nuki;
mod odata;
mod scope;
mod sensorbucket;
mod thingsboard;

use std::fmt;
use std::net::{Ipv4Addr, SocketAddr};

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use apikeys_common::Secret;
pub use scope::{
    AutomoxScope, BalenaScope, NukiScope, Scopes, SensorBucketScope, ThingsBoardScope,
};

/// One of the five emulated vendors.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Vendor {
    /// ThingsBoard (`thingsboard-apikeys`), mounted at `/thingsboard`.
    ThingsBoard,
    /// SensorBucket (`sensorbucket-apikeys`), mounted at `/sensorbucket`; its base URL ends
    /// in `/api`.
    SensorBucket,
    /// The Nuki Web API (`nuki-apikeys`), mounted at `/nuki`.
    Nuki,
    /// balena (`balena-apikeys`), mounted at `/balena`.
    Balena,
    /// The Automox console API (`automox-apikeys`), mounted at `/automox`; its base URL ends
    /// in `/api`.
    Automox,
}

impl Vendor {
    /// Every vendor, in the order of the workspace's README.
    pub const ALL: [Vendor; 5] = [
        Vendor::ThingsBoard,
        Vendor::SensorBucket,
        Vendor::Nuki,
        Vendor::Balena,
        Vendor::Automox,
    ];

    /// The vendor's short name, as in its crate's name (`thingsboard`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Vendor::ThingsBoard => "thingsboard",
            Vendor::SensorBucket => "sensorbucket",
            Vendor::Nuki => "nuki",
            Vendor::Balena => "balena",
            Vendor::Automox => "automox",
        }
    }

    /// The path the vendor's base URL has on the sandbox's server: its mount point, plus
    /// the `/api` that SensorBucket's and Automox's base URLs carry.
    pub fn base_path(self) -> &'static str {
        match self {
            Vendor::ThingsBoard => "/thingsboard",
            Vendor::SensorBucket => "/sensorbucket/api",
            Vendor::Nuki => "/nuki",
            Vendor::Balena => "/balena",
            Vendor::Automox => "/automox/api",
        }
    }
}

impl fmt::Display for Vendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A running sandbox: one HTTP server on loopback that emulates all five vendors.
///
/// Dropping it (or [`Sandbox::shutdown`]) stops the server. Every sandbox has its own state
/// and its own random credentials.
pub struct Sandbox {
    addr: SocketAddr,
    credentials: Credentials,
    scopes: Scopes,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

/// The credential of each vendor, one field per vendor so that every look-up is an
/// exhaustive match.
struct Credentials {
    thingsboard: Secret,
    sensorbucket: Secret,
    nuki: Secret,
    balena: Secret,
    automox: Secret,
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
        let root = format!("http://{addr}");
        let base = |vendor: Vendor| format!("{root}{}", vendor.base_path());

        let (tb_router, tb_key, tb_scope) = thingsboard::build();
        let (sb_router, sb_key, sb_scope) = sensorbucket::build(&base(Vendor::SensorBucket));
        let (nuki_router, nuki_key, nuki_scope) = nuki::build();
        let (balena_router, balena_key, balena_scope) = balena::build();
        let (ax_router, ax_key, ax_scope) = automox::build();

        let router = Router::new()
            .nest(Vendor::ThingsBoard.base_path(), tb_router)
            .nest(Vendor::SensorBucket.base_path(), sb_router)
            .nest(Vendor::Nuki.base_path(), nuki_router)
            .merge(balena_router)
            .nest(Vendor::Automox.base_path(), ax_router);

        let (stop, stopped) = oneshot::channel::<()>();
        let server = axum::serve(listener, router).with_graceful_shutdown(async {
            // A dropped sender stops the server as surely as a sent signal.
            let _ = stopped.await;
        });
        let task = tokio::spawn(async move { server.await });

        Ok(Sandbox {
            addr,
            credentials: Credentials {
                thingsboard: tb_key,
                sensorbucket: sb_key,
                nuki: nuki_key,
                balena: balena_key,
                automox: ax_key,
            },
            scopes: Scopes {
                thingsboard: tb_scope,
                sensorbucket: sb_scope,
                nuki: nuki_scope,
                balena: balena_scope,
                automox: ax_scope,
            },
            stop: Some(stop),
            task: Some(task),
        })
    }

    /// The address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The vendor's base URL, exactly as its crate's `Client::builder(..)` expects it:
    /// `http://127.0.0.1:<port>/thingsboard`, `.../sensorbucket/api`, `.../nuki`,
    /// `.../balena`, `.../automox/api`.
    pub fn base_url(&self, vendor: Vendor) -> String {
        format!("http://{}{}", self.addr, vendor.base_path())
    }

    /// A credential the vendor accepts, for the client builder's `.api_key(..)` (balena:
    /// `.jwt(..)` or `.api_key(..)`; both send the same header).
    ///
    /// - ThingsBoard: the value of a seeded API key of the seeded tenant administrator
    ///   (it is in that user's key list).
    /// - SensorBucket: the token of a seeded API key of the seeded tenant (in the list).
    /// - Nuki: the access token of a seeded API key token with the `account` scope (in the
    ///   seeded key's token list).
    /// - balena: a session token (JWT) of the seeded user, which may create, update and
    ///   revoke keys; [`BalenaScope::api_key`] is a named API key that may only read.
    /// - Automox: the secret of a seeded key of the seeded user (in the list).
    pub fn credential(&self, vendor: Vendor) -> Secret {
        let credentials = &self.credentials;
        match vendor {
            Vendor::ThingsBoard => credentials.thingsboard.clone(),
            Vendor::SensorBucket => credentials.sensorbucket.clone(),
            Vendor::Nuki => credentials.nuki.clone(),
            Vendor::Balena => credentials.balena.clone(),
            Vendor::Automox => credentials.automox.clone(),
        }
    }

    /// The seeded users, tenants, organizations and ids each vendor's calls need.
    pub fn scopes(&self) -> &Scopes {
        &self.scopes
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
