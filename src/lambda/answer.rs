//! What `lambda_runtime` posts for one invocation: the response, or an error whose
//! `errorType` is ours.
//!
//! `lambda_runtime` types the errors it makes itself by their Rust names: a payload its type
//! cannot deserialise is `&lambda_runtime::deserializer::DeserializeError`, a panic is
//! `&alloc::boxed::Box<dyn core::any::Any + core::marker::Send>`. No alarm or failure
//! destination can match on those, so bytes that are not JSON are caught while deserialising
//! (and answered as the `MalformedEvent` every other unusable event is), and a panic is caught
//! around the handler (and answered as `Panic`).

use std::panic::AssertUnwindSafe;

use std::time::{Duration, SystemTime};

use futures::FutureExt;
use lambda_runtime::{Diagnostic, LambdaEvent};
use serde::{Deserialize, Deserializer};
use serde_json::Value;

use super::{handle, Deps, HandlerError, Response};

/// One invocation's payload: a JSON document, or why the bytes are not one.
#[derive(Debug, Clone, PartialEq)]
pub enum Payload {
    Json(Value),
    NotJson(String),
}

impl<'de> Deserialize<'de> for Payload {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Value::deserialize(deserializer) {
            Ok(value) => Payload::Json(value),
            Err(err) => Payload::NotJson(err.to_string()),
        })
    }
}

/// What the Runtime API says of one invocation besides its payload.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Call {
    /// Lambda's request ID: who holds a delivery lease (see [`super::dedup`]).
    pub request_id: String,
    /// When the function times out (`Lambda-Runtime-Deadline-Ms`); `None` when not said.
    pub deadline: Option<SystemTime>,
}

impl Call {
    /// The time left before the deadline (none once it has passed); `None` when there is no
    /// deadline.
    pub fn time_left(&self) -> Option<Duration> {
        let deadline = self.deadline?;
        Some(
            deadline
                .duration_since(SystemTime::now())
                .unwrap_or(Duration::ZERO),
        )
    }
}

/// [`handle`] for a document; a `MalformedEvent` for bytes that are not one; `Panic` for a
/// handler that panicked. The invoked function's ARN names the function's own account, which
/// is learned here instead of from STS.
pub async fn answer(event: LambdaEvent<Payload>, deps: &Deps) -> Result<Response, Diagnostic> {
    let context = &event.context;
    if let Some((_, account)) = crate::trust::arn_region_and_account(&context.invoked_function_arn)
    {
        deps.network.learn_own_account(account);
    }
    let call = Call {
        request_id: context.request_id.clone(),
        deadline: (context.deadline > 0).then(|| context.deadline()),
    };
    let payload = event.payload;
    answer_panics(async {
        match payload {
            // Boxed: the modes' futures nest deep enough to exceed the compiler's layout depth.
            Payload::Json(value) => Box::pin(handle(value, deps, &call)).await,
            Payload::NotJson(why) => Err(HandlerError::NotJson(why)),
        }
    })
    .await
}

async fn answer_panics(
    handled: impl std::future::Future<Output = Result<Response, HandlerError>>,
) -> Result<Response, Diagnostic> {
    match AssertUnwindSafe(handled).catch_unwind().await {
        Ok(result) => result.map_err(Diagnostic::from),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "the handler panicked".into());
            tracing::error!(error = message, "handler panicked");
            Err(Diagnostic {
                error_type: "Panic".into(),
                error_message: message,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As `lambda_runtime` reads the body: one value from the bytes, nothing after it checked.
    fn read(body: &str) -> Payload {
        Payload::deserialize(&mut serde_json::Deserializer::from_slice(body.as_bytes())).unwrap()
    }

    #[test]
    fn a_document_is_kept_whole_and_bytes_that_are_not_json_say_why() {
        let document = read(r#"{"detail-type": "x", "n": [1]}"#);
        assert_eq!(
            document,
            Payload::Json(serde_json::json!({"detail-type": "x", "n": [1]}))
        );
        for (body, said) in [
            (r#"{"detail-type": "#, "EOF while parsing"),
            ("detail-type=ECS", "expected value"),
        ] {
            let payload = read(body);
            let Payload::NotJson(why) = &payload else {
                panic!("{body:?} is not JSON: {payload:?}");
            };
            assert!(why.contains(said), "{body:?}: {why}");
        }
        let Payload::NotJson(why) = read("") else {
            panic!("an empty body is not JSON");
        };

        let error = HandlerError::NotJson(why);
        assert_eq!(error.error_type(), "MalformedEvent");
        assert!(!error.retryable());
        assert!(error
            .to_string()
            .starts_with("malformed event: the payload is not JSON ("));
    }

    #[tokio::test]
    async fn a_panic_and_an_error_are_answered_with_our_error_types() {
        let panicked = answer_panics(async { panic!("index out of bounds: the len is 0") })
            .await
            .unwrap_err();
        assert_eq!(panicked.error_type, "Panic");
        assert!(
            panicked.error_message.contains("index out of bounds"),
            "{}",
            panicked.error_message
        );

        let failed = answer_panics(async { Err(HandlerError::NotJson("EOF".into())) })
            .await
            .unwrap_err();
        assert_eq!(failed.error_type, "MalformedEvent");
        assert_eq!(
            failed.error_message,
            "malformed event: the payload is not JSON (EOF)"
        );
    }
}
