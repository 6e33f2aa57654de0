//! Seeding: keys of given ages, expiries and states added straight into a vendor's state,
//! from Rust ([`Sandbox::seed`](crate::Sandbox::seed)), over HTTP (`POST
//! /_sandbox/seed/{vendor}`) or from a TOML seed file. Each vendor module's `Seeder` checks
//! that its vendor can represent every field, then writes the keys as its own create would.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::post;
use chrono::{DateTime, Datelike, Utc};
use serde::Deserialize;

use crate::Vendor;
use crate::common::{json, with_type};
use crate::vendors::{SeedFile, Seeders};

/// Where the HTTP seeding route is mounted: under no vendor's prefix (balena is at the host
/// root, its routes start with `/v7`, `/actor`, `/api-key` and `/balena`).
pub(crate) const ROUTE: &str = "/_sandbox/seed/{vendor}";

/// A seed body of 10,000 keys is about a megabyte; axum's default limit is 2 MB.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

/// A key to add to a vendor's seeded scope with [`Sandbox::seed`](crate::Sandbox::seed).
///
/// Times are kept to the vendor's precision (ThingsBoard, Nuki and balena: milliseconds;
/// SensorBucket: microseconds; Automox: seconds) and must fall in the years 1 to 9999.
/// In JSON and TOML, `created_at` and `expires_at` are RFC 3339 strings; every field but
/// `name` may be left out.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct SeedKey {
    /// The key's name (or description, at vendors that have no name).
    pub name: String,
    /// When the key was created; now by default.
    #[serde(default = "Utc::now")]
    pub created_at: DateTime<Utc>,
    /// When the key expires; `None` (the default) never.
    #[serde(default)]
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the key is enabled; `true` by default. Only vendors with an enabled flag
    /// accept `false`.
    #[serde(default = "enabled")]
    pub enabled: bool,
}

fn enabled() -> bool {
    true
}

impl SeedKey {
    /// A key called `name`, created now, never expiring, enabled.
    pub fn new(name: impl Into<String>) -> Self {
        SeedKey {
            name: name.into(),
            created_at: Utc::now(),
            expires_at: None,
            enabled: true,
        }
    }

    /// Created at `at`.
    pub fn created_at(mut self, at: DateTime<Utc>) -> Self {
        self.created_at = at;
        self
    }

    /// Expiring at `at`, or never with `None`.
    pub fn expires_at(mut self, at: impl Into<Option<DateTime<Utc>>>) -> Self {
        self.expires_at = at.into();
        self
    }

    /// Enabled or disabled.
    pub fn enabled(mut self, enabled: bool) -> Self {
        self.enabled = enabled;
        self
    }

    /// Refuses times outside the years 1 to 9999, which RFC 3339 (and so most of these
    /// vendors' wire) cannot write.
    pub(crate) fn check_times(&self, vendor: Vendor) -> Result<(), SeedError> {
        let times = [
            ("created_at", Some(self.created_at)),
            ("expires_at", self.expires_at),
        ];
        for (field, at) in times {
            if let Some(at) = at
                && !(1..=9999).contains(&at.year())
            {
                return Err(self.invalid(vendor, field, "outside the years 1 to 9999"));
            }
        }
        Ok(())
    }

    /// `SeedError::Unsupported` for this key.
    pub(crate) fn unsupported(&self, vendor: Vendor, field: &'static str) -> SeedError {
        SeedError::Unsupported {
            vendor,
            field,
            name: self.name.clone(),
        }
    }

    /// `SeedError::Invalid` for this key.
    pub(crate) fn invalid(
        &self,
        vendor: Vendor,
        field: &'static str,
        reason: impl Into<String>,
    ) -> SeedError {
        SeedError::Invalid {
            vendor,
            field,
            name: self.name.clone(),
            reason: reason.into(),
        }
    }
}

/// Why a seed was refused. Nothing is seeded into the vendor whose keys were refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SeedError {
    /// The vendor's keys have no such field (an expiry at Nuki, `enabled: false` at a vendor
    /// without an enabled flag).
    #[error("{vendor} keys have no `{field}`, so key `{name}` cannot be seeded with one")]
    Unsupported {
        /// The vendor.
        vendor: Vendor,
        /// The field, as [`SeedKey`] names it.
        field: &'static str,
        /// The refused key's name.
        name: String,
    },
    /// The vendor has the field but cannot hold this value (a blank name, a name already
    /// taken where names are unique, a time its wire cannot write).
    #[error("{vendor} cannot hold the `{field}` of key `{name}`: {reason}")]
    Invalid {
        /// The vendor.
        vendor: Vendor,
        /// The field, as [`SeedKey`] names it.
        field: &'static str,
        /// The refused key's name.
        name: String,
        /// What is wrong with the value.
        reason: String,
    },
    /// No vendor has this name (over HTTP and in a seed file).
    #[error("no vendor is called `{0}`")]
    UnknownVendor(String),
    /// The seed file is not valid TOML or has an unknown table or field; the message says
    /// where.
    #[error("{0}")]
    File(String),
}

/// Seeds every vendor of a TOML seed file (`[[<vendor>]]` arrays of [`SeedKey`] tables),
/// vendor after vendor in [`Vendor::ALL`]'s order.
pub(crate) fn seed_toml(
    seeders: &Seeders,
    text: &str,
) -> Result<Vec<(Vendor, Vec<String>)>, SeedError> {
    let file: SeedFile = toml::from_str(text).map_err(|e| SeedError::File(e.to_string()))?;
    file.into_keys()
        .into_iter()
        .filter(|(_, keys)| !keys.is_empty())
        .map(|(vendor, keys)| Ok((vendor, seeders.seed(vendor, keys)?)))
        .collect()
}

/// The seeding route, for the server's root.
pub(crate) fn routes(seeders: Arc<Seeders>) -> Router {
    Router::new()
        .route(ROUTE, post(handle))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(seeders)
}

fn plain(status: StatusCode, message: String) -> Response {
    with_type(status, "text/plain; charset=utf-8", message.into_bytes())
}

/// `POST /_sandbox/seed/{vendor}` with a JSON array of keys: 201 and their ids, 404 for an
/// unknown vendor, 400 for a body that is not such an array or a refused key.
async fn handle(
    State(seeders): State<Arc<Seeders>>,
    Path(vendor): Path<String>,
    body: Bytes,
) -> Response {
    let Some(vendor) = Vendor::from_name(&vendor) else {
        return plain(
            StatusCode::NOT_FOUND,
            SeedError::UnknownVendor(vendor).to_string(),
        );
    };
    let keys: Vec<SeedKey> = match serde_json::from_slice(&body) {
        Ok(keys) => keys,
        Err(e) => {
            return plain(
                StatusCode::BAD_REQUEST,
                format!("the body is not a JSON array of keys: {e}"),
            );
        }
    };
    match seeders.seed(vendor, keys) {
        Ok(ids) => json(StatusCode::CREATED, &ids),
        Err(e) => plain(StatusCode::BAD_REQUEST, e.to_string()),
    }
}
