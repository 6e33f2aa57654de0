//! `apikeys exporter`: the audit as a Prometheus exporter. `GET /metrics` serves the last
//! audit's metrics ([`crate::metrics`]) and `GET /-/healthy` says the server is up.
//!
//! Vendors rate-limit, so a scrape never starts an audit and never waits for one: a single
//! background task audits every account once per `--interval` (±10%, so that exporters
//! started together drift apart), encodes the result once, and swaps it in; a scrape clones
//! the encoded bytes (`Bytes` is a shared, reference-counted buffer) and answers at once.
//! An account whose audit fails keeps its last listed keys, marked stale by
//! `apikeys_account_last_success_timestamp_seconds`, with `apikeys_account_up` 0.
//!
//! Before the first audit ends, the document has the build info, the interval and every
//! account at `up` 0 with no last success: nothing has been seen yet, and alerting on "no
//! key data" is better than on absent series that a typo in a rule would also produce.

use std::sync::{Arc, RwLock};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::{TimeDelta, Utc};
use tokio::net::TcpListener;

use crate::audit;
use crate::cli::ExporterArgs;
use crate::config::{Account, Reach};
use crate::exit::{Exit, Failure};
use crate::metrics::{self, AccountMetrics, ExporterMetrics, Snapshot};
use crate::output;
use crate::policy::Policy;

/// The Content-Type of an OpenMetrics text document.
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// The shortest `--interval`, unless the hidden `--allow-short-interval` (for tests) is given.
const MIN_INTERVAL: Duration = Duration::from_secs(60);

/// The last encoded document, swapped after each audit.
type Document = Arc<RwLock<Bytes>>;

/// Serves until Ctrl-C or SIGTERM; says how to exit.
pub async fn run(args: ExporterArgs, reach: Reach, json: bool) -> Exit {
    let interval = match interval(args.interval, args.allow_short_interval) {
        Ok(interval) => interval,
        Err(failure) => return failure.report("exporter", &[], json),
    };
    // Held until the server stops: the sandbox serves while it lives.
    let (config, _sandbox) = match audit::load(&args.accounts.config, args.accounts.sandbox).await {
        Ok(loaded) => loaded,
        Err(failure) => return failure.report("exporter", &[], json),
    };
    let policy = args.accounts.policy.over(&config.policy);
    let listener = match TcpListener::bind(args.listen).await {
        Ok(listener) => listener,
        Err(e) => {
            let failure = Failure::other(format!("could not listen on {}: {e}", args.listen));
            return failure.report("exporter", &[], json);
        }
    };
    let address = match listener.local_addr() {
        Ok(address) => address,
        Err(e) => {
            let failure = Failure::other(format!("could not read the listening address: {e}"));
            return failure.report("exporter", &[], json);
        }
    };

    let accounts: Vec<AccountMetrics> = config
        .accounts
        .iter()
        .map(|account| AccountMetrics {
            account: account.name.clone(),
            vendor: account.vendor(),
            up: false,
            last_success: None,
            audit_duration: None,
            keys: None,
        })
        .collect();
    let exporter = ExporterMetrics {
        interval,
        last_audit: None,
    };
    let first = match encode(accounts.clone(), exporter.clone()) {
        Ok(first) => first,
        Err(failure) => return failure.report("exporter", &[], json),
    };
    let document: Document = Arc::new(RwLock::new(first));
    let auditor = tokio::spawn(audit_forever(
        config.accounts,
        Audit {
            reach,
            concurrency: usize::from(args.accounts.concurrency),
            policy,
        },
        accounts,
        exporter,
        Arc::clone(&document),
    ));

    let router = Router::new()
        .route("/metrics", get(serve_metrics))
        .route(
            "/-/healthy",
            get(|| async { "apikeys exporter is healthy.\n" }),
        )
        .with_state(document);
    output::eprint(&format!("apikeys exporter: listening on http://{address}"));
    let served = axum::serve(listener, router)
        .with_graceful_shutdown(shutdown())
        .await;
    auditor.abort();
    match served {
        Ok(()) => {
            output::eprint("apikeys exporter: stopped");
            Exit::Ok
        }
        Err(e) => Failure::other(format!("the server failed: {e}")).report("exporter", &[], json),
    }
}

