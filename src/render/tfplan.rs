//! A plan's preflight for people (text), for pull-request comments (Markdown) and for
//! machines (the audit's JSON after the plan, with a `plan` member): what the plan
//! introduces first, then what it fixes, then what it leaves as it was.

use serde_json::{json, Value};

use super::audit::{audit_json, root_cause_json};
use super::{fenced, matrix, sanitize};
use crate::localized::Lang;
use crate::tfplan::{PlannedCause, Preflight};

fn planned_json(planned: &PlannedCause, lang: Lang) -> Value {
    let mut cause = root_cause_json(&planned.cause, lang);
    cause["addresses"] = json!(planned.addresses);
    cause["terraform_fix"] = json!(planned.terraform_fix);
    if let Some(widened) = &planned.widened {
        cause["widened_to"] = json!(widened);
    }
    cause
}

/// The audit after the plan, as docs/reference.md's JSON contract, with `plan`.
pub fn preflight_json(preflight: &Preflight, lang: Lang) -> Value {
    let mut out = audit_json(&preflight.after, None, lang);
    let list = |causes: &[PlannedCause]| -> Vec<Value> {
        causes.iter().map(|c| planned_json(c, lang)).collect()
    };
    out["plan"] = json!({
        "introduced": list(&preflight.verdict.introduced),
        "fixed": list(&preflight.verdict.fixed),
        "unchanged": list(&preflight.verdict.unchanged),
        "unverified": list(&preflight.verdict.unverified),
        "ignored": preflight.verdict.ignored,
        "undecided": preflight.undecided(),
    });
    out
}

fn headline(preflight: &Preflight, lang: Lang) -> String {
    let v = &preflight.verdict;
    let (i, f, u) = (v.introduced.len(), v.fixed.len(), v.unchanged.len());
    let undecided = preflight.undecided();
    let n = v.unverified.len();
    if lang == Lang::Ko {
        let mut line = format!("계획: 새 근본 원인 {i}개, 해결 {f}개, 그대로 {u}개");
        if n > 0 {
            line.push_str(&format!(", 다시 확인 못 함 {n}개"));
        }
        if undecided {
            line.push_str(" (일부 경로는 판단하지 못함: 아래 참고)");
        }
        line
    } else {
        let mut line = format!(
            "Plan: introduces {i} root cause{}, fixes {f}, leaves {u}",
            if i == 1 { "" } else { "s" }
        );
        if n > 0 {
            line.push_str(&format!(", {n} not checked again"));
        }
        if undecided {
            line.push_str(" (some paths undecided: see below)");
        }
        line
    }
}

fn section_titles(lang: Lang) -> [&'static str; 4] {
    if lang == Lang::Ko {
        [
            "이 계획이 만드는 근본 원인",
            "이 계획이 해결하는 근본 원인",
            "그대로 남는 근본 원인",
            "계획 후 다시 확인하지 못한 근본 원인",
        ]
    } else {
        [
            "Introduced by this plan",
            "Fixed by this plan",
            "Left as they are",
            "Not checked again after the plan (undecided)",
        ]
    }
}

/// The verdict's non-empty lists with their titles, in the order they are said.
fn sections(
    preflight: &Preflight,
    lang: Lang,
) -> impl Iterator<Item = (&'static str, &Vec<PlannedCause>)> {
    let v = &preflight.verdict;
    section_titles(lang)
        .into_iter()
        .zip([&v.introduced, &v.fixed, &v.unchanged, &v.unverified])
        .filter(|(_, causes)| !causes.is_empty())
}

fn undecided_lines(preflight: &Preflight) -> Vec<String> {
    preflight
        .undecided_reasons()
        .into_iter()
        .map(|(scope, why)| match scope.as_deref() {
            Some(crate::tfplan::apply::NEW_VPC_SCOPE) => {
                format!("{why} (in a VPC the plan creates: no service runs there yet)")
            }
            _ => why,
        })
        .chain(preflight.newly_unknown())
        .collect()
}

