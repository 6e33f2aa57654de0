//! The command line as clap parses it: global flags, one subcommand per vendor (with its
//! connection and scoping flags) and the actions every vendor shares.

use chrono::{DateTime, Utc};
use clap::{ArgGroup, Args, Parser, Subcommand};
use uuid::Uuid;

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

Each vendor reads its base URL and API key from --base-url and --api-key, or from
APIKEYS_<VENDOR>_BASE_URL and APIKEYS_<VENDOR>_API_KEY (prefer the variable: a flag
shows in the process list). A new key's secret is printed only with --show-secret.";

/// `apikeys`: list, create, update, revoke and rotate API keys at five vendors.
#[derive(Debug, Parser)]
#[command(
    name = "apikeys",
    version,
    about = "List, create, update, revoke and rotate API keys at ThingsBoard, SensorBucket, \
             Nuki, balena and Automox",
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

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// A vendor to manage keys at, or the demo.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// ThingsBoard: the API keys of one user (--user-id).
    #[command(after_help = EXIT_CODES)]
    Thingsboard(ThingsboardArgs),
    /// SensorBucket: the API keys of one tenant (--tenant-id; --permission for new keys).
    #[command(after_help = EXIT_CODES)]
    Sensorbucket(SensorbucketArgs),
    /// Nuki Web: the API keys of the account the token belongs to.
    #[command(after_help = EXIT_CODES)]
    Nuki(NukiArgs),
    /// balena: the named API keys of the user the key belongs to.
    #[command(after_help = EXIT_CODES)]
    Balena(BalenaArgs),
    /// Automox: the API keys of one user in one organization (--org, --user-id).
    #[command(after_help = EXIT_CODES)]
    Automox(AutomoxArgs),
    /// Start the sandbox in-process and run create, list, rotate, revoke and list against
    /// every vendor, showing what happened (no secret is ever printed).
    #[command(after_help = EXIT_CODES)]
    Demo,
    /// Print the completion script for a shell, e.g.
    /// `apikeys completions bash > ~/.local/share/bash-completion/completions/apikeys`.
    Completions {
        /// The shell to complete in.
        shell: clap_complete::Shell,
    },
}

/// `apikeys thingsboard ...`
#[derive(Debug, Args)]
pub struct ThingsboardArgs {
    /// The ThingsBoard server's root URL.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "APIKEYS_THINGSBOARD_BASE_URL",
        default_value = "https://thingsboard.cloud"
    )]
    pub base_url: String,
    /// The API key to authenticate with.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "APIKEYS_THINGSBOARD_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// The user whose keys to manage (a UUID).
    #[arg(
        long,
        global = true,
        value_name = "UUID",
        env = "APIKEYS_THINGSBOARD_USER_ID"
    )]
    pub user_id: Option<Uuid>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// `apikeys sensorbucket ...`
#[derive(Debug, Args)]
pub struct SensorbucketArgs {
    /// The SensorBucket API's URL, `/api` prefix included.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "APIKEYS_SENSORBUCKET_BASE_URL",
        default_value = sensorbucket_apikeys::BASE_URL
    )]
    pub base_url: String,
    /// The API key to authenticate with.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "APIKEYS_SENSORBUCKET_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// The tenant whose keys to manage.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "APIKEYS_SENSORBUCKET_TENANT_ID"
    )]
    pub tenant_id: Option<i64>,
    /// A permission to give new keys (create, rotate), e.g. READ_DEVICES; repeat the flag
    /// or separate with commas.
    #[arg(
        long = "permission",
        global = true,
        value_name = "PERMISSION",
        value_delimiter = ','
    )]
    pub permissions: Vec<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// `apikeys nuki ...`
#[derive(Debug, Args)]
pub struct NukiArgs {
    /// The Nuki Web API's URL.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "APIKEYS_NUKI_BASE_URL",
        default_value = nuki_apikeys::BASE_URL
    )]
    pub base_url: String,
    /// The API token to authenticate with.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "APIKEYS_NUKI_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// `apikeys balena ...`
#[derive(Debug, Args)]
pub struct BalenaArgs {
    /// The balena API's URL (balenaCloud, or your openBalena's `https://api.<domain>`).
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "APIKEYS_BALENA_BASE_URL",
        default_value = "https://api.balena-cloud.com"
    )]
    pub base_url: String,
    /// The API key or session token to authenticate with.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "APIKEYS_BALENA_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
}

/// `apikeys automox ...`
#[derive(Debug, Args)]
pub struct AutomoxArgs {
    /// The Automox console API's URL.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "APIKEYS_AUTOMOX_BASE_URL",
        default_value = automox_apikeys::BASE_URL
    )]
    pub base_url: String,
    /// The API key to authenticate with.
    #[arg(
        long,
        global = true,
        value_name = "KEY",
        env = "APIKEYS_AUTOMOX_API_KEY",
        hide_env_values = true
    )]
    pub api_key: Option<String>,
    /// The organization the user belongs to.
    #[arg(long, global = true, value_name = "ID", env = "APIKEYS_AUTOMOX_ORG")]
    pub org: Option<i64>,
    /// The user whose keys to manage.
    #[arg(
        long,
        global = true,
        value_name = "ID",
        env = "APIKEYS_AUTOMOX_USER_ID"
    )]
    pub user_id: Option<i64>,
    /// What to do.
    #[command(subcommand)]
    pub action: Action,
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
    /// Create a key and print its id; its secret only with --show-secret.
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
    /// Replace a key by a new one: create it, confirm the server knows it, then revoke
    /// the old one. Whatever step fails, a working key is left and the error says which.
    #[command(after_help = EXIT_CODES)]
    Rotate(RotateArgs),
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
    /// Print the new key's secret to stdout, alone on its line. The vendor shows it only
    /// once: without this flag it is not printed and cannot be had again.
    #[arg(long)]
    pub show_secret: bool,
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
    /// Print the new key's secret to stdout, alone on its line.
    #[arg(long)]
    pub show_secret: bool,
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
            Command::Automox(args) => {
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
