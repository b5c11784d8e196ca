//! The Lambda function `bootstrap` (provided.al2023): JSON logs, the handler built once per
//! cold start, then `lambda_runtime`'s loop. Everything else is in `ecs_pull_doctor::lambda`.
//!
//! `lambda_runtime` answers each invocation (`lambda::answer` gives the error types) but
//! reports only its own start-up failures; ours, a configuration that can never work, are
//! posted to `/runtime/init/error` here, so the invoke's error names the variable.

use std::process::ExitCode;
use std::str::FromStr;

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use lambda_runtime_api_client::body::Body;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::prelude::*;

use ecs_pull_doctor::config::Config;
use ecs_pull_doctor::lambda::{self, Deps, Payload, StartError};

/// The AWS SDK and HTTP crates log request details at info; only their warnings are wanted.
const QUIET_CRATES: &str = "aws_config=warn,aws_smithy_runtime=warn,aws_smithy_runtime_api=warn,aws_sdk_ec2=warn,aws_sdk_ecs=warn,aws_sdk_sns=warn,aws_sdk_dynamodb=warn,aws_sdk_secretsmanager=warn,hyper=warn,hyper_util=warn,reqwest=warn,rustls=warn";

/// What Lambda sets in every execution environment and `lambda_runtime` reads (it panics on
/// a missing one); checked first so that running `bootstrap` elsewhere says what is missing.
const LAMBDA_VARIABLES: &[&str] = &[
    "AWS_LAMBDA_RUNTIME_API",
    "AWS_LAMBDA_FUNCTION_NAME",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
    "AWS_LAMBDA_FUNCTION_VERSION",
];

/// JSON lines on stdout (CloudWatch Logs), at the level of `AWS_LAMBDA_LOG_LEVEL` or
/// `RUST_LOG` (default info). Fields are top-level (Lambda's advanced logging controls filter
/// on `level`), and each line carries the invocation's span: its `requestId` and, with tracing
/// on, its `xrayTraceId`. `lambda_runtime`'s own subscriber would nest the fields and let the
/// SDK's request logs through.
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
                .with_current_span(true)
                .with_span_list(false)
                .with_target(false),
        )
        .with(filter)
        .init();
}

fn missing_lambda_variables() -> Vec<&'static str> {
    LAMBDA_VARIABLES
        .iter()
        .copied()
        .filter(|name| std::env::var(name).map_or(true, |v| v.trim().is_empty()))
        .collect()
}

async fn start() -> Result<Deps, StartError> {
    Deps::start(Config::from_env()?).await
}

/// Tells the Runtime API why initialisation failed, so the invoke's error (and the console)
/// shows it instead of a bare "Runtime exited". Best effort: the process exits either way.
async fn report_init_error(error: &StartError) {
    let diagnostic = Diagnostic {
        error_type: "InvalidConfiguration".into(),
        error_message: error.to_string(),
    };
    let posted = async {
        let client = lambda_runtime_api_client::Client::builder().build()?;
        let request = lambda_runtime_api_client::build_request()
            .method("POST")
            .uri("/2018-06-01/runtime/init/error")
            .header("Content-Type", "application/json")
            .header(
                "Lambda-Runtime-Function-Error-Type",
                format!("Runtime.{}", diagnostic.error_type),
            )
            .body(Body::from(serde_json::to_vec(&diagnostic)?))?;
        let response = client.call(request).await?;
        if !response.status().is_success() {
            return Err(format!("HTTP {}", response.status().as_u16()).into());
        }
        Ok::<(), lambda_runtime::Error>(())
    };
    if let Err(err) = posted.await {
        tracing::warn!(error = %err, "cannot report the init error to the Runtime API");
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    init_logging();
    let missing = missing_lambda_variables();
    if !missing.is_empty() {
        tracing::error!(
            missing = missing.join(", "),
            "cannot start: {} is not set: bootstrap runs inside Lambda (or make invoke)",
            missing[0]
        );
        return ExitCode::FAILURE;
    }
    let deps = match start().await {
        Ok(deps) => deps,
        Err(err) => {
            tracing::error!(error = %err, "cannot start");
            report_init_error(&err).await;
            return ExitCode::FAILURE;
        }
    };
    let deps = &deps;
    let handler = service_fn(move |event: LambdaEvent<Payload>| lambda::answer(event, deps));
    match lambda_runtime::run(handler).await {
        Ok(()) => tracing::error!("the Runtime API loop ended"),
        Err(err) => tracing::error!(error = %err, "the Runtime API loop stopped"),
    }
    ExitCode::FAILURE
}
