//! What the command line prints and reads: standard output and error made displayable, a
//! closed pipe ended quietly, pretty JSON, capped input files, ip-ranges and the runtime.

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};

use ecs_pull_doctor::ipranges::{self, IpRanges};

use super::args::IpRangesArg;

/// How the command line is given AWS's ip-ranges, said wherever one is missing.
pub(crate) const HOW_TO_LOAD_IP_RANGES: &str = "run `ecs-pull-doctor ip-ranges update` (in a clone, `make ip-ranges`), or pass --ip-ranges FILE or set IP_RANGES_FILE";

/// The status a command ends with when its reader went away (`… | head`): what a shell
/// reports for a program that SIGPIPE ended (128 + 13).
pub(crate) const CLOSED_PIPE_STATUS: u8 = 141;

/// Standard output was closed by its reader: nothing to report, only to stop.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub(crate) struct StdoutClosed;

pub(crate) fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<StdoutClosed>().is_some()
}

/// Writes what the command prints to standard output, made displayable (no bidirectional or
/// control characters from names and messages reach the terminal).
pub(crate) fn emit(text: &str) -> Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(ecs_pull_doctor::untrusted::displayable(text).as_bytes())
        .and_then(|()| out.flush())
        .map_err(|err| match err.kind() {
            std::io::ErrorKind::BrokenPipe => anyhow::Error::new(StdoutClosed),
            _ => anyhow::Error::new(err).context("cannot write to standard output"),
        })
}

/// A line on standard error, made displayable like standard output; a closed standard
/// error is not worth a panic.
pub(crate) fn say(text: &str) {
    let _ = writeln!(
        std::io::stderr(),
        "{}",
        ecs_pull_doctor::untrusted::displayable(text)
    );
}

pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// JSON for people: indented, one trailing line break.
pub(crate) fn pretty(value: &impl serde::Serialize) -> Result<String> {
    Ok(serde_json::to_string_pretty(value)? + "\n")
}

/// An event (or a message), from a file or `-` for standard input.
pub(crate) fn read_input(path: &Path) -> Result<String> {
    Ok(ecs_pull_doctor::files::read(
        path,
        ecs_pull_doctor::files::Kind::Event,
    )?)
}

pub(crate) fn load_ip_ranges(arg: &IpRangesArg) -> Result<Option<IpRanges>> {
    match ipranges::default_location(arg.ip_ranges.as_deref()) {
        Some(path) => Ok(Some(ipranges::load_file(&path)?)),
        None => Ok(None),
    }
}
