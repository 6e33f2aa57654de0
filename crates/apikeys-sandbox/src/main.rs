//! `apikeys-sandbox [--port N] [--host ADDR]`: serves every vendor's emulated API-key
//! endpoints until Ctrl-C, after printing each one's base URL, credential and scope.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use apikeys_sandbox::{Sandbox, Vendor};

const USAGE: &str = "usage: apikeys-sandbox [--port N] [--host ADDR]

Serves an in-memory emulation of the API-key endpoints of every vendor of the apikeys
workspace on one HTTP port, and prints each vendor's base URL, a valid credential and
its seeded scope. --port 0 (the default) picks a free port; --host defaults to
127.0.0.1. Stop it with Ctrl-C; nothing is kept.";

fn parse(args: &[String]) -> Result<Option<SocketAddr>, String> {
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
            other => return Err(format!("unknown argument `{other}`")),
        }
    }
    Ok(Some(SocketAddr::new(host, port)))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let addr = match parse(&args) {
        Ok(Some(addr)) => addr,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("apikeys-sandbox: {e}\n\n{USAGE}");
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
        assert_eq!(
            parse(&args(&[])).unwrap(),
            Some(SocketAddr::from(([127, 0, 0, 1], 0)))
        );
        assert_eq!(
            parse(&args(&["--port", "8080"])).unwrap(),
            Some(SocketAddr::from(([127, 0, 0, 1], 8080)))
        );
        assert_eq!(
            parse(&args(&["--port=9", "--host", "::1"])).unwrap(),
            Some("[::1]:9".parse().unwrap())
        );
        assert_eq!(parse(&args(&["--help"])).unwrap(), None);
        assert!(parse(&args(&["--port"])).is_err());
        assert!(parse(&args(&["--port", "http"])).is_err());
        assert!(parse(&args(&["--verbose"])).is_err());
    }
}
