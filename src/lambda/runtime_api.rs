//! The Lambda Runtime API loop: ask for the next event, hand it to the handler, post the
//! answer (`/runtime/invocation/{id}/response` or `/error`), and report a failed start on
//! `/runtime/init/error`.
//!
//! Why our own loop and not `lambda_runtime`'s: that loop stores every invocation's X-Ray
//! trace ID in the process environment (`_X_AMZN_TRACE_ID`, with `std::env::set_var`), and
//! glibc's `setenv` never frees a value it replaces, so a warm function loses about 120 bytes
//! an invocation for good (found with heaptrack; README, "Soak"). The variable is only for the
//! X-Ray SDK, which this function does not use; writing the environment while other threads
//! may read it (getaddrinfo on a blocking thread) is also best avoided.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::time::Duration;

use futures::FutureExt;
use serde::Serialize;
use serde_json::Value;
use tracing::error;

const API_VERSION: &str = "2018-06-01";
/// A post to the Runtime API is on the same host; one that takes longer is broken.
const POST_TIMEOUT: Duration = Duration::from_secs(10);

/// What could not be done with the Runtime API itself (the process then exits and Lambda
/// starts a new one).
#[derive(Debug, thiserror::Error)]
pub enum RuntimeApiError {
    #[error("AWS_LAMBDA_RUNTIME_API is not set: bootstrap runs inside Lambda (or make invoke)")]
    NotInLambda,
    #[error("cannot build the Runtime API client: {0}")]
    Client(String),
    #[error("Runtime API {what} failed: {message}")]
    Call { what: &'static str, message: String },
    /// The API answered a post with a 4xx (a response too large, a deadline passed): that one
    /// invocation is lost to the API, the loop is not.
    #[error("Runtime API refused the {what}: HTTP {status}")]
    Refused { what: &'static str, status: u16 },
}

/// The body Lambda records for a failed invocation or start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ErrorBody {
    #[serde(rename = "errorType")]
    pub error_type: String,
    #[serde(rename = "errorMessage")]
    pub error_message: String,
}

/// One event handed out by `/runtime/invocation/next`.
#[derive(Debug)]
pub struct Invocation {
    pub request_id: String,
    pub payload: Result<Value, ErrorBody>,
}

/// The client of the Runtime API at `AWS_LAMBDA_RUNTIME_API`.
#[derive(Debug, Clone)]
pub struct RuntimeApi {
    base: String,
    http: reqwest::Client,
}

impl RuntimeApi {
    pub fn from_env() -> Result<RuntimeApi, RuntimeApiError> {
        let host = std::env::var("AWS_LAMBDA_RUNTIME_API")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .ok_or(RuntimeApiError::NotInLambda)?;
        // No overall timeout: `next` waits for as long as there is no event (the process is
        // frozen in between), as the API reference says.
        // The Runtime API is on this host: an HTTP(S)_PROXY in the environment must not apply.
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(2))
            .no_proxy()
            .build()
            .map_err(|e| RuntimeApiError::Client(e.to_string()))?;
        Ok(RuntimeApi {
            base: format!("http://{}/{API_VERSION}/runtime", host.trim()),
            http,
        })
    }

