//! Reading the files the CLI and the function are given (an event, a network snapshot,
//! ip-ranges.json), each under a size cap that fits its kind.
//!
//! The cap is checked while reading, so `/dev/zero`, a FIFO that never ends or a file that
//! grows as it is read gives one error naming the file and the cap instead of exhausting
//! memory. Each cap is far above what AWS produces for that kind.

use std::io::Read;
use std::path::Path;

/// A kind of input file and the most it may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// An EventBridge event (EventBridge and Lambda's asynchronous invoke take 256 KiB).
    Event,
    /// A network snapshot (a 10,000-subnet account is tens of MB).
    Snapshot,
    /// AWS's ip-ranges.json (about 3 MB in 2026).
    IpRanges,
    /// A Terraform plan as `terraform show -json` writes it (a few MB for thousands of
    /// resources; the cap stops a wrong file, such as a state dump, before it fills memory).
    Plan,
}

impl Kind {
    pub fn max_bytes(self) -> u64 {
        match self {
            Kind::Event => 1 << 20,
            Kind::Snapshot | Kind::Plan => 512 << 20,
            Kind::IpRanges => crate::ipranges::MAX_BYTES as u64,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Event => "an event",
            Kind::Snapshot => "a network snapshot",
            Kind::IpRanges => "ip-ranges.json",
            Kind::Plan => "a Terraform plan",
        }
    }
}

/// Why an input file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("{path} is larger than the {} MiB {} may be", .kind.max_bytes() >> 20, .kind.name())]
    TooLarge { path: String, kind: Kind },
    #[error("{path} is not UTF-8 text")]
    NotText { path: String },
}

/// Reads `reader` to its end as text, failing as soon as it holds more than `kind` may;
/// `shown` names it in errors.
pub fn read_capped(reader: impl Read, kind: Kind, shown: &str) -> Result<String, ReadError> {
    let bytes = read_capped_bytes(reader, kind, shown)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: shown.to_string(),
    })
}

/// As [`read_capped`], without requiring UTF-8 (for inputs whose parser names a wrong
/// encoding itself).
pub fn read_capped_bytes(reader: impl Read, kind: Kind, shown: &str) -> Result<Vec<u8>, ReadError> {
    let mut bytes = Vec::new();
    reader
        .take(kind.max_bytes() + 1)
        .read_to_end(&mut bytes)
        .map_err(|cause| ReadError::Io {
            path: shown.to_string(),
            cause,
        })?;
    if bytes.len() as u64 > kind.max_bytes() {
        return Err(ReadError::TooLarge {
            path: shown.to_string(),
            kind,
        });
    }
    Ok(bytes)
}

/// Reads the file at `path` as [`read_capped`] does; `-` is standard input.
pub fn read(path: &Path, kind: Kind) -> Result<String, ReadError> {
    let bytes = read_bytes(path, kind)?;
    String::from_utf8(bytes).map_err(|_| ReadError::NotText {
        path: display_name(path),
    })
}

fn display_name(path: &Path) -> String {
    if path == Path::new("-") {
        "standard input".to_string()
    } else {
        path.display().to_string()
    }
}

/// Reads the file at `path` as [`read_capped_bytes`] does; `-` is standard input.
pub fn read_bytes(path: &Path, kind: Kind) -> Result<Vec<u8>, ReadError> {
    if path == Path::new("-") {
        return read_capped_bytes(std::io::stdin().lock(), kind, &display_name(path));
    }
    let shown = path.display().to_string();
    let file = std::fs::File::open(path).map_err(|cause| ReadError::Io {
        path: shown.clone(),
        cause,
    })?;
    // A regular file says its size: refuse it before reading (a device or a pipe says 0).
    if file.metadata().is_ok_and(|m| m.len() > kind.max_bytes()) {
        return Err(ReadError::TooLarge { path: shown, kind });
    }
    read_capped_bytes(file, kind, &shown)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_endless_input_stops_at_its_cap_with_one_clear_error() {
        let endless = std::io::repeat(b' ');
        let err = read_capped(endless, Kind::Event, "/dev/zero").unwrap_err();
        assert_eq!(
            err.to_string(),
            "/dev/zero is larger than the 1 MiB an event may be"
        );
        let exact = vec![b'x'; Kind::Event.max_bytes() as usize];
        assert!(read_capped(exact.as_slice(), Kind::Event, "x").is_ok());
        let err = read_capped(&[0xff, 0xfe][..], Kind::Event, "bin").unwrap_err();
        assert_eq!(err.to_string(), "bin is not UTF-8 text");
    }

    #[test]
    fn a_file_that_says_it_is_too_large_is_refused_before_it_is_read() {
        let path = std::env::temp_dir().join(format!("files-sparse-{}", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        // Sparse: 2 GiB of size, nothing written; reading it would take seconds and memory.
        file.set_len(2 << 30).unwrap();
        let err = read(&path, Kind::IpRanges).unwrap_err();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
    }
}
