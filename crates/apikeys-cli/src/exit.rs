//! Exit codes and the one-line error every failure ends in: `apikeys: <vendor>: <message>`.

use std::process::ExitCode;

use apikeys_common::Error;
use http::StatusCode;

/// How `apikeys` exits (see `EXIT_CODES` in the command line's help).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    /// Everything worked.
    Ok = 0,
    /// Any other failure.
    Other = 1,
    /// Bad flags or values, or a request the server refused as malformed.
    InvalidInput = 2,
    /// The credential was refused or lacks the permission.
    Auth = 3,
    /// No such key.
    NotFound = 4,
    /// The server is limiting the request rate.
    RateLimited = 5,
    /// The server could not be reached, or a request timed out.
    Network = 6,
    /// `audit`: the policy found something (a CI gate fails on it).
    Findings = 7,
    /// `audit`: an account could not be audited (the others were; this wins over
    /// [`Exit::Findings`], as an incomplete audit cannot vouch for anything).
    Incomplete = 8,
    /// `rotate --due --apply`: a key's rotation failed (this wins over
    /// [`Exit::Incomplete`]).
    RotationFailed = 9,
    /// Stdout could not be written (its reader went away, as under `| head -1`, or the
    /// disk is full) and the outcome was otherwise a success; a non-zero outcome keeps
    /// its own code (see [`Exit::after_output`]).
    Output = 10,
}

impl Exit {
    /// The exit of a command whose outcome is `self` and whose output was `printed`. A
    /// failed write is reported on stderr and never turns a failure into success: a
    /// non-zero outcome keeps its code (audit and rotate are CI gates, and `| head -1`
    /// must not hide their findings under `pipefail`), a success becomes the write's code.
    pub fn after_output(self, printed: Result<(), Failure>, vendor: &str, json: bool) -> Exit {
        match printed {
            Ok(()) => self,
            Err(failure) => {
                let exit = failure.report(vendor, &[], json);
                if self == Exit::Ok { exit } else { self }
            }
        }
    }
}

impl From<Exit> for ExitCode {
    fn from(exit: Exit) -> Self {
        ExitCode::from(exit as u8)
    }
}

/// The exit code for an error from a vendor client: the one place that decides it.
pub fn exit_code(error: &Error) -> Exit {
    match error.status() {
        Some(StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN) => return Exit::Auth,
        Some(StatusCode::NOT_FOUND) => return Exit::NotFound,
        Some(StatusCode::TOO_MANY_REQUESTS) => return Exit::RateLimited,
        Some(StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY) => {
            return Exit::InvalidInput;
        }
        _ => {}
    }
    match error {
        // A key was created, then a later step failed: the exit code is that step's.
        Error::KeyCreated { error, .. } => exit_code(error),
        Error::NotFound(_) => Exit::NotFound,
        Error::InvalidRequest(_) => Exit::InvalidInput,
        Error::Transport(_) | Error::Timeout(_) => Exit::Network,
        _ => Exit::Other,
    }
}

/// A failure on its way to stderr and the exit code.
#[derive(Debug)]
pub struct Failure {
    /// How to exit.
    pub exit: Exit,
    /// What went wrong, for a human (one line once [`Failure::line`] has cleaned it).
    pub message: String,
}

impl Failure {
    /// A problem with what the user asked for, found before anything was sent.
    pub fn invalid(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::InvalidInput,
            message: message.into(),
        }
    }

    /// Any other failure of the tool itself (starting the runtime, a sink).
    pub fn other(message: impl Into<String>) -> Self {
        Failure {
            exit: Exit::Other,
            message: message.into(),
        }
    }

    /// A failure of a vendor client, with a message that says what kind it is.
    pub fn from_error(error: &Error) -> Self {
        Failure {
            exit: exit_code(error),
            message: describe(error),
        }
    }

    /// Stdout could not be written ([`Exit::Output`]).
    pub fn output(error: &std::io::Error) -> Self {
        Failure {
            exit: Exit::Output,
            message: format!("could not write to stdout: {error}"),
        }
    }

    /// The same failure, a refused credential's message naming `source` (``account
    /// `tb-prod`'s credential (variable TB_KEY, config line 7)``, `--api-key-file PATH`)
    /// instead of `--api-key` and the vendor's variable.
    pub fn credential_from(mut self, source: &str) -> Self {
        self.message = self.message.replace(CREDENTIAL_SOURCE, source);
        self
    }

    /// The same failure, its message prefixed by `context` (`"rotation failed ..."`).
    pub fn context(mut self, context: &str) -> Self {
        self.message = format!("{context}: {}", self.message);
        self
    }

    /// The line printed to stderr: `apikeys: <vendor>: <message>`, on one line, with every
    /// occurrence of each of `secrets` masked.
    pub fn line(&self, vendor: &str, secrets: &[&str]) -> String {
        format!("apikeys: {vendor}: {}", self.message_for(vendor, secrets))
    }

    /// The failure as `--json` shows it on stderr: `{"error": {vendor, exit_code, message}}`.
    pub fn json(&self, vendor: &str, secrets: &[&str]) -> String {
        let value = serde_json::json!({
            "error": {
                "vendor": vendor,
                "exit_code": self.exit as u8,
                "message": self.message_for(vendor, secrets),
            }
        });
        // A `Value` always serializes; the fallback is never taken.
        crate::output::json(&value, false).unwrap_or_else(|_| value.to_string())
    }

    /// Prints the failure to stderr (JSON with `json`) and returns how to exit.
    pub fn report(&self, vendor: &str, secrets: &[&str], json: bool) -> Exit {
        let text = if json {
            self.json(vendor, secrets)
        } else {
            self.line(vendor, secrets)
        };
        crate::output::eprint(&text);
        self.exit
    }

    /// The cleaned message, a refused credential's source named as a vendor command
    /// takes it (a config account's was named by [`Failure::credential_from`]).
    fn message_for(&self, vendor: &str, secrets: &[&str]) -> String {
        let flags = format!(
            "--api-key or the {} variable",
            crate::credential::variable(vendor)
        );
        self.clean(secrets).replace(CREDENTIAL_SOURCE, &flags)
    }

    /// The message on one line, with every occurrence of each of `secrets` masked and
    /// every other control, bidi or invisible character shown as an escape.
    pub fn clean(&self, secrets: &[&str]) -> String {
        let message = redact(&self.message, secrets).replace(['\n', '\r', '\t'], " ");
        crate::output::sanitize(message.trim())
    }
}

