//! The Lambda function `bootstrap` (provided.al2023): JSON logs, the handler built once per
//! cold start, then the Runtime API loop (`lambda::runtime_api`). Everything else is in
//! `ecs_pull_doctor::lambda`.

use std::process::ExitCode;
use std::str::FromStr;

use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use ecs_pull_doctor::config::Config;
use ecs_pull_doctor::lambda::runtime_api::{self, ErrorBody, RuntimeApi};
use ecs_pull_doctor::lambda::{self, Deps, StartError};

/// The AWS SDK and HTTP crates log request details at info; only their warnings are wanted.
const QUIET_CRATES: &str = "aws_config=warn,aws_smithy_runtime=warn,aws_smithy_runtime_api=warn,aws_sdk_ec2=warn,aws_sdk_ecs=warn,aws_sdk_sns=warn,aws_sdk_dynamodb=warn,aws_sdk_secretsmanager=warn,hyper=warn,hyper_util=warn,reqwest=warn,rustls=warn";

/// JSON lines on stdout (CloudWatch Logs), at the level of `AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG` (default info).
fn init_logging() {
    let level = std::env::var("AWS_LAMBDA_LOG_LEVEL")
        .or_else(|_| std::env::var("RUST_LOG"))
        .unwrap_or_else(|_| "info".to_string())
        .to_lowercase();
    let filter = Targets::from_str(&format!("{level},{QUIET_CRATES}"))
        .or_else(|_| Targets::from_str(&format!("info,{QUIET_CRATES}")))
        .expect("the default log filter parses");
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::fmt::layer()
                .json()
                .flatten_event(true)
                .with_current_span(false)
                .with_span_list(false)
                .with_target(false),
        )
        .with(filter)
        .init();
}

async fn start() -> Result<Deps, StartError> {
    Deps::start(Config::from_env()?).await
}

/// Tells the Runtime API why initialisation failed, so the invoke's error (and the console)
/// shows it instead of a bare "Runtime exited". Best effort: the process exits either way.
async fn report_init_error(api: &RuntimeApi, error: &StartError) {
    let body = ErrorBody {
        error_type: "InvalidConfiguration".into(),
        error_message: error.to_string(),
    };
    if let Err(err) = api.init_error(&body).await {
        tracing::warn!(error = %err, "cannot report the init error to the Runtime API");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_logging();
    let api = match RuntimeApi::from_env() {
        Ok(api) => api,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            return ExitCode::FAILURE;
        }
    };
    let deps = match start().await {
        Ok(deps) => deps,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            report_init_error(&api, &err).await;
            return ExitCode::FAILURE;
        }
    };
    let stopped = runtime_api::serve(&api, |payload| lambda::handle(payload, &deps)).await;
    tracing::error!(error = %stopped, "the Runtime API loop stopped");
    ExitCode::FAILURE
}
