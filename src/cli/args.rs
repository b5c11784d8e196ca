//! The arguments several commands share: where ip-ranges comes from, the role that reaches
//! another account, the output format and language, and a `CLUSTER/SERVICE` name.

use anyhow::{bail, Result};

use ecs_pull_doctor::localized::Lang;
use ecs_pull_doctor::network::live;
use ecs_pull_doctor::network::source::{Members, NetworkSource};
use ecs_pull_doctor::render::Format;

/// A command line that asks for something the command cannot do: exit status 2, as clap's own
/// usage errors, where other failures of `diagnose` exit 1.
#[derive(Debug)]
pub(crate) struct UsageError(pub(crate) String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Refuses `--role-name` where nothing live is read.
pub(crate) fn role_needs_live(role: &RoleArgs, live: bool) -> Result<()> {
    if role.role_name.is_some() && !live {
        return Err(UsageError(
            "--role-name reaches other accounts' live APIs: it needs --live".into(),
        )
        .into());
    }
    Ok(())
}

#[derive(clap::Args)]
pub(crate) struct IpRangesArg {
    /// AWS ip-ranges.json to classify IPs with (default: ip-ranges.json next to the
    /// executable, else the user's copy that `ecs-pull-doctor ip-ranges update` writes).
    #[arg(long = "ip-ranges", env = "IP_RANGES_FILE", value_name = "FILE")]
    pub(crate) ip_ranges: Option<std::path::PathBuf>,
}

/// Reaching another account: the role to assume in it.
#[derive(clap::Args)]
pub(crate) struct RoleArgs {
    /// Assume this role in the event's (or each --account's) account when it is not the
    /// caller's own, e.g. ecs-pull-doctor-read from the member stack (diagnose and audit: with
    /// --live).
    #[arg(long, value_name = "NAME")]
    pub(crate) role_name: Option<String>,
    /// The external ID the member role's trust requires, when it does.
    #[arg(long, value_name = "ID", requires = "role_name")]
    pub(crate) external_id: Option<String>,
}

impl RoleArgs {
    /// A live source that reaches other accounts through the role, when one is named.
    pub(crate) async fn source(&self, config: &aws_config::SdkConfig) -> Result<NetworkSource> {
        let members = self.role_name.as_ref().map(|role| Members {
            roles: live::MemberRoles::new(role, self.external_id.as_deref(), "ecs-pull-doctor-cli"),
            names: Default::default(),
        });
        let source = NetworkSource::live(config.clone(), members);
        if self.role_name.is_some() {
            if let Err(err) = source.own_account().await {
                bail!("{err}: cannot tell the caller's own account from a member's");
            }
        }
        Ok(source)
    }
}

#[derive(clap::Args)]
pub(crate) struct OutputArgs {
    #[arg(long, default_value = "text", value_name = "text|json|markdown")]
    pub(crate) format: Format,
    #[arg(
        long,
        default_value = "en",
        env = "DIAGNOSIS_LANG",
        value_name = "en|ko"
    )]
    pub(crate) lang: Lang,
}

/// `CLUSTER/SERVICE` → (cluster, service).
pub(crate) fn parse_service(text: &str) -> Result<(String, String)> {
    match text.split_once('/') {
        Some((cluster, name)) if !cluster.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok((cluster.to_string(), name.to_string()))
        }
        _ => bail!("--service {text:?}: expected CLUSTER/SERVICE"),
    }
}
