//! The command line as clap parses it: global flags, one subcommand per vendor (generated
//! in `vendors.rs`, with its connection and scoping flags) and the actions every vendor
//! shares.

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, Parser, Subcommand, ValueEnum};

use crate::config::ConfigArgs;
use crate::exit::Failure;
use crate::policy::PolicyArgs;
use crate::vendors::{ABOUT, VendorCommand};

/// The exit codes, as `--help` shows them (the crate README says the same).
pub const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  any other failure (an unexpected response, a demo step that failed, ...)
  2  invalid input: a bad flag or value, a missing credential or scope, or a request
     the server refused as malformed (400, 422)
  3  authentication: the credential was refused (401) or lacks the permission (403)
  4  not found: no such key
  5  rate limited (429)
  6  network: the server could not be reached, or the request timed out
  7  audit: the policy found something (expired, expiring, no-expiry, too-old,
     disabled keys)
  8  audit: an account could not be audited (the others still are and are
     reported); 8 wins over 7. rotate --due: an account could not be reached
     or listed (its keys are not planned; the others' are)
  9  rotate --due --apply: a key's rotation failed (the report says at which
     step and which key still works); 9 wins over 8
  10 stdout could not be written (its reader closed it, as `| head -1` does, or
     the disk is full) when the command otherwise succeeded; a failing command
     keeps its own code, so `audit | head -1` still exits 7 or 8

Each vendor reads its base URL and API key from --base-url and --api-key, or from
APIKEYS_<VENDOR>_BASE_URL and APIKEYS_<VENDOR>_API_KEY (prefer the variable or
--api-key-file: a flag shows in the process list; --api-key - reads standard input).
create and rotate need a place for the new key's secret: --secret-file PATH or
--show-secret.";

/// `apikeys`: list, create, update, revoke and rotate API keys at every vendor.
#[derive(Debug, Parser)]
#[command(
    name = "apikeys",
    version,
    about = ABOUT,
    after_help = EXIT_CODES,
    propagate_version = true
)]
pub struct Cli {
    /// Print JSON instead of tables and sentences.
    #[arg(long, global = true)]
    pub json: bool,

    /// How long one request may take, in seconds.
    #[arg(
        long,
        global = true,
        value_name = "SECONDS",
        default_value_t = 30,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,

    /// Read the API key from this file (instead of --api-key or its variable).
    #[arg(long, global = true, value_name = "PATH")]
    pub api_key_file: Option<PathBuf>,

