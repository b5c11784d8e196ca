//! `ip-ranges update`: downloads AWS's published ranges, checks them (they must parse as
//! ip-ranges.json does), and writes them where every command looks (the user's copy, or
//! `--to`) in one rename, so a failed download never leaves half a file behind.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use ecs_pull_doctor::ipranges::{self, IpRanges};

use super::output::{runtime, say, HOW_TO_LOAD_IP_RANGES};

const TIMEOUT: Duration = Duration::from_secs(60);

/// Downloads `url` (AWS's by default) to `to` (the user's copy by default).
pub(crate) fn update(url: Option<String>, to: Option<PathBuf>) -> Result<()> {
    let url = url.unwrap_or_else(|| ipranges::PUBLISHED_URL.to_string());
    let Some(to) = to.or_else(ipranges::user_location) else {
        bail!(
            "no place for the user's copy (neither XDG_DATA_HOME nor HOME is set): pass --to FILE"
        );
    };
    let body = runtime()?
        .block_on(download(&url))
        .with_context(|| format!("cannot download {url} (no network? pass a copy with --ip-ranges FILE or IP_RANGES_FILE=FILE)"))?;
    let ranges = IpRanges::from_json(&body, &url)?;
    if let Some(dir) = to.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    let part = to.with_extension("json.part");
    std::fs::write(&part, &body).with_context(|| part.display().to_string())?;
    std::fs::rename(&part, &to).with_context(|| to.display().to_string())?;
    say(&format!(
        "{}: createDate {}, {} prefixes",
        to.display(),
        ranges.create_date,
        ranges.len()
    ));
    Ok(())
}

async fn download(url: &str) -> Result<String> {
    let client = reqwest::Client::builder()
        .timeout(TIMEOUT)
        .build()
        .context("cannot build the HTTP client")?;
    // The error's context names the URL once; reqwest's own errors would repeat it.
    let without_url = |e: reqwest::Error| anyhow::anyhow!("{}", e.without_url());
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(without_url)?
        .error_for_status()
        .map_err(without_url)?;
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(without_url)? {
        if body.len() + chunk.len() > ipranges::MAX_BYTES {
            bail!(
                "larger than {} MB: not an ip-ranges file",
                ipranges::MAX_BYTES >> 20
            );
        }
        body.extend_from_slice(&chunk);
    }
    String::from_utf8(body).context("not UTF-8 text")
}

/// Prints the ip-ranges file the commands would use (and its date), or fails saying how to
/// get one.
pub(crate) fn path(arg: &super::args::IpRangesArg) -> Result<()> {
    match ipranges::default_location(arg.ip_ranges.as_deref()) {
        Some(path) => {
            let ranges = ipranges::load_file(&path)?;
            super::output::emit(&format!(
                "{} (createDate {})\n",
                path.display(),
                ranges.create_date
            ))
        }
        None => bail!("no ip-ranges.json: {HOW_TO_LOAD_IP_RANGES}"),
    }
}
