//! What the function posts about an audit: a sweep's digest (new, widened, narrowed and fixed
//! root causes), a change alarm (the change, who made it, what it breaks or widens), a
//! deployment gate's verdict; as SNS text and as a Slack Block Kit payload.
//!
//! Cluster and service names, summaries and the change's actor come from AWS and the account;
//! in Slack they are escaped and commands are fenced, as in the diagnosis payload.

use serde_json::{json, Value};

use super::slack::{cap, cap_code, code_block_text, escape, HEADER_MAX, SECTION_MAX};
use super::sns::SnsMessage;
use crate::audit::delta::{KnownCause, ScopeChange};
use crate::audit::{Audit, RootCause, ServiceVerdict};
use crate::change::Change;
use crate::localized::{Lang, Localized};

/// Block Kit takes at most 50 blocks; causes beyond this are counted, not shown.
const MAX_CAUSES_SHOWN: usize = 10;

/// Why the audit ran.
#[derive(Debug, Clone, Copy)]
pub enum Trigger<'a> {
    /// The scheduled sweep.
    Sweep,
    /// A CloudTrail change.
    Change(&'a Change),
    /// A deployment lifecycle hook; `allowed` is the answer given to ECS.
    Gate {
        service: &'a str,
        revision: &'a str,
        allowed: bool,
    },
}

/// One post.
#[derive(Debug, Clone)]
pub struct Digest<'a> {
    pub trigger: Trigger<'a>,
    /// The account audited, named when the doctor posts for several (central mode).
    pub account: Option<&'a str>,
    pub audit: Option<&'a Audit>,
    pub new: Vec<&'a RootCause>,
    /// Known causes that now affect more; the fix is the cause's whole fix as it stands.
    pub widened: Vec<ScopeChange<'a>>,
    /// Known causes that affect less (a sweep says so; an alarm leaves it to the sweep).
    pub narrowed: Vec<ScopeChange<'a>>,
    pub fixed: Vec<(String, KnownCause)>,
    /// Said first when the doctor could not decide (a gate that let a deployment through
    /// unverified, an audit that was partial).
    pub warning: Option<Localized>,
}