    /// Allow a plain http:// base URL on a host other than loopback (an on-premises
    /// ThingsBoard or openBalena): the credential then travels in clear text.
    #[arg(long, global = true)]
    pub allow_insecure_http: bool,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A vendor to manage keys at, or the demo.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// A vendor: one subcommand per row of the vendor table.
    #[command(flatten)]
    Vendor(VendorCommand),
    /// Start the sandbox in-process and run create, list, rotate, revoke and list against
    /// every vendor, showing what happened (no secret is ever printed).
    #[command(after_help = EXIT_CODES)]
    Demo,
    /// List the keys of every account in the config file, concurrently, and report those
    /// the policy finds something about: expired, expiring, no-expiry, too-old, disabled.
    #[command(after_help = EXIT_CODES)]
    Audit(AuditArgs),
    /// Serve the audit as Prometheus metrics on GET /metrics (and GET /-/healthy): every
    /// account is audited in the background once per --interval, never because of a
    /// scrape. The metrics name every key and its id (never a secret): listen on a
    /// non-loopback address only where whoever can reach it may see them.
    ///
    /// Exits 0 once stopped by Ctrl-C or SIGTERM, 2 on a bad flag or config file, 1 when
    /// it cannot listen.
    Exporter(ExporterArgs),
    /// Rotate every key of the config file's accounts that the policy finds something
    /// about: without --apply, print the plan; with --apply, replace each key (create,
    /// deliver the secret to --secret-dir or --secret-cmd, confirm, revoke the old one),
    /// every step journaled first so that a killed run resumes with --resume.
    #[command(after_help = EXIT_CODES)]
    Rotate(RotateDueArgs),
    /// Print the completion script for a shell, e.g.
    /// `apikeys completions bash > ~/.local/share/bash-completion/completions/apikeys`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// What every vendor can do with its keys.
#[derive(Debug, Clone, Subcommand)]
pub enum Action {
    /// List every key in the scope (a table, or a JSON array with --json).
    #[command(after_help = EXIT_CODES)]
    List,
    /// Show one key.
    #[command(after_help = EXIT_CODES)]
    Get {
        /// The key's id.
        id: String,
    },
    /// Create a key and print its id; its secret goes to --secret-file or, with
    /// --show-secret, to stdout (one of them is required).
    #[command(after_help = EXIT_CODES)]
    Create(CreateArgs),
    /// Rename, enable or disable a key.
    #[command(after_help = EXIT_CODES)]
    Update(UpdateArgs),
    /// Revoke (delete) a key.
    #[command(after_help = EXIT_CODES)]
    Revoke {
        /// The key's id.
        id: String,
    },
    /// Replace a key by a new one: check the old one exists, create the new one, confirm
    /// the server knows it, store its secret, then revoke the old one. Whatever step
    /// fails, a working key is left and the error says which.
    #[command(after_help = EXIT_CODES)]
    Rotate(RotateArgs),
}

/// What `audit` and `exporter` audit, and how.
#[derive(Debug, Clone, Args)]
pub struct Audited {
    /// The accounts.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The policy (overrides the file's `[policy]` table).
    #[command(flatten)]
    pub policy: PolicyArgs,
    /// How many accounts to list at once.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 8,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub concurrency: u16,
    /// Audit an in-process sandbox of every vendor instead of the config's accounts: each
    /// vendor seeded with a key of every finding it can hold (old, expired, expiring,
    /// disabled), under the policy --max-age 365d --expiring-within 14d --disabled-keys
    /// unless flags say otherwise. To try the command without an account.
    #[arg(long, conflicts_with = "config")]
    pub sandbox: bool,
}

/// `audit`'s flags.
#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// The accounts, the policy, how many at once.
    #[command(flatten)]
    pub accounts: Audited,
    /// Show every key, not only those with findings.
    #[arg(long)]
    pub all: bool,
    /// Print CSV (one record per key) instead of tables (as --format csv).
    #[arg(long)]
    pub csv: bool,
    /// What to print: tables, JSON or CSV records (one per key; --json and --csv are
    /// shorthands), or OpenMetrics text for node_exporter's textfile collector (every
    /// key, whatever --all says; the summary goes to stderr).
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: Option<Format>,
    /// Write the document to this file instead of stdout, atomically: a new file (mode
    /// 0644) in the same directory, synced, then renamed over it. A symbolic link or
    /// anything but a regular file at PATH is refused.
    #[arg(long, value_name = "PATH")]
    pub output: Option<PathBuf>,
    /// Also write the report as one self-contained HTML page (tables and a timeline per
    /// account) to FILE, replaced atomically; a symbolic link at FILE is refused.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

impl AuditArgs {
    /// The format the flags ask for (`json` is the global `--json`); two that disagree are
    /// invalid input.
    pub fn format(&self, json: bool) -> Result<Format, Failure> {
        let shorthands = [
            (json, Format::Json, "--json"),
            (self.csv, Format::Csv, "--csv"),
        ];
        let mut chosen: Option<(Format, String)> = self
            .format
            .map(|format| (format, format!("--format {}", format.name())));
        for (given, format, flag) in shorthands {
            if !given {
                continue;
            }
            match &chosen {
                Some((other, _)) if *other == format => {}
                Some((_, other)) => {
                    return Err(Failure::invalid(format!(
                        "{other} and {flag} cannot be combined"
                    )));
                }
                None => chosen = Some((format, flag.to_string())),
            }
        }
        Ok(chosen.map_or(Format::Table, |(format, _)| format))
    }
}

/// `audit --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One table per account and a summary line.
    Table,
    /// A JSON array of records.
    Json,
    /// CSV records.
    Csv,
    /// OpenMetrics text (Prometheus).
    Openmetrics,
}

