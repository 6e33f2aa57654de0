//! `apikeys-sandbox [--port N] [--host ADDR] [--seed FILE] [--faults FILE]`: serves every vendor's emulated
//! API-key endpoints until Ctrl-C, after printing each one's base URL, credential and scope,
//! and the keys that may do less than the credential.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use apikeys_sandbox::{Sandbox, Vendor};

const USAGE: &str = "usage: apikeys-sandbox [--port N] [--host ADDR] [--seed FILE] [--faults FILE]

Serves an in-memory emulation of the API-key endpoints of every vendor of the apikeys
workspace on one HTTP port, and prints each vendor's base URL, a valid credential and
its seeded scope (with the credential's own key id where the credential is a key), and
the seeded keys that may do less than the credential (a read-only API key, say). --port 0 (the default) picks a free port; --host defaults to
127.0.0.1. Stop it with Ctrl-C; nothing is kept.

--seed FILE adds keys at start from a TOML file with one array of tables per vendor,
named as the vendor is below, each key a `name` and optionally `created_at` and
`expires_at` (RFC 3339 strings) and `enabled` (see the crate's README for which vendor
has which):

    [[nuki]]
    name = \"old key\"
    created_at = \"2019-01-01T00:00:00Z\"

Keys can also be seeded while it runs: POST /_sandbox/seed/<vendor> with a JSON array of
such keys answers 201 and their ids.

--faults FILE sets fault rules at start from a JSON array, as POST /_sandbox/faults
takes them (GET lists them with their counts, DELETE clears them): chosen calls of a
vendor's operation answer a status, wait, or lose their connection:

    [{\"vendor\": \"thingsboard\", \"operation\": \"create\", \"fault\": \"status\",
      \"status\": 503, \"retry_after\": \"2\", \"times\": 1}]";

/// What the command line asks for.
#[derive(Debug, PartialEq)]
struct Options {
    addr: SocketAddr,
    seed: Option<PathBuf>,
    faults: Option<PathBuf>,
}

fn parse(args: &[String]) -> Result<Option<Options>, String> {
    let mut seed = None;
    let mut faults = None;
    let mut port: u16 = 0;
    let mut host = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) => (flag, Some(value.to_string())),
            None => (arg.as_str(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(None),
            "-p" | "--port" => {
                let text = value("--port")?;
                port = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not a port number"))?;
            }
            "--host" => {
                let text = value("--host")?;
                host = text
                    .parse()
                    .map_err(|_| format!("`{text}` is not an IP address"))?;
            }
            "--seed" => seed = Some(PathBuf::from(value("--seed")?)),
            "--faults" => faults = Some(PathBuf::from(value("--faults")?)),
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(Options {
        addr: SocketAddr::new(host, port),
        seed,
        faults,
    }))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Options { addr, seed, faults } = match parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("apikeys-sandbox: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // Read before listening, so that a missing file fails fast.
    let seed = match seed.map(|path| std::fs::read_to_string(&path).map(|text| (path, text))) {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            eprintln!("apikeys-sandbox: cannot read the seed file: {e}");
            return ExitCode::from(2);
        }
    };
    let faults = match faults.map(|path| std::fs::read_to_string(&path).map(|text| (path, text))) {
        None => None,
        Some(Ok(file)) => Some(file),
        Some(Err(e)) => {
            eprintln!("apikeys-sandbox: cannot read the faults file: {e}");
            return ExitCode::from(2);
        }
    };
    let sandbox = match Sandbox::start_on(addr).await {
        Ok(sandbox) => sandbox,
        Err(e) => {
            eprintln!("apikeys-sandbox: cannot listen on {addr}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut seeded = Vec::new();
    if let Some((path, text)) = seed {
        match sandbox.seed_toml(&text) {
            Ok(ids) => seeded = ids,
            Err(e) => {
                eprintln!("apikeys-sandbox: {}: {e}", path.display());
                sandbox.shutdown().await;
                return ExitCode::from(2);
            }
        }
    }
    let mut rules = None;
    if let Some((path, text)) = faults {
        match sandbox.set_faults_json(&text) {
            Ok(count) => rules = Some(count),
            Err(e) => {
                eprintln!("apikeys-sandbox: {}: {e}", path.display());
                sandbox.shutdown().await;
                return ExitCode::from(2);
            }
        }
    }
    let scopes = sandbox.scopes();
    println!("apikeys-sandbox listening on http://{}", sandbox.addr());
    for &vendor in Vendor::ALL {
        let scope = scopes.describe(vendor);
        println!();
        println!("{vendor}");
        println!("  base URL:   {}", sandbox.base_url(vendor));
        println!(
            "  credential: {}",
            sandbox.credential(vendor).expose_secret()
        );
        println!("  scope:      {scope}");
        // A test of what a key may not do needs keys that may do less than the credential.
        for (what, key) in sandbox.other_credentials(vendor) {
            println!("  {what}: {}", key.expose_secret());
        }
        if let Some((_, ids)) = seeded.iter().find(|(v, _)| *v == vendor) {
            println!("  seeded:     {} keys from the seed file", ids.len());
        }
    }
    if let Some(count) = rules {
        println!("\nfault rules: {count} from the faults file (GET /_sandbox/faults)");
    }
    println!("\nPress Ctrl-C to stop.");
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("apikeys-sandbox: cannot wait for Ctrl-C: {e}");
    }
    sandbox.shutdown().await;
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn ports_and_hosts_are_read_in_both_spellings() {
        let addr = |list: &[&str]| parse(&args(list)).unwrap().map(|o| o.addr);
        assert_eq!(addr(&[]), Some(SocketAddr::from(([127, 0, 0, 1], 0))));
        assert_eq!(
            addr(&["--port", "8080"]),
            Some(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert_eq!(
            addr(&["--port=9", "--host", "::1"]),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(parse(&args(&["--help"])).unwrap(), None);
        assert!(parse(&args(&["--port"])).is_err());
        assert!(parse(&args(&["--port", "http"])).is_err());
        assert!(parse(&args(&["--verbose"])).is_err());
    }

    #[test]
    fn the_seed_file_is_read_in_both_spellings() {
        let seed = |list: &[&str]| parse(&args(list)).unwrap().and_then(|o| o.seed);
        assert_eq!(seed(&[]), None);
        assert_eq!(
            seed(&["--seed", "keys.toml"]),
            Some(PathBuf::from("keys.toml"))
        );
        assert_eq!(seed(&["--seed=a b.toml"]), Some(PathBuf::from("a b.toml")));
        assert!(parse(&args(&["--seed"])).is_err());
    }

    #[test]
    fn the_faults_file_is_read_in_both_spellings() {
        let faults = |list: &[&str]| parse(&args(list)).unwrap().and_then(|o| o.faults);
        assert_eq!(faults(&[]), None);
        assert_eq!(
            faults(&["--faults", "f.json"]),
            Some(PathBuf::from("f.json"))
        );
        assert_eq!(faults(&["--faults=g.json"]), Some(PathBuf::from("g.json")));
        assert!(parse(&args(&["--faults"])).is_err());
    }
}