    /// Waits for the next event. A payload that is not JSON comes back as the error to post.
    pub async fn next(&self) -> Result<Invocation, RuntimeApiError> {
        let fail = |message: String| RuntimeApiError::Call {
            what: "invocation/next",
            message,
        };
        let response = self
            .http
            .get(format!("{}/invocation/next", self.base))
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("HTTP {}", response.status().as_u16())));
        }
        let request_id = response
            .headers()
            .get("Lambda-Runtime-Aws-Request-Id")
            .and_then(|v| v.to_str().ok())
            .filter(|id| !id.is_empty())
            .ok_or_else(|| fail("no Lambda-Runtime-Aws-Request-Id header".into()))?
            .to_string();
        let body = response.bytes().await.map_err(|e| fail(e.to_string()))?;
        let payload = serde_json::from_slice(&body).map_err(|e| ErrorBody {
            error_type: "MalformedEvent".into(),
            error_message: format!("malformed event: the payload is not JSON ({e})"),
        });
        Ok(Invocation {
            request_id,
            payload,
        })
    }

    pub async fn respond(
        &self,
        request_id: &str,
        body: &impl Serialize,
    ) -> Result<(), RuntimeApiError> {
        let body = serde_json::to_vec(body).map_err(|e| RuntimeApiError::Call {
            what: "invocation response",
            message: e.to_string(),
        })?;
        self.post(
            "invocation response",
            &format!("invocation/{request_id}/response"),
            body,
            None,
        )
        .await
    }

    pub async fn fail(&self, request_id: &str, error: &ErrorBody) -> Result<(), RuntimeApiError> {
        let body = serde_json::to_vec(error).expect("an error body serialises");
        self.post(
            "invocation error",
            &format!("invocation/{request_id}/error"),
            body,
            None,
        )
        .await
    }

    /// Tells Lambda why the function could not start (shown as the invoke's error).
    pub async fn init_error(&self, error: &ErrorBody) -> Result<(), RuntimeApiError> {
        let body = serde_json::to_vec(error).expect("an error body serialises");
        let kind = format!("Runtime.{}", error.error_type);
        self.post("init/error", "init/error", body, Some(&kind))
            .await
    }

    async fn post(
        &self,
        what: &'static str,
        path: &str,
        body: Vec<u8>,
        error_type: Option<&str>,
    ) -> Result<(), RuntimeApiError> {
        let mut request = self
            .http
            .post(format!("{}/{path}", self.base))
            .timeout(POST_TIMEOUT)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        if let Some(kind) = error_type {
            request = request.header("Lambda-Runtime-Function-Error-Type", kind);
        }
        let response = request.send().await.map_err(|e| RuntimeApiError::Call {
            what,
            message: e.to_string(),
        })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        if status.is_client_error() {
            return Err(RuntimeApiError::Refused {
                what,
                status: status.as_u16(),
            });
        }
        Err(RuntimeApiError::Call {
            what,
            message: format!("HTTP {}", status.as_u16()),
        })
    }
}

/// Serves events one at a time until the Runtime API itself fails, and returns why. The
/// handler's error is posted as the invocation's error; a panic in it is posted as `Panic` and
/// the loop goes on.
pub async fn serve<R, E, F, Fut>(api: &RuntimeApi, handle: F) -> RuntimeApiError
where
    R: Serialize,
    E: Into<ErrorBody>,
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    loop {
        if let Err(err) = serve_one(api, &handle).await {
            return err;
        }
    }
}

async fn serve_one<R, E, F, Fut>(api: &RuntimeApi, handle: &F) -> Result<(), RuntimeApiError>
where
    R: Serialize,
    E: Into<ErrorBody>,
    F: Fn(Value) -> Fut,
    Fut: Future<Output = Result<R, E>>,
{
    let invocation = api.next().await?;
    let id = invocation.request_id;
    let payload = match invocation.payload {
        Ok(payload) => payload,
        Err(error) => {
            error!(
                request_id = id,
                error_type = error.error_type,
                error = error.error_message,
                "event rejected"
            );
            return api.fail(&id, &error).await;
        }
    };
    match AssertUnwindSafe(handle(payload)).catch_unwind().await {
        Ok(Ok(response)) => match api.respond(&id, &response).await {
            // A response the API will not take (too large, too late) is reported as the
            // invocation's error, so the event is not silently lost; the loop goes on.
            Err(RuntimeApiError::Refused { status, .. }) => {
                error!(
                    request_id = id,
                    status, "the Runtime API refused the response"
                );
                let error = ErrorBody {
                    error_type: "ResponseRefused".into(),
                    error_message: format!("the Runtime API refused the response (HTTP {status})"),
                };
                ignore_refusal(api.fail(&id, &error).await)
            }
            other => other,
        },
        Ok(Err(error)) => ignore_refusal(api.fail(&id, &error.into()).await),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the handler panicked".into());
            error!(request_id = id, error = message, "handler panicked");
            let error = ErrorBody {
                error_type: "Panic".into(),
                error_message: message,
            };
            api.fail(&id, &error).await
        }
    }
}

/// A refused post loses that invocation's answer (Lambda then times it out and retries it);
/// only a Runtime API that cannot be reached stops the loop.
fn ignore_refusal(result: Result<(), RuntimeApiError>) -> Result<(), RuntimeApiError> {
    match result {
        Err(RuntimeApiError::Refused { what, status }) => {
            error!(what, status, "the Runtime API refused a post");
            Ok(())
        }
        other => other,
    }
}
