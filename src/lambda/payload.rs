//! What the Runtime API hands the function, as `lambda_runtime` deserialises it.
//!
//! `lambda_runtime` answers a payload that its type cannot deserialise with an error of its
//! own, typed by a Rust name (`&lambda_runtime::deserializer::DeserializeError`) that no
//! alarm or failure destination of ours knows. Bytes that are not JSON are caught here
//! instead, so they reach [`handle_payload`] and are answered as the `MalformedEvent` every
//! other unusable event is.

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

/// [`handle`] for a document; a `MalformedEvent` for bytes that are not one.
pub async fn handle_payload(payload: Payload, deps: &Deps) -> Result<Response, HandlerError> {
    match payload {
        Payload::Json(value) => handle(value, deps).await,
        Payload::NotJson(why) => Err(HandlerError::NotJson(why)),
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
}
