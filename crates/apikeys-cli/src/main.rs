//! `apikeys`: list, get, create, update, revoke and rotate API keys at ThingsBoard,
//! SensorBucket, Nuki, balena and Automox from the command line, through each vendor's
//! `apikeys_common::KeyLifecycle`; `apikeys demo` runs the whole lifecycle against every
//! vendor in an in-process sandbox.
//!
//! Modules: [`cli`] (what clap parses), [`connect`] (the one place a vendor's client and
//! scope become a `Box<dyn KeyLifecycle>`), [`commands`] (the vendor commands), [`demo`],
//! [`output`] (tables, JSON, spinner) and [`exit`] (exit codes and the error line).
#![cfg_attr(not(test), deny(clippy::unwrap_used, clippy::expect_used))]

mod cli;
mod commands;
mod connect;
mod demo;
mod exit;
mod output;

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
        // Needs no runtime and no network.
        let mut command = Cli::command();
        clap_complete::generate(shell, &mut command, "apikeys", &mut std::io::stdout());
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("apikeys: could not start the async runtime: {error}");
            return Exit::Other.into();
        }
    };
    runtime.block_on(run(cli)).into()
}

async fn run(cli: Cli) -> Exit {
    let timeout = Duration::from_secs(cli.timeout);
    if let Command::Demo = cli.command {
        return demo::run(cli.json, timeout).await;
    }
    let invocation = match connect::resolve(cli.command, timeout) {
        Ok(invocation) => invocation,
        Err((vendor, failure)) => {
            eprintln!("{}", failure.line(vendor, &[]));
            return failure.exit;
        }
    };
    let vendor = invocation.target.vendor();
    let api_key = invocation.target.api_key.clone();
    match commands::run(invocation, cli.json).await {
        Ok(()) => Exit::Ok,
        Err(failure) => {
            eprintln!("{}", failure.line(vendor, &[api_key.expose_secret()]));
            failure.exit
        }
    }
}