/// The preflight for a person.
pub fn preflight_text(preflight: &Preflight, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut out = String::new();
    let mut line = |s: String| {
        out.push_str(&sanitize(&s));
        out.push('\n');
    };
    line(headline(preflight, lang));
    let v = &preflight.verdict;
    for (title, causes) in sections(preflight, lang) {
        line(String::new());
        line(format!("{title}:"));
        for planned in causes {
            let cause = &planned.cause;
            line(format!("  {} {}", cause.code, cause.summary.get(lang)));
            if let Some(widened) = &planned.widened {
                line(format!(
                    "    {} {}",
                    if ko {
                        "새로 영향받는 것:"
                    } else {
                        "now also:"
                    },
                    widened.join(", ")
                ));
            }
            if !planned.addresses.is_empty() {
                line(format!(
                    "    {} {}",
                    if ko {
                        "계획의 리소스:"
                    } else {
                        "plan resources:"
                    },
                    planned.addresses.join(", ")
                ));
            }
            if !cause.services.is_empty() {
                line(format!(
                    "    {} {}",
                    if ko { "영향:" } else { "affects:" },
                    cause.services.join(", ")
                ));
            }
            if std::ptr::eq(causes, &v.fixed) {
                continue;
            }
            match &planned.terraform_fix {
                Some(fix) => {
                    line(format!(
                        "    {}",
                        if ko {
                            "Terraform 수정:"
                        } else {
                            "fix in Terraform:"
                        }
                    ));
                    for l in fix.lines() {
                        line(format!("      {l}"));
                    }
                }
                None => {
                    line(format!(
                        "    {} {}",
                        if ko { "조치:" } else { "fix:" },
                        cause.fix.get(lang)
                    ));
                    for command in &cause.commands {
                        line(format!("      $ {command}"));
                    }
                }
            }
        }
    }
    let undecided = undecided_lines(preflight);
    if !undecided.is_empty() {
        line(String::new());
        line(
            if ko {
                "판단하지 못한 것:"
            } else {
                "Undecided:"
            }
            .to_string(),
        );
        for why in undecided {
            line(format!("  - {why}"));
        }
    }
    if !v.ignored.is_empty() {
        line(String::new());
        line(format!(
            "{} {}",
            if ko {
                "읽지 않은 리소스(이미지 받기 경로와 무관):"
            } else {
                "Not read (no part of a pull path):"
            },
            v.ignored.join(", ")
        ));
    }
    out
}

/// `text` as a Markdown code span: nothing in it is markup or HTML (a backtick would end
/// the span, so it becomes a quote).
fn code_span(text: &str) -> String {
    format!("`{}`", text.replace('`', "'"))
}

/// The preflight as a pull-request comment.
pub fn preflight_markdown(preflight: &Preflight, lang: Lang) -> String {
    use matrix::markdown_cell as escape;
    let ko = lang == Lang::Ko;
    let mut out = String::new();
    let mut push = |text: String| {
        out.push_str(&sanitize(&text));
        out.push('\n');
    };
    push(format!(
        "### ecs-pull-doctor {} {}",
        if ko {
            "계획 점검"
        } else {
            "plan preflight"
        },
        escape(&preflight.after.region)
    ));
    push(String::new());
    push(format!("**{}**", escape(&headline(preflight, lang))));
    let v = &preflight.verdict;
    for (title, causes) in sections(preflight, lang) {
        push(String::new());
        push(format!("#### {title}"));
        for (i, planned) in causes.iter().enumerate() {
            let cause = &planned.cause;
            push(String::new());
            push(format!(
                "{}. `{}` {}",
                i + 1,
                cause.code,
                escape(cause.summary.get(lang))
            ));
            if !planned.addresses.is_empty() {
                let addresses: Vec<String> =
                    planned.addresses.iter().map(|a| code_span(a)).collect();
                push(format!(
                    "   - {} {}",
                    if ko {
                        "계획의 리소스:"
                    } else {
                        "Plan resources:"
                    },
                    addresses.join(", ")
                ));
            }
            if let Some(widened) = &planned.widened {
                push(format!(
                    "   - {} {}",
                    if ko {
                        "새로 영향받는 것:"
                    } else {
                        "Now also:"
                    },
                    escape(&widened.join(", "))
                ));
            }
            if !cause.services.is_empty() {
                push(format!(
                    "   - {} {}",
                    if ko { "영향:" } else { "Affects:" },
                    escape(&cause.services.join(", "))
                ));
            }
            if std::ptr::eq(causes, &v.fixed) {
                continue;
            }
            let block = match &planned.terraform_fix {
                Some(fix) => fenced("hcl", fix),
                None => {
                    push(format!(
                        "   - {} {}",
                        if ko { "조치:" } else { "Fix:" },
                        escape(cause.fix.get(lang))
                    ));
                    if cause.commands.is_empty() {
                        continue;
                    }
                    fenced("sh", &cause.commands.join("\n"))
                }
            };
            push(String::new());
            for l in block.lines() {
                push(format!("   {l}"));
            }
        }
    }
    let undecided = undecided_lines(preflight);
    if !undecided.is_empty() {
        push(String::new());
        push(format!(
            "#### {}",
            if ko {
                "판단하지 못한 것"
            } else {
                "Undecided"
            }
        ));
        push(String::new());
        for why in undecided {
            push(format!("- {}", escape(&why)));
        }
    }
    if !v.ignored.is_empty() {
        // A plain list: an HTML block (`<details>`) would not escape what the plan names.
        push(String::new());
        push(format!(
            "#### {} ({})",
            if ko {
                "읽지 않은 리소스"
            } else {
                "Resources not read"
            },
            v.ignored.len()
        ));
        push(String::new());
        for address in &v.ignored {
            push(format!("- {}", code_span(address)));
        }
    }
    out
}
