//! AWS's `ip-ranges.json`, parsed on a blocking thread from the start of the cold start.
//!
//! Parsing the full file takes ~15-20 ms, most of a cold start. Started first and awaited only
//! when a diagnosis needs an IP's owner, it overlaps the SDK's set-up and the network
//! inspection's API calls, and an event that is skipped never waits for it.

use std::path::PathBuf;

use tokio::sync::{Mutex, OnceCell};
use tokio::task::JoinHandle;
use tracing::error;

use crate::ipranges::{self, IpRanges, IpRangesError};

type Loading = JoinHandle<Result<IpRanges, IpRangesError>>;

/// The ranges, loading or loaded.
#[derive(Debug)]
pub struct BackgroundRanges {
    loading: Mutex<Option<Loading>>,
    loaded: OnceCell<Option<IpRanges>>,
}

impl BackgroundRanges {
    /// Starts parsing `path` (`None`: there is no file, and IP owners outside the VPC stay
    /// unknown). Must be called inside the Tokio runtime.
    pub fn start(path: Option<PathBuf>) -> BackgroundRanges {
        let loading = path
            .clone()
            .map(|path| tokio::task::spawn_blocking(move || ipranges::load_file(&path)));
        BackgroundRanges {
            loading: Mutex::new(loading),
            loaded: OnceCell::new(),
        }
    }

    /// The parsed ranges, waiting for the parse if it is still running. A file that does not
    /// parse is logged once and treated as absent (the diagnosis then says the owner is unknown).
    pub async fn get(&self) -> Option<&IpRanges> {
        self.loaded
            .get_or_init(|| async {
                let handle = self.loading.lock().await.take()?;
                match handle.await {
                    Ok(Ok(ranges)) => Some(ranges),
                    Ok(Err(err)) => {
                        error!(error = %err, "IP_RANGES_FILE: cannot be used; IP owners outside the VPC will be unknown");
                        None
                    }
                    Err(err) => {
                        error!(error = %err, "loading ip-ranges.json failed");
                        None
                    }
                }
            })
            .await
            .as_ref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_that_does_not_parse_is_treated_as_absent() {
        let path = std::env::temp_dir().join(format!("bad-ranges-{}.json", std::process::id()));
        std::fs::write(&path, "{\"prefixes\": 3}").unwrap();
        let ranges = BackgroundRanges::start(Some(path.clone()));
        assert!(ranges.get().await.is_none());
        assert!(ranges.get().await.is_none());
        assert!(BackgroundRanges::start(None).get().await.is_none());
        std::fs::remove_file(path).unwrap();
    }

    #[tokio::test]
    async fn ranges_load_once_and_answer() {
        let path = std::env::temp_dir().join(format!("ranges-{}.json", std::process::id()));
        std::fs::write(
            &path,
            r#"{"syncToken":"1","createDate":"2026-08-22-00-00-00","prefixes":[{"ip_prefix":"52.219.204.0/22","region":"ap-northeast-2","service":"S3","network_border_group":"ap-northeast-2"}],"ipv6_prefixes":[]}"#,
        )
        .unwrap();
        let ranges = BackgroundRanges::start(Some(path.clone()));
        let owner = ranges
            .get()
            .await
            .and_then(|r| r.lookup("52.219.204.42".parse().unwrap()))
            .unwrap();
        assert_eq!(
            (owner.service.as_str(), owner.region.as_str()),
            ("S3", "ap-northeast-2")
        );
        std::fs::remove_file(path).unwrap();
    }
}