impl Format {
    fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Openmetrics => "openmetrics",
        }
    }
}

/// `exporter`'s flags.
#[derive(Debug, Clone, Args)]
pub struct ExporterArgs {
    /// The accounts (read once, at the start), the policy, how many at once.
    #[command(flatten)]
    pub accounts: Audited,
    /// Where to serve: an address and port (port 0 picks a free one; the address served
    /// is printed on stderr as `listening on http://ADDR`). The metrics list key names
    /// and ids: expose them only to those who may know them.
    #[arg(long, value_name = "ADDR:PORT", default_value = "127.0.0.1:9731")]
    pub listen: std::net::SocketAddr,
    /// How often to audit every account (at least 1m; each wait varies by up to 10%).
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = crate::policy::parse_duration)]
    pub interval: chrono::TimeDelta,
    /// Allow an --interval down to 1s (for tests against a sandbox; vendors rate-limit).
    #[arg(long, hide = true)]
    pub allow_short_interval: bool,
}

/// `rotate --due`'s flags.
#[derive(Debug, Clone, Args)]
pub struct RotateDueArgs {
    /// Rotate the keys the policy finds something about (expired, expiring, no-expiry,
    /// too-old, disabled).
    #[arg(long, required_unless_present_any = ["resume", "pending"])]
    pub due: bool,
    /// Rotate them (without it, the plan is printed and nothing changes).
    #[arg(long)]
    pub apply: bool,
    /// Finish the rotations a killed run left in the journal, each from its last recorded
    /// step (implies --apply; the policy is not looked at again).
    #[arg(long)]
    pub resume: bool,
    /// List the rotations still under way (old keys retiring after an overlap, runs that
    /// stopped), from the journal (with --journal or --secret-dir) and from the tags that
    /// delivered keys carry at the vendor; nothing changes.
    #[arg(long, conflicts_with_all = ["apply", "resume"])]
    pub pending: bool,
    /// Write each new secret to its own file in this directory,
    /// ACCOUNT.NEW-KEY-ID.secret, mode 0600, never overwritten.
    #[arg(long, value_name = "DIR", conflicts_with = "secret_cmd")]
    pub secret_dir: Option<PathBuf>,
    /// Give each new secret to this command (`sh -c`) on its standard input, with
    /// APIKEYS_ACCOUNT, APIKEYS_VENDOR, APIKEYS_KEY_ID and APIKEYS_OLD_KEY_ID set; only
    /// exit status 0 counts as delivered.
    #[arg(long, value_name = "CMD")]
    pub secret_cmd: Option<String>,
    /// How long --secret-cmd may run, in seconds, before it is killed and counts as failed.
    #[arg(
        long,
        value_name = "SECONDS",
        default_value_t = 60,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub secret_cmd_timeout: u64,
    /// How long each new key lives, e.g. 90d [default: as long as the key it replaces
    /// did; a key that never expired is replaced by one that never expires, unless the
    /// policy requires an expiry, in which case its max-age is used].
    #[arg(long, value_name = "DURATION", value_parser = crate::policy::parse_duration)]
    pub lifetime: Option<chrono::TimeDelta>,
    /// How many accounts to list, and then to rotate in, at once (keys of one account are
    /// rotated one after another).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 4,
        value_parser = clap::value_parser!(u16).range(1..=64)
    )]
    pub concurrency: u16,
    /// The journal (JSON lines, no secret) [default: apikeys-rotate.journal in the --secret-dir;
    /// required with --secret-cmd].
    #[arg(long, value_name = "PATH")]
    pub journal: Option<PathBuf>,
    /// Keep each old key working this long after its replacement is delivered (e.g. `7d`),
    /// so consumers can move to the new secret; a later `rotate --due --apply` (or
    /// `--resume`) retires it once due. Default 0: revoked at once, as a leaked key needs.
    #[arg(long, value_name = "DURATION", value_parser = crate::policy::parse_duration)]
    pub overlap: Option<chrono::TimeDelta>,
    /// After the overlap, keep the old key disabled this long before revoking it, where the
    /// vendor can disable keys (ThingsBoard, Automox); elsewhere it is revoked.
    #[arg(long, value_name = "DURATION", value_parser = crate::policy::parse_duration, requires = "overlap")]
    pub disabled_for: Option<chrono::TimeDelta>,
    /// The accounts.
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The policy (overrides the file's `[policy]` table).
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// `create`'s flags.
#[derive(Debug, Clone, Args)]
pub struct CreateArgs {
    /// The new key's name (or description).
    #[arg(long)]
    pub name: String,
    /// When the key stops working (RFC 3339, e.g. 2030-01-01T00:00:00Z); never by default.
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Print the new key's secret to stdout, alone on its line (a field with --json).
    /// The vendor shows it only once: if it cannot be printed, the key is revoked.
    #[arg(long)]
    pub show_secret: bool,
    /// Write the new key's secret to this file (created with mode 0600 before the key is;
    /// an existing path is refused unless --force).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Replace the --secret-file if it exists: a new file is renamed over it (a link, a
    /// device or a fifo is refused).
    #[arg(long, requires = "secret_file")]
    pub force: bool,
}

/// `update`'s flags.
#[derive(Debug, Clone, Args)]
#[command(group(
    ArgGroup::new("change")
        .required(true)
        .multiple(true)
        .args(["name", "enable", "disable"])
))]
pub struct UpdateArgs {
    /// The key's id.
    pub id: String,
    /// A new name (or description).
    #[arg(long)]
    pub name: Option<String>,
    /// Enable the key.
    #[arg(long, conflicts_with = "disable")]
    pub enable: bool,
    /// Disable the key.
    #[arg(long)]
    pub disable: bool,
}