/// What a human needs to read first about an error, then the error itself.
fn describe(error: &Error) -> String {
    // The library's errors do not repeat their causes: the message is the whole chain.
    let shown = chain(error);
    match exit_code(error) {
        Exit::Auth if error.is_forbidden() => {
            format!("the credential lacks the permission for this ({shown})")
        }
        Exit::Auth => format!("the credential was refused; check {CREDENTIAL_SOURCE} ({shown})"),
        Exit::NotFound if matches!(error, Error::NotFound(_)) => shown,
        Exit::NotFound => format!("not found ({shown})"),
        Exit::RateLimited => format!("rate limited, try again later ({shown})"),
        Exit::Network => match root_cause(error) {
            Some(cause) => format!("{error}: {cause}"),
            None => shown,
        },
        Exit::InvalidInput if matches!(error, Error::InvalidRequest(_)) => cli_words(&shown),
        _ => shown,
    }
}

/// `error` and each of its causes, joined with ": " (as anyhow's `{:#}` shows them).
pub(crate) fn chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut shown = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        shown.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    shown
}

/// Stands for where the credential came from until the caller says
/// ([`Failure::credential_from`]) or [`Failure::line`] knows the vendor.
const CREDENTIAL_SOURCE: &str = "<the credential's source>";

/// A client's refusal in the words of the command line: its flags, not the library's
/// builder methods or generated type names.
fn cli_words(message: &str) -> String {
    if message.contains("allow_insecure_http") {
        return "plain http would send the credential in clear text: use an https \
                --base-url, or pass --allow-insecure-http if the server has no TLS"
            .into();
    }
    if message.contains("conversion to `") {
        return "a value is not accepted by this vendor (an empty or too long --name, or \
                an expiry it cannot take)"
            .into();
    }
    message.to_string()
}

/// The innermost cause of an error (`Connection refused`), when it says more than the error.
fn root_cause(error: &Error) -> Option<String> {
    let mut cause = std::error::Error::source(error)?;
    while let Some(next) = cause.source() {
        cause = next;
    }
    let text = cause.to_string();
    (!error.to_string().contains(&text)).then_some(text)
}

/// The shortest secret that is masked: masking a shorter one would garble the message more
/// than it protects (no vendor issues credentials that short).
const MIN_REDACTED_CHARS: usize = 4;

/// Masks every occurrence of each secret (of [`MIN_REDACTED_CHARS`] or more).
fn redact(text: &str, secrets: &[&str]) -> String {
    secrets
        .iter()
        .filter(|secret| secret.chars().count() >= MIN_REDACTED_CHARS)
        .fold(text.to_string(), |text, secret| {
            text.replace(secret, "[redacted]")
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_the_client_makes_map_to_their_codes() {
        assert_eq!(
            exit_code(&Error::NotFound("nuki key `1`".into())),
            Exit::NotFound
        );
        assert_eq!(
            exit_code(&Error::InvalidRequest("bad".into())),
            Exit::InvalidInput
        );
        assert_eq!(exit_code(&Error::Pagination("stuck".into())), Exit::Other);
        assert_eq!(
            exit_code(&Error::UnexpectedStatus(StatusCode::UNAUTHORIZED)),
            Exit::Auth
        );
        assert_eq!(
            exit_code(&Error::UnexpectedStatus(StatusCode::TOO_MANY_REQUESTS)),
            Exit::RateLimited
        );
        assert_eq!(
            exit_code(&Error::UnexpectedStatus(StatusCode::INTERNAL_SERVER_ERROR)),
            Exit::Other
        );
        let created = apikeys_common::PartialKey::new().id("7");
        assert_eq!(
            exit_code(&Error::after_create(
                created,
                Error::NotFound("balena key".into())
            )),
            Exit::NotFound
        );
    }

    #[test]
    fn the_error_line_is_one_line_without_the_secret() {
        let failure = Failure::invalid("the key tb_canary\nis\tbad");
        assert_eq!(
            failure.line("thingsboard", &["tb_canary", "", "is"]),
            "apikeys: thingsboard: the key [redacted] is bad"
        );
    }
}
