//! Reading back what `audit --format openmetrics` and the exporter write, and promtool.

use std::collections::BTreeMap;
use std::io::Write;
use std::process::{Command, Stdio};

/// One sample line: its metric name, labels (unescaped) and value (as written).
#[derive(Clone, Debug, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: String,
}

impl Sample {
    pub fn label(&self, name: &str) -> &str {
        self.labels.get(name).map(String::as_str).unwrap_or("")
    }
}

/// Every sample of an OpenMetrics text document, which must end in `# EOF`; panics on a
/// line that is not a comment or a well-formed sample.
pub fn parse(text: &str) -> Vec<Sample> {
    assert!(text.ends_with("# EOF\n"), "no EOF marker: {text}");
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .map(|line| parse_line(line).unwrap_or_else(|| panic!("not a sample: {line:?}")))
        .collect()
}

fn parse_line(line: &str) -> Option<Sample> {
    let end = line.find(['{', ' '])?;
    let name = line[..end].to_string();
    let mut labels = BTreeMap::new();
    let mut rest = &line[end..];
    if let Some(inner) = rest.strip_prefix('{') {
        let mut i = 0;
        loop {
            if inner[i..].starts_with('}') {
                rest = &inner[i + 1..];
                break;
            }
            if inner[i..].starts_with(',') {
                i += 1;
            }
            let eq = inner[i..].find("=\"")? + i;
            let key = inner[i..eq].to_string();
            i = eq + 2;
            let mut value = String::new();
            let mut chars = inner[i..].char_indices();
            loop {
                match chars.next()? {
                    (end, '"') => {
                        i += end + 1;
                        break;
                    }
                    (_, '\\') => match chars.next()?.1 {
                        'n' => value.push('\n'),
                        other => value.push(other),
                    },
                    (_, other) => value.push(other),
                }
            }
            labels.insert(key, value);
        }
    }
    let value = rest.strip_prefix(' ')?.to_string();
    (!value.is_empty() && !value.contains(' ')).then_some(Sample {
        name,
        labels,
        value,
    })
}

/// `promtool check metrics` on `text`: `None` if it passed, its complaint if not; skips (with
/// a printed reason, returning `None`) where promtool is not installed.
pub fn promtool_complaint(text: &str) -> Option<String> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            eprintln!("skipped: promtool is not installed");
            return None;
        }
        Err(e) => panic!("could not run promtool: {e}"),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    if out.status.success() {
        None
    } else {
        Some(format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}
