//! The message families, as data: which phrases of the ECS agent, Fargate, Docker, containerd,
//! the OCI distribution spec, ECR and Go's network stack decide a message's symptom and hop.
//!
//! The table is `grammar.tsv`, one row per family with the emitter, the repository, file and
//! commit it was read from, its pattern, its decision and a real example (or one built from
//! the source's format string where no report was found). Keeping the decisions as data lets a
//! test hold every family to its example and lets a reader check a decision against its
//! source without reading the parser.
//!
//! Rows are in precedence order. Messages nest (the agent's wrapper around Docker's step
//! around Go's network error), so several rows match one message: the first matching row that
//! decides a symptom decides it, and the first matching row that decides a hop decides that.
//! `@host` in the hop column hands the decision to the host the task was talking to.
//! Patterns are matched against the lower-cased message, so they are written in lower case
//! (escapes such as `\S` aside); matching without case folding keeps the matcher cheap to
//! build on a cold start.

use std::sync::LazyLock;

use regex::bytes::{RegexSet, RegexSetBuilder};
use thiserror::Error;

use super::{Hop, Symptom};

/// The table the parser reads.
pub const BUNDLED: &str = include_str!("grammar.tsv");
const COLUMNS: [&str; 10] = [
    "family",
    "emitter",
    "repo",
    "path",
    "commit",
    "pattern",
    "symptom",
    "hop",
    "example",
    "example_source",
];

/// What a family says about the hop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HopRule {
    /// The family does not say which dependency failed.
    Silent,
    Decides(Hop),
    /// The host named in the message decides (see [`super::hop_for_host`]).
    FailingHost,
}

/// One message family: a phrase one emitter writes, and what it means.
#[derive(Debug, Clone)]
pub struct Family {
    pub id: &'static str,
    /// Who writes the phrase: `ecs-agent`, `fargate`, `dockerd`, `containerd`, `registry`,
    /// `aws-sdk`, `go`, `windows`.
    pub emitter: &'static str,
    /// `owner/name` of the repository read, or `-` when the source is a web page.
    pub repo: &'static str,
    /// The file read, or the page's address.
    pub path: &'static str,
    /// The commit read (40 hex digits), or `-` for a web page.
    pub commit: &'static str,
    /// A regular expression over the message, matched without regard to ASCII case.
    pub pattern: &'static str,
    pub symptom: Option<Symptom>,
    pub hop: HopRule,
    pub example: &'static str,
    pub example_source: &'static str,
}

impl Family {
    /// A family that decides nothing: an envelope the parser reads through.
    pub fn is_envelope(&self) -> bool {
        self.symptom.is_none() && self.hop == HopRule::Silent
    }
}

#[derive(Debug, Error)]
pub enum GrammarError {
    #[error("grammar.tsv line {line}: {reason}")]
    Row { line: usize, reason: String },
    #[error("grammar.tsv: {0}")]
    Pattern(#[from] regex::Error),
}

/// The families and one automaton that finds all of them in a single pass.
pub struct Grammar {
    families: Vec<Family>,
    /// The families that decide something, in table order; `matcher`'s pattern `i` is
    /// `families[deciding[i]]`'s.
    deciding: Vec<usize>,
    matcher: RegexSet,
}

impl Grammar {
    pub fn families(&self) -> &[Family] {
        &self.families
    }

    /// The deciding families whose pattern occurs in `text`, in precedence order.
    pub fn matching(&self, text: &str) -> Vec<&Family> {
        self.matcher
            .matches(text.as_bytes())
            .iter()
            .map(|i| &self.families[self.deciding[i]])
            .collect()
    }
}

/// The bundled table, read once.
pub fn grammar() -> &'static Grammar {
    static GRAMMAR: LazyLock<Grammar> =
        LazyLock::new(|| parse(BUNDLED).expect("the bundled grammar.tsv is valid (tested)"));
    &GRAMMAR
}

/// Reads a table in `grammar.tsv`'s shape: a header, then rows; `#` lines are section notes.
pub fn parse(table: &'static str) -> Result<Grammar, GrammarError> {
    let mut lines = table.lines().enumerate();
    let header: Vec<&str> = lines
        .next()
        .map(|(_, l)| l.split('\t').collect())
        .unwrap_or_default();
    if header != COLUMNS {
        return Err(GrammarError::Row {
            line: 1,
            reason: format!("the header must be {}", COLUMNS.join(" ")),
        });
    }
    let mut families = Vec::new();
    for (index, line) in lines {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let row_error = |reason: String| GrammarError::Row {
            line: index + 1,
            reason,
        };
        let cells: Vec<&'static str> = line.split('\t').collect();
        let [id, emitter, repo, path, commit, pattern, symptom, hop, example, example_source] =
            cells[..]
        else {
            return Err(row_error(format!(
                "{} cells, expected {}",
                cells.len(),
                COLUMNS.len()
            )));
        };
        if has_upper_case_outside_escapes(pattern) {
            return Err(row_error(format!(
                "pattern {pattern:?}: messages are matched lower-cased, so write it in lower case"
            )));
        }
        let symptom = match symptom {
            "-" => None,
            name => Some(
                Symptom::from_name(name)
                    .ok_or_else(|| row_error(format!("unknown symptom {name:?}")))?,
            ),
        };
        let hop = match hop {
            "-" => HopRule::Silent,
            "@host" => HopRule::FailingHost,
            name => HopRule::Decides(
                Hop::from_name(name).ok_or_else(|| row_error(format!("unknown hop {name:?}")))?,
            ),
        };
        families.push(Family {
            id,
            emitter,
            repo,
            path,
            commit,
            pattern,
            symptom,
            hop,
            example,
            example_source,
        });
    }
    let deciding: Vec<usize> = (0..families.len())
        .filter(|&i| !families[i].is_envelope())
        .collect();
    let matcher = RegexSetBuilder::new(deciding.iter().map(|&i| families[i].pattern))
        .unicode(false)
        .size_limit(32 << 20)
        .build()?;
    Ok(Grammar {
        families,
        deciding,
        matcher,
    })
}

fn has_upper_case_outside_escapes(pattern: &str) -> bool {
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            chars.next();
        } else if c.is_ascii_uppercase() {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_table_is_read() {
        let grammar = grammar();
        assert!(grammar.families().len() > 60);
        assert!(grammar
            .families()
            .iter()
            .any(|f| f.hop == HopRule::FailingHost));
    }

    #[test]
    fn a_bad_row_names_its_line() {
        let table = "family\temitter\trepo\tpath\tcommit\tpattern\tsymptom\thop\texample\texample_source\n# a note\nx\tgo\tgolang/go\tsrc/net/net.go\tabc\ti/o timeout\tslow\t-\te\ts\n";
        let err = parse(table).err().expect("an unknown symptom is refused");
        assert_eq!(
            err.to_string(),
            "grammar.tsv line 3: unknown symptom \"slow\""
        );
        assert!(parse("family\tpattern\n").is_err());
        let upper = "family\temitter\trepo\tpath\tcommit\tpattern\tsymptom\thop\texample\texample_source\nx\tgo\tgolang/go\tsrc/net/net.go\tabc\tI/O timeout \\S+\ttimeout\t-\te\ts\n";
        let err = parse(upper)
            .err()
            .expect("an upper-case pattern is refused");
        assert!(err.to_string().contains("write it in lower case"), "{err}");
        assert!(!has_upper_case_outside_escapes(r"lookup \S+ on \S+:53:"));
    }
}