impl Digest<'_> {
    fn headline(&self, lang: Lang) -> String {
        let ko = lang == Lang::Ko;
        let region = self.audit.map(|a| a.region.as_str()).unwrap_or("-");
        let region = match self.account {
            Some(account) => format!("{account}/{region}"),
            None => region.to_string(),
        };
        match self.trigger {
            Trigger::Sweep => {
                let (n, f) = (self.new.len(), self.fixed.len());
                let (w, k) = (self.widened.len(), self.narrowed.len());
                let scope = |word_en: &str, word_ko: &str, count: usize| match (count, ko) {
                    (0, _) => String::new(),
                    (_, true) => format!(", {word_ko} {count}개"),
                    (_, false) => format!(", {count} {word_en}"),
                };
                let (widened, narrowed) =
                    (scope("widened", "확대", w), scope("narrowed", "축소", k));
                if ko {
                    format!(
                        "사전 점검({region}): 새 근본 원인 {n}개{widened}{narrowed}, 해결 {f}개"
                    )
                } else {
                    format!(
                        "Preflight ({region}): {n} new root cause{}{widened}{narrowed}, {f} fixed",
                        if n == 1 { "" } else { "s" }
                    )
                }
            }
            Trigger::Change(change) => {
                let mut broken: Vec<&str> = self
                    .new
                    .iter()
                    .flat_map(|c| c.services.iter())
                    .chain(self.widened.iter().flat_map(|w| w.services.iter()))
                    .map(String::as_str)
                    .collect();
                broken.sort_unstable();
                broken.dedup();
                let broken = broken.join(", ");
                let widened_subnets: Vec<&str> = self
                    .widened
                    .iter()
                    .flat_map(|w| w.subnets.iter().map(String::as_str))
                    .collect();
                if broken.is_empty() && !widened_subnets.is_empty() {
                    let subnets = widened_subnets.join(", ");
                    if ko {
                        format!(
                            "{}(으)로 {subnets}에서도 이미지를 받을 수 없습니다",
                            change.event_name
                        )
                    } else {
                        format!("{} breaks image pulls in {subnets} too", change.event_name)
                    }
                } else if broken.is_empty() {
                    if ko {
                        format!(
                            "{}: 해결된 근본 원인 {}개",
                            change.event_name,
                            self.fixed.len()
                        )
                    } else {
                        format!(
                            "{} fixed {} root cause(s)",
                            change.event_name,
                            self.fixed.len()
                        )
                    }
                } else if ko {
                    format!(
                        "{}(이)가 {broken}의 이미지 받기를 막습니다",
                        change.event_name
                    )
                } else {
                    format!("{} breaks image pulls for {broken}", change.event_name)
                }
            }
            Trigger::Gate {
                service, allowed, ..
            } => match (allowed, self.new.is_empty(), ko) {
                (false, false, false) => {
                    format!("Deployment of {service} stopped: its tasks could not pull")
                }
                (false, false, true) => {
                    format!("{service} 배포 중단: 태스크가 이미지를 받을 수 없습니다")
                }
                (false, true, false) => {
                    format!("Deployment of {service} stopped: the gate could not verify it")
                }
                (false, true, true) => format!("{service} 배포 중단: 게이트가 검증하지 못했습니다"),
                (true, _, false) => format!("Deployment of {service} allowed without verification"),
                (true, _, true) => format!("{service} 배포를 검증 없이 허용했습니다"),
            },
        }
    }

    fn context(&self, lang: Lang) -> Vec<String> {
        let ko = lang == Lang::Ko;
        let mut lines = Vec::new();
        match self.trigger {
            Trigger::Change(change) => lines.push(if ko {
                format!(
                    "변경: {} ({}, {}){}",
                    change.event_name,
                    change.actor,
                    change.at,
                    resources(&change.resources)
                )
            } else {
                format!(
                    "Change: {} by {} at {}{}",
                    change.event_name,
                    change.actor,
                    change.at,
                    resources(&change.resources)
                )
            }),
            Trigger::Gate { revision, .. } => lines.push(if ko {
                format!("서비스 리비전: {revision}")
            } else {
                format!("Service revision: {revision}")
            }),
            Trigger::Sweep => {}
        }
        if let Some(audit) = self.audit {
            let count = |v| audit.count(v);
            lines.push(if ko {
                format!(
                    "서비스 {}개 점검: 정상 {}, 차단 {}, 알 수 없음 {}",
                    audit.services.len(),
                    count(ServiceVerdict::Ok),
                    count(ServiceVerdict::Blocked),
                    count(ServiceVerdict::Unknown)
                )
            } else {
                format!(
                    "{} services audited: {} ok, {} blocked, {} unknown",
                    audit.services.len(),
                    count(ServiceVerdict::Ok),
                    count(ServiceVerdict::Blocked),
                    count(ServiceVerdict::Unknown)
                )
            });
        }
        lines
    }

    /// What was not audited, service by service: a partial audit says so.
    fn not_audited(&self, lang: Lang) -> Vec<String> {
        let Some(audit) = self.audit else {
            return vec![];
        };
        audit
            .not_inspected
            .iter()
            .map(|n| n.get(lang).to_string())
            .chain(
                audit
                    .services
                    .iter()
                    .filter(|s| s.verdict == ServiceVerdict::Unknown)
                    .map(|s| {
                        let why = s
                            .not_inspected
                            .first()
                            .map(|n| n.get(lang).to_string())
                            .unwrap_or_default();
                        format!("{}: {why}", s.name())
                    }),
            )
            .collect()
    }
}

/// `now also: prod/api; subnets subnet-…; rtb-…` (or `no longer: …`).
fn scope_words(change: &ScopeChange<'_>, wider: bool, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut parts = Vec::new();
    if !change.services.is_empty() {
        parts.push(change.services.join(", "));
    }
    if !change.subnets.is_empty() {
        parts.push(format!(
            "{} {}",
            if ko { "서브넷" } else { "subnets" },
            change.subnets.join(", ")
        ));
    }
    if !change.resources.is_empty() {
        parts.push(change.resources.join(", "));
    }
    let lead = match (wider, ko) {
        (true, false) => "now also:",
        (true, true) => "새로 영향:",
        (false, false) => "no longer:",
        (false, true) => "더 이상 영향 없음:",
    };
    format!("{lead} {}", parts.join("; "))
}

