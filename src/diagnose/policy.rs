//! Does a VPC endpoint policy allow one action on one resource?
//!
//! A deliberately small subset of IAM policy evaluation: `Effect`, `Action`/`NotAction`,
//! `Resource`/`NotResource` with `*` and `?` wildcards, and `Principal` `*`. Anything it does
//! not evaluate (conditions, specific principals) makes the answer `Uncertain` rather than a
//! guess, so a conditional policy is reported as not inspected, never as allowing or denying.

use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    Allowed,
    /// Denied explicitly (`Some(statement id or index)`) or for want of an allowing statement.
    Denied {
        explicit_statement: Option<String>,
    },
    Uncertain {
        why: String,
    },
}

/// Evaluates `policy` (a JSON policy document; `None` is the default full-access policy).
pub fn evaluate(policy: Option<&str>, action: &str, resource: &str) -> PolicyDecision {
    let Some(text) = policy.filter(|p| !p.trim().is_empty()) else {
        return PolicyDecision::Allowed;
    };
    let Ok(doc) = serde_json::from_str::<Value>(text) else {
        return PolicyDecision::Uncertain {
            why: "the policy document is not valid JSON".to_string(),
        };
    };
    let statements: Vec<&Value> = match doc.get("Statement") {
        Some(Value::Array(items)) => items.iter().collect(),
        Some(single @ Value::Object(_)) => vec![single],
        _ => {
            return PolicyDecision::Uncertain {
                why: "the policy has no Statement".to_string(),
            }
        }
    };

    let mut allowed = false;
    let mut uncertain: Option<String> = None;
    for (index, statement) in statements.iter().enumerate() {
        let label = statement
            .get("Sid")
            .and_then(Value::as_str)
            .map_or_else(|| format!("#{}", index + 1), str::to_string);
        if !applies(statement, action, resource) {
            continue;
        }
        let is_deny = statement
            .get("Effect")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case("deny"));
        let conditional = statement.get("Condition").is_some();
        let any_principal = principal_is_anyone(statement.get("Principal"));
        if conditional || !any_principal {
            let what = if conditional {
                "a Condition"
            } else {
                "a specific Principal"
            };
            uncertain.get_or_insert(format!("statement {label} has {what}"));
            continue;
        }
        if is_deny {
            return PolicyDecision::Denied {
                explicit_statement: Some(label),
            };
        }
        allowed = true;
    }
    match (allowed, uncertain) {
        (_, Some(why)) => PolicyDecision::Uncertain { why },
        (true, None) => PolicyDecision::Allowed,
        (false, None) => PolicyDecision::Denied {
            explicit_statement: None,
        },
    }
}

fn applies(statement: &Value, action: &str, resource: &str) -> bool {
    let action_ok = match (statement.get("Action"), statement.get("NotAction")) {
        (Some(a), _) => any_matches(a, action, false),
        (None, Some(na)) => !any_matches(na, action, false),
        (None, None) => false,
    };
    let resource_ok = match (statement.get("Resource"), statement.get("NotResource")) {
        (Some(r), _) => any_matches(r, resource, true),
        (None, Some(nr)) => !any_matches(nr, resource, true),
        (None, None) => false,
    };
    action_ok && resource_ok
}

fn any_matches(patterns: &Value, subject: &str, case_sensitive: bool) -> bool {
    let check = |p: &Value| {
        p.as_str()
            .is_some_and(|p| wildcard_match(p, subject, case_sensitive))
    };
    match patterns {
        Value::Array(items) => items.iter().any(check),
        single => check(single),
    }
}

fn principal_is_anyone(principal: Option<&Value>) -> bool {
    match principal {
        None => true, // endpoint policies may omit it; it then means everyone
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => map.get("AWS").is_some_and(|aws| match aws {
            Value::String(s) => s == "*",
            Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
            _ => false,
        }),
        _ => false,
    }
}

/// IAM-style wildcard match: `*` any run of characters, `?` any one character.
pub fn wildcard_match(pattern: &str, subject: &str, case_sensitive: bool) -> bool {
    let (p, s): (Vec<char>, Vec<char>) = if case_sensitive {
        (pattern.chars().collect(), subject.chars().collect())
    } else {
        (
            pattern.to_lowercase().chars().collect(),
            subject.to_lowercase().chars().collect(),
        )
    };
    let (mut pi, mut si) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            pi += 1;
            si += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((star_p, star_s)) = star {
            pi = star_p + 1;
            si = star_s + 1;
            star = Some((star_p, star_s + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LAYER: &str = "arn:aws:s3:::prod-ap-northeast-2-starport-layer-bucket/layer";

    #[test]
    fn default_and_full_access_policies_allow() {
        assert_eq!(
            evaluate(None, "s3:GetObject", LAYER),
            PolicyDecision::Allowed
        );
        let full = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        assert_eq!(
            evaluate(Some(full), "s3:GetObject", LAYER),
            PolicyDecision::Allowed
        );
    }

    #[test]
    fn policy_limited_to_other_buckets_denies_the_layer_bucket() {
        let p = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["s3:GetObject","s3:PutObject"],"Resource":["arn:aws:s3:::my-app-bucket/*"]}]}"#;
        assert_eq!(
            evaluate(Some(p), "s3:GetObject", LAYER),
            PolicyDecision::Denied {
                explicit_statement: None
            }
        );
    }

    #[test]
    fn layer_bucket_statement_allows() {
        let p = r#"{"Statement":{"Sid":"ecr","Effect":"Allow","Principal":{"AWS":"*"},"Action":"s3:Get*","Resource":"arn:aws:s3:::prod-ap-northeast-2-starport-layer-bucket/*"}}"#;
        assert_eq!(
            evaluate(Some(p), "s3:GetObject", LAYER),
            PolicyDecision::Allowed
        );
    }

    #[test]
    fn explicit_deny_wins_and_conditions_are_uncertain() {
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"},{"Sid":"NoStarport","Effect":"Deny","Principal":"*","Action":"s3:*","Resource":"arn:aws:s3:::prod-*-starport-layer-bucket/*"}]}"#;
        assert_eq!(
            evaluate(Some(deny), "s3:GetObject", LAYER),
            PolicyDecision::Denied {
                explicit_statement: Some("NoStarport".into())
            }
        );
        let cond = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}"#;
        assert!(matches!(
            evaluate(Some(cond), "s3:GetObject", LAYER),
            PolicyDecision::Uncertain { .. }
        ));
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("s3:get*", "s3:GetObject", false));
        assert!(!wildcard_match("s3:get*", "s3:GetObject", true));
        assert!(wildcard_match("a?c*e", "abcdde", true));
        assert!(!wildcard_match("a*x", "abc", true));
        assert!(wildcard_match("*", "", true));
    }
}
