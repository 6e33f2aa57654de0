//! `apikeys`: list, get, create, update, revoke and rotate API keys at every vendor of the
//! workspace from the command line, through each vendor's
//! `apikeys_common::KeyLifecycle`; `apikeys demo` runs the whole lifecycle against every
//! vendor in an in-process sandbox.
//!
//! Modules: [`cli`] (what clap parses), [`vendors`] (generated from the vendor table: each
//! vendor's subcommand and scope, and how they become a `Box<dyn KeyLifecycle>`),
//! [`connect`] (a command's target), [`commands`] (the vendor commands), [`demo`],
//! [`output`] (tables, JSON, spinner), [`exit`] (exit codes and the error line),
//! [`credential`] (where the API key comes from), [`secrets`] (where a new secret goes),
//! [`audit`] (every account's keys against a [`policy`]), with the accounts of [`config`],
//! as Prometheus [`metrics`] too, served by the [`exporter`],
//! and [`rotation`] (`rotate --due`: the keys the policy flags, journaled and resumable).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod audit;
mod cli;
mod commands;
mod config;
mod connect;
mod credential;
mod demo;
mod exit;
mod exporter;
mod metrics;
mod output;
mod policy;
mod rotation;
mod secrets;
mod vendors;

use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, Parser};

use crate::cli::{Cli, Command};
use crate::exit::Exit;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // Usage errors exit 2, `--help` and `--version` exit 0.
            let _ = error.print();
            return ExitCode::from(u8::try_from(error.exit_code()).unwrap_or(2));
        }
    };
    if let Command::Completions { shell } = cli.command {
        // Needs no runtime and no network. Generated into memory: clap_complete panics when
        // its writer fails, `output::print` reports it.
        let mut command = Cli::command();
        let mut script = Vec::new();
        clap_complete::generate(shell, &mut command, "apikeys", &mut script);
        let printed = output::print(&String::from_utf8_lossy(&script));
        return Exit::Ok.after_output(printed, "completions", false).into();
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            output::eprint(&format!(
                "apikeys: could not start the async runtime: {error}"
            ));
            return Exit::Other.into();
        }
    };
    runtime.block_on(run(cli)).into()
}

async fn run(cli: Cli) -> Exit {
    let timeout = Duration::from_secs(cli.timeout);
    let accounts = config::Reach {
        timeout,
        allow_insecure_http: cli.allow_insecure_http,
    };
    match cli.command {
        Command::Demo => return demo::run(cli.json, timeout).await,
        Command::Audit(args) => return audit::run(args, accounts, cli.json).await,
        Command::Exporter(args) => return exporter::run(args, accounts, cli.json).await,
        Command::Rotate(args) => return rotation::command::run(args, accounts, cli.json).await,
        _ => {}
    }
    let reach = credential::Reach {
        api_key_file: cli.api_key_file,
        allow_insecure_http: cli.allow_insecure_http,
    };
    let invocation = match connect::resolve(cli.command, timeout, &reach) {
        Ok(invocation) => invocation,
        Err((vendor, failure)) => return failure.report(vendor, &[], cli.json),
    };
    let vendor = invocation.target.vendor();
    let api_key = invocation.target.api_key.clone();
    match commands::run(invocation, cli.json).await {
        Ok(()) => Exit::Ok,
        Err(failure) => {
            let failure = match &reach.api_key_file {
                Some(path) => {
                    failure.credential_from(&format!("--api-key-file {}", path.display()))
                }
                None => failure,
            };
            failure.report(vendor, &[api_key.expose_secret()], cli.json)
        }
    }
}