fn scope_json(change: &ScopeChange<'_>) -> Value {
    json!({
        "identity": change.cause.identity,
        "code": change.cause.code.as_str(),
        "services": change.services,
        "subnets": change.subnets,
        "resources": change.resources,
    })
}

fn resources(ids: &[String]) -> String {
    if ids.is_empty() {
        String::new()
    } else {
        format!(" ({})", ids.join(", "))
    }
}

/// `Fix: …` and the cause's commands, indented by `indent`, for the text digest.
fn fix_lines(cause: &RootCause, lang: Lang, indent: &str) -> Vec<String> {
    let fix = if lang == Lang::Ko { "조치:" } else { "Fix:" };
    std::iter::once(format!("{indent}{fix} {}", cause.fix.get(lang)))
        .chain(
            cause
                .commands
                .iter()
                .map(|command| format!("{indent}  $ {command}")),
        )
        .collect()
}

/// The post as plain text (the SNS body).
pub fn digest_text(d: &Digest<'_>, lang: Lang) -> String {
    let ko = lang == Lang::Ko;
    let mut out = String::new();
    let mut line = |s: &str| {
        out.push_str(&super::sanitize(s));
        out.push('\n');
    };
    line(&d.headline(lang));
    if let Some(warning) = &d.warning {
        line(&format!("! {}", warning.get(lang)));
    }
    for context in d.context(lang) {
        line(&context);
    }
    for (i, cause) in d.new.iter().enumerate() {
        line("");
        line(&format!(
            "{}. {}  {}",
            i + 1,
            cause.code,
            cause.summary.get(lang)
        ));
        line(&format!(
            "   {} {} ({})",
            if ko { "영향:" } else { "Affects:" },
            cause.services.join(", "),
            cause.subnets.join(", ")
        ));
        for fix_line in fix_lines(cause, lang, "   ") {
            line(&fix_line);
        }
    }
    for (title, wider, changes) in [
        (if ko { "확대됨" } else { "Widened" }, true, &d.widened),
        (if ko { "축소됨" } else { "Narrowed" }, false, &d.narrowed),
    ] {
        if changes.is_empty() {
            continue;
        }
        line("");
        line(title);
        for change in changes {
            let cause = change.cause;
            line(&format!(
                "  {} {}  {}",
                if wider { "↑" } else { "↓" },
                cause.code,
                cause.summary.get(lang)
            ));
            line(&format!("     {}", scope_words(change, wider, lang)));
            if wider {
                for fix_line in fix_lines(cause, lang, "     ") {
                    line(&fix_line);
                }
            }
        }
    }
    if !d.fixed.is_empty() {
        line("");
        line(if ko { "해결됨" } else { "Fixed" });
        for (_, cause) in &d.fixed {
            let summary = if ko {
                &cause.summary_ko
            } else {
                &cause.summary_en
            };
            line(&format!("  ✓ {}  {summary}", cause.code));
        }
    }
    let gaps = d.not_audited(lang);
    if !gaps.is_empty() {
        line("");
        line(if ko {
            "점검하지 못한 항목"
        } else {
            "Not audited"
        });
        for gap in gaps {
            line(&format!("  • {gap}"));
        }
    }
    out
}

/// The post for SNS: subject (ASCII), body, and filterable attributes (`kind`, `codes`).
pub fn digest_sns(d: &Digest<'_>, lang: Lang) -> SnsMessage {
    let kind = match d.trigger {
        Trigger::Sweep => "sweep",
        Trigger::Change(_) => "change",
        Trigger::Gate { .. } => "gate",
    };
    let mut codes: Vec<&str> = d
        .new
        .iter()
        .map(|c| c.code.as_str())
        .chain(d.widened.iter().map(|w| w.cause.code.as_str()))
        .collect();
    codes.sort_unstable();
    codes.dedup();
    let json = json!({
        "kind": kind,
        "account": d.account,
        "new": d.new.iter().map(|c| super::audit::root_cause_json(c, lang)).collect::<Vec<_>>(),
        "widened": d.widened.iter().map(scope_json).collect::<Vec<_>>(),
        "narrowed": d.narrowed.iter().map(scope_json).collect::<Vec<_>>(),
        "fixed": d.fixed.iter().map(|(id, c)| json!({"identity": id, "code": c.code, "services": c.services})).collect::<Vec<_>>(),
        "warning": d.warning.as_ref().map(|w| w.get(lang)),
    });
    SnsMessage::new(
        &format!("ECS pull preflight: {}", d.headline(Lang::En)),
        &digest_text(d, lang),
        json,
        [("kind", kind.to_string()), ("codes", codes.join(","))]
            .into_iter()
            .chain(d.account.map(|a| ("account", a.to_string())))
            .collect(),
    )
}