/// `rotate`'s flags.
#[derive(Debug, Clone, Args)]
pub struct RotateArgs {
    /// The id of the key to replace.
    #[arg(long, value_name = "ID")]
    pub old: String,
    /// The new key's name (or description).
    #[arg(long)]
    pub name: String,
    /// When the new key stops working (RFC 3339); never by default.
    #[arg(long, value_name = "TIME")]
    pub expires_at: Option<DateTime<Utc>>,
    /// Print the new key's secret to stdout, alone on its line (a field with --json),
    /// before the old key is revoked: if it cannot be printed, the new key is revoked.
    #[arg(long)]
    pub show_secret: bool,
    /// Write the new key's secret to this file (created with mode 0600 before the key is;
    /// an existing path is refused unless --force).
    #[arg(long, value_name = "PATH")]
    pub secret_file: Option<PathBuf>,
    /// Replace the --secret-file if it exists: a new file is renamed over it (a link, a
    /// device or a fifo is refused).
    #[arg(long, requires = "secret_file")]
    pub force: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn vendor_flags_may_follow_the_action() {
        let cli = Cli::try_parse_from([
            "apikeys",
            "automox",
            "list",
            "--org",
            "7",
            "--user-id",
            "9",
            "--json",
        ])
        .unwrap();
        assert!(cli.json);
        match cli.command {
            Command::Vendor(VendorCommand::Automox(args)) => {
                assert_eq!((args.org, args.user_id), (Some(7), Some(9)));
                assert!(matches!(args.action, Action::List));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn update_needs_a_change_and_refuses_enable_with_disable() {
        let parse = |args: &[&str]| {
            let mut all = vec!["apikeys", "nuki", "update", "1"];
            all.extend_from_slice(args);
            Cli::try_parse_from(all)
        };
        assert!(parse(&[]).is_err());
        assert!(parse(&["--enable", "--disable"]).is_err());
        assert!(parse(&["--disable"]).is_ok());
    }
}