/// `--interval`, refused below [`MIN_INTERVAL`] (vendors rate-limit) unless `short` allows
/// down to a second.
fn interval(interval: TimeDelta, short: bool) -> Result<Duration, Failure> {
    let min = if short {
        Duration::from_secs(1)
    } else {
        MIN_INTERVAL
    };
    match interval.to_std() {
        Ok(interval) if interval >= min => Ok(interval),
        _ => Err(Failure::invalid(format!(
            "--interval must be at least {}s: vendors rate-limit their APIs",
            min.as_secs()
        ))),
    }
}

/// How each audit reaches and judges the accounts.
struct Audit {
    reach: Reach,
    concurrency: usize,
    policy: Policy,
}

/// Audits every account, swaps in the encoded result, sleeps the interval with jitter, and
/// again, until aborted; one audit at a time.
async fn audit_forever(
    accounts: Vec<Account>,
    how: Audit,
    mut previous: Vec<AccountMetrics>,
    mut exporter: ExporterMetrics,
    document: Document,
) {
    loop {
        let (mut fresh, failures) =
            audit::metrics(&accounts, how.reach, how.concurrency, &how.policy).await;
        for line in failures {
            output::eprint(&format!("apikeys exporter: {line}"));
        }
        // A failed account keeps what was last seen; its last success says how old it is.
        for (now, before) in fresh.iter_mut().zip(previous.iter_mut()) {
            if !now.up {
                now.keys = before.keys.take();
                now.last_success = before.last_success;
            }
        }
        previous = fresh;
        exporter.last_audit = Some(Utc::now());
        match encode(previous.clone(), exporter.clone()) {
            Ok(encoded) => match document.write() {
                Ok(mut current) => *current = encoded,
                Err(poisoned) => *poisoned.into_inner() = encoded,
            },
            Err(failure) => output::eprint(&format!("apikeys exporter: {}", failure.message)),
        }
        tokio::time::sleep(jittered(exporter.interval)).await;
    }
}

/// `interval` times a random factor from 0.9 to 1.1.
fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(0.9 + fastrand::f64() * 0.2)
}

fn encode(accounts: Vec<AccountMetrics>, exporter: ExporterMetrics) -> Result<Bytes, Failure> {
    let snapshot = Arc::new(Snapshot {
        accounts,
        exporter: Some(exporter),
    });
    metrics::encode(&snapshot)
        .map(Bytes::from)
        .map_err(|e| Failure::other(format!("could not encode the metrics: {e}")))
}

async fn serve_metrics(State(document): State<Document>) -> impl IntoResponse {
    let body = match document.read() {
        Ok(current) => current.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    ([(CONTENT_TYPE, OPENMETRICS)], body)
}

/// Ctrl-C or SIGTERM (as systemd and container runtimes stop a service).
async fn shutdown() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            // Without the handler, Ctrl-C still stops it (and SIGTERM's default kills it).
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_interval_has_a_floor_and_jitter_stays_within_ten_percent() {
        assert!(interval(TimeDelta::seconds(59), false).is_err());
        assert_eq!(
            interval(TimeDelta::minutes(30), false).unwrap(),
            Duration::from_secs(1800)
        );
        assert_eq!(
            interval(TimeDelta::seconds(1), true).unwrap(),
            Duration::from_secs(1)
        );
        assert!(interval(TimeDelta::zero(), true).is_err());
        let base = Duration::from_secs(1000);
        let samples: Vec<Duration> = (0..1000).map(|_| jittered(base)).collect();
        assert!(
            samples
                .iter()
                .all(|d| (900.0..=1100.0).contains(&d.as_secs_f64()))
        );
        // Spread, not a constant: a real random source.
        assert!(samples.iter().any(|d| d.as_secs_f64() < 950.0));
        assert!(samples.iter().any(|d| d.as_secs_f64() > 1050.0));
    }
}