/// `*Fix:* …` and the cause's commands, fenced, for its Slack section.
fn slack_fix(cause: &RootCause, lang: Lang) -> String {
    let mut text = format!(
        "{} {}",
        if lang == Lang::Ko {
            "*조치:*"
        } else {
            "*Fix:*"
        },
        escape(cause.fix.get(lang))
    );
    if !cause.commands.is_empty() {
        text.push_str(&format!(
            "\n```{}```",
            code_block_text(&cause.commands.join("\n"))
        ));
    }
    text
}

/// The post for a Slack incoming webhook.
pub fn digest_slack(d: &Digest<'_>, lang: Lang) -> Value {
    let ko = lang == Lang::Ko;
    let breaks = !d.new.is_empty() || !d.widened.is_empty();
    let mark = if !breaks && d.warning.is_none() {
        "🟢"
    } else if !breaks {
        "🟠"
    } else {
        "🔴"
    };
    let mut blocks = vec![
        json!({"type": "header", "text": {"type": "plain_text", "text": cap(&format!("{mark} {}", d.headline(lang)), HEADER_MAX), "emoji": true}}),
    ];
    let mut context: Vec<String> = d
        .warning
        .iter()
        .map(|w| format!("*{}*", escape(w.get(lang))))
        .collect();
    context.extend(d.context(lang).iter().map(|c| escape(c)));
    if !context.is_empty() {
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&context.join("\n"), SECTION_MAX)}}));
    }
    for cause in d.new.iter().take(MAX_CAUSES_SHOWN) {
        let text = format!(
            "*{}*  {}\n{} {}\n{}",
            cause.code,
            escape(cause.summary.get(lang)),
            if ko { "*영향:*" } else { "*Affects:*" },
            escape(&cause.services.join(", ")),
            slack_fix(cause, lang)
        );
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap_code(&text, SECTION_MAX)}}));
    }
    if d.new.len() > MAX_CAUSES_SHOWN {
        let more = d.new.len() - MAX_CAUSES_SHOWN;
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": if ko { format!("외 {more}개 (SNS 메시지와 로그에 전체 목록)") } else { format!("…and {more} more (the SNS message and the logs have them all)") }}}));
    }
    for (title, wider, changes) in [
        (if ko { "확대됨" } else { "Widened" }, true, &d.widened),
        (if ko { "축소됨" } else { "Narrowed" }, false, &d.narrowed),
    ] {
        for change in changes.iter().take(MAX_CAUSES_SHOWN) {
            let cause = change.cause;
            let mut text = format!(
                "*{title}: {}*  {}\n{}",
                cause.code,
                escape(cause.summary.get(lang)),
                escape(&scope_words(change, wider, lang))
            );
            if wider {
                text.push('\n');
                text.push_str(&slack_fix(cause, lang));
            }
            blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap_code(&text, SECTION_MAX)}}));
        }
    }
    if !d.fixed.is_empty() {
        let fixed: Vec<String> = d
            .fixed
            .iter()
            .map(|(_, c)| {
                format!(
                    "✓ *{}*  {}",
                    c.code,
                    escape(if ko { &c.summary_ko } else { &c.summary_en })
                )
            })
            .collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&format!("*{}*\n{}", if ko { "해결됨" } else { "Fixed" }, fixed.join("\n")), SECTION_MAX)}}));
    }
    let gaps = d.not_audited(lang);
    if !gaps.is_empty() {
        let list: Vec<String> = gaps.iter().map(|g| format!("• {}", escape(g))).collect();
        blocks.push(json!({"type": "section", "text": {"type": "mrkdwn", "text": cap(&format!("*{}*\n{}", if ko { "점검하지 못한 항목" } else { "Not audited" }, list.join("\n")), SECTION_MAX)}}));
    }
    json!({"text": cap(&escape(&d.headline(lang)), SECTION_MAX), "blocks": blocks})
}
