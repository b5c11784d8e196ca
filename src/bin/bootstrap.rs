//! The Lambda function `bootstrap` (provided.al2023): JSON logs, the handler built once per
//! cold start, then the Lambda Runtime API loop. Everything else is in `ecs_pull_doctor::lambda`.

use std::process::ExitCode;
use std::str::FromStr;

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use ecs_pull_doctor::config::Config;
use ecs_pull_doctor::lambda::{Handler, StartError};

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

async fn start() -> Result<Handler, StartError> {
    Handler::start(Config::from_env()?).await
}

/// Tells the Runtime API why initialisation failed, so the invoke's error (and the console)
/// shows it instead of a bare "Runtime exited". Best effort: the process exits either way.
async fn report_init_error(error: &StartError) {
    let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API") else {
        return;
    };
    let body = serde_json::json!({
        "errorType": "InvalidConfiguration",
        "errorMessage": error.to_string(),
        "stackTrace": [],
    });
    let posted = reqwest::Client::new()
        .post(format!("http://{api}/2018-06-01/runtime/init/error"))
        .header(
            "Lambda-Runtime-Function-Error-Type",
            "Runtime.InvalidConfiguration",
        )
        .body(body.to_string())
        .send()
        .await;
    if let Err(err) = posted {
        tracing::warn!(error = %err.without_url(), "cannot report the init error to the Runtime API");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_logging();
    let handler = match start().await {
        Ok(handler) => handler,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let handler = &handler;
    let served = lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        handler.handle(event.payload).await
    }))
    .await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            tracing::error!(error = %err, "the Runtime API loop stopped");
            ExitCode::FAILURE
        }
    }
}
