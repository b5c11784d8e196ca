//! The audit's services × subnets matrix, one per VPC: its subnets (by zone, with their
//! `Name` tag and a short ID) as columns, its services as rows, and in each cell one mark
//! per hop in one order fixed for the VPC, so the columns line up down the rows.
//!
//! Pure. Text blocks are held to [`MAX_WIDTH`] columns by splitting the subnets into as
//! many blocks as needed (each repeating the services); Markdown is one table per VPC.

use std::collections::BTreeMap;

use crate::audit::{Audit, ServiceAudit};
use crate::network::NetworkView;

/// The widest a text line of the matrix may be.
pub const MAX_WIDTH: usize = 120;
/// The most of a `Name` tag a column label shows.
const MAX_NAME: usize = 16;

/// A cell of a hop the service does not need there.
pub const NOT_NEEDED: &str = "-";
/// A cell of a subnet the service does not run in.
pub const NOT_HERE: &str = "·";

/// One VPC's matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub vpc: String,
    /// The hops, in the order each cell's marks follow.
    pub hops: Vec<String>,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub subnet: String,
    /// `Name (2a …47f6)`, or `subnet-…47f6 (2a)` without a name.
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub service: String,
    /// One per column: a mark per hop, or [`NOT_HERE`].
    pub cells: Vec<String>,
}

/// Where a hop sits in every matrix: the registry's API and its layers first, then other
/// registries, then what the containers fetch at start-up.
fn hop_rank(hop: &str) -> (u8, &str) {
    let base = hop.split('@').next().unwrap_or(hop);
    let rank = match base {
        "ecr.api" => 0,
        "ecr.dkr" => 1,
        "s3" => 2,
        "secretsmanager" => 4,
        "ssm" => 5,
        "logs" => 6,
        _ => 3,
    };
    (rank, hop)
}

/// The zone's short form (`ap-northeast-2a` → `2a`).
fn short_zone(zone: &str) -> String {
    let tail: Vec<char> = zone.chars().rev().take(2).collect();
    tail.into_iter().rev().collect()
}

/// The last four characters of an ID.
fn short_id(id: &str) -> String {
    let tail: Vec<char> = id.chars().rev().take(4).collect();
    format!("…{}", tail.into_iter().rev().collect::<String>())
}

fn label(view: &NetworkView, subnet: &str) -> String {
    let found = view.subnet(subnet);
    let zone = found
        .and_then(|s| s.availability_zone.as_deref())
        .map(short_zone)
        .unwrap_or_else(|| "?".into());
    match found.and_then(|s| s.name()) {
        Some(name) => {
            let name: String = name.chars().take(MAX_NAME).collect();
            format!("{} ({zone} {})", name.trim(), short_id(subnet))
        }
        None => format!("subnet-{} ({zone})", short_id(subnet)),
    }
}

/// A VPC's (zone, subnet) columns and the services with checks there.
type VpcParts<'a> = (Vec<(String, String)>, Vec<&'a ServiceAudit>);

/// The matrix of each VPC the audited services run in.
pub fn blocks(audit: &Audit, view: &NetworkView) -> Vec<Block> {
    let vpc_of = |subnet: &str| {
        view.subnet(subnet)
            .and_then(|s| s.vpc_id.clone())
            .unwrap_or_else(|| "?".into())
    };
    let zone_of = |subnet: &str| {
        view.subnet(subnet)
            .and_then(|s| s.availability_zone.clone())
            .unwrap_or_default()
    };
    let mut by_vpc: BTreeMap<String, VpcParts<'_>> = BTreeMap::new();
    for service in audit.services.iter().filter(|s| !s.checks.is_empty()) {
        for subnet in &service.subnets {
            let (columns, services) = by_vpc.entry(vpc_of(subnet)).or_default();
            let column = (zone_of(subnet), subnet.clone());
            if !columns.contains(&column) {
                columns.push(column);
            }
            if !services.iter().any(|s| std::ptr::eq(*s, service)) {
                services.push(service);
            }
        }
    }
    by_vpc
        .into_iter()
        .map(|(vpc, (mut columns, services))| {
            columns.sort();
            let mut hops: Vec<String> = services
                .iter()
                .flat_map(|s| s.hops.iter().cloned())
                .collect();
            hops.sort_by(|a, b| hop_rank(a).cmp(&hop_rank(b)));
            hops.dedup();
            let rows = services
                .iter()
                .map(|service| Row {
                    service: service.display_name(),
                    cells: columns
                        .iter()
                        .map(|(_, subnet)| cell(service, subnet, &hops))
                        .collect(),
                })
                .collect();
            Block {
                vpc,
                columns: columns
                    .into_iter()
                    .map(|(_, subnet)| Column {
                        label: label(view, &subnet),
                        subnet,
                    })
                    .collect(),
                hops,
                rows,
            }
        })
        .collect()
}

fn cell(service: &ServiceAudit, subnet: &str, hops: &[String]) -> String {
    if !service.subnets.iter().any(|s| s == subnet) {
        return NOT_HERE.to_string();
    }
    hops.iter()
        .map(|hop| {
            if !service.hops.contains(hop) {
                return NOT_NEEDED;
            }
            service
                .checks
                .iter()
                .find(|c| c.subnet == subnet && &c.hop == hop)
                .map_or("?", |c| c.state.mark())
        })
        .collect()
}

fn width(text: &str) -> usize {
    text.chars().count()
}

fn pad(text: &str, to: usize) -> String {
    format!("{text}{}", " ".repeat(to.saturating_sub(width(text))))
}

/// `block` as text lines of at most [`MAX_WIDTH`] columns: the VPC and its hop order, then
/// as many sub-blocks of subnets as fit.
pub fn text(block: &Block) -> Vec<String> {
    let name_width = block
        .rows
        .iter()
        .map(|r| width(&r.service))
        .max()
        .unwrap_or(0)
        .min(MAX_WIDTH / 3);
    let first = 4 + name_width + 2;
    let column_width = |i: usize| {
        let marks = block
            .rows
            .iter()
            .map(|r| width(&r.cells[i]))
            .max()
            .unwrap_or(0);
        width(&block.columns[i].label).max(marks) + 2
    };
    let mut lines = vec![format!(
        "  {}  (each cell: {})",
        block.vpc,
        block.hops.join(" ")
    )];
    let mut start = 0;
    while start < block.columns.len() {
        let mut end = start;
        let mut used = first;
        while end < block.columns.len() && (end == start || used + column_width(end) <= MAX_WIDTH) {
            used += column_width(end);
            end += 1;
        }
        let mut header = " ".repeat(first);
        for i in start..end {
            header.push_str(&pad(&block.columns[i].label, column_width(i)));
        }
        lines.push(header.trim_end().to_string());
        for row in &block.rows {
            let name: String = row.service.chars().take(name_width).collect();
            let mut line = format!("    {}", pad(&name, name_width + 2));
            for i in start..end {
                line.push_str(&pad(&row.cells[i], column_width(i)));
            }
            lines.push(line.trim_end().to_string());
        }
        start = end;
    }
    lines
}

/// An invisible character that ends a word for GitHub's and GitLab's reference and autolink
/// filters, which run on the rendered text, after backslash escapes are gone.
const WORD_JOINER: char = '\u{2060}';

/// Text for a Markdown table cell: nothing in it can end the cell, make a link or format,
/// and nothing from the account can mention someone (`@team`), refer to an issue (`#12`) or
/// become a link (`https://…`, `www.…`, `name@host`) in a pull-request comment.
pub fn markdown_cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(
            c,
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '#' | '~'
        ) {
            out.push('\\');
        }
        out.push(if c == '\n' { ' ' } else { c });
        let defuse = match c {
            '@' | '#' => true,
            ':' => chars.peek() == Some(&'/'),
            '.' => out
                .get(out.len().saturating_sub(4)..)
                .is_some_and(|tail| tail.eq_ignore_ascii_case("www.")),
            _ => false,
        };
        if defuse {
            out.push(WORD_JOINER);
        }
    }
    out
}

/// `block` as one Markdown table, its hop order above it.
pub fn markdown(block: &Block) -> Vec<String> {
    let mut lines = vec![
        format!(
            "**{}**, each cell: {}",
            markdown_cell(&block.vpc),
            markdown_cell(&block.hops.join(" "))
        ),
        String::new(),
    ];
    let mut header = "| service |".to_string();
    let mut rule = "|---|".to_string();
    for column in &block.columns {
        header.push_str(&format!(" {} |", markdown_cell(&column.label)));
        rule.push_str("---|");
    }
    lines.push(header);
    lines.push(rule);
    for row in &block.rows {
        let mut line = format!("| {} |", markdown_cell(&row.service));
        for cell in &row.cells {
            line.push_str(&format!(" `{cell}` |"));
        }
        lines.push(line);
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(columns: usize) -> Block {
        Block {
            vpc: "vpc-0123".into(),
            hops: vec!["ecr.api".into(), "ecr.dkr".into(), "s3".into()],
            columns: (0..columns)
                .map(|i| Column {
                    subnet: format!("subnet-{i}"),
                    label: format!("private-app-{i:02} (2a …{i:04})"),
                })
                .collect(),
            rows: vec![
                Row {
                    service: "prod/web".into(),
                    cells: (0..columns).map(|_| "✓✓✗".to_string()).collect(),
                },
                Row {
                    service: "batch/a-service-with-a-long-name".into(),
                    cells: (0..columns).map(|_| NOT_HERE.to_string()).collect(),
                },
            ],
        }
    }

    #[test]
    fn hops_take_one_order_whatever_order_services_found_them_in() {
        let mut hops = vec![
            "logs",
            "secretsmanager",
            "s3",
            "docker.io",
            "ecr.dkr",
            "ecr.api",
        ];
        hops.sort_by(|a, b| hop_rank(a).cmp(&hop_rank(b)));
        assert_eq!(
            hops,
            [
                "ecr.api",
                "ecr.dkr",
                "s3",
                "docker.io",
                "secretsmanager",
                "logs"
            ]
        );
    }

    #[test]
    fn a_wide_matrix_is_split_into_blocks_of_at_most_120_columns() {
        let lines = text(&block(12));
        assert!(lines.iter().all(|l| width(l) <= MAX_WIDTH), "{lines:#?}");
        let headers = lines.iter().filter(|l| l.contains("private-app-")).count();
        assert!(headers >= 3, "{lines:#?}");
        assert_eq!(
            lines.iter().filter(|l| l.contains("prod/web")).count(),
            headers
        );
    }

    #[test]
    fn markdown_cells_cannot_mention_refer_or_autolink() {
        let cell =
            markdown_cell("@acme/oncall #12 https://evil.example WWW.evil.example a@b.example");
        for live in ["@a", "#1", "://", "WWW.e", "@b"] {
            assert!(!cell.contains(live), "{live} in {cell}");
        }
        assert_eq!(
            cell.replace(WORD_JOINER, ""),
            "@acme/oncall \\#12 https://evil.example WWW.evil.example a@b.example"
        );
    }

    #[test]
    fn markdown_cells_cannot_break_the_table_or_make_links() {
        assert_eq!(
            markdown_cell("a|b [x](y) <z> `c`"),
            "a\\|b \\[x\\](y) \\<z\\> \\`c\\`"
        );
        let table = markdown(&block(2));
        assert_eq!(
            table[2],
            "| service | private-app-00 (2a …0000) | private-app-01 (2a …0001) |"
        );
        assert_eq!(table[3], "|---|---|---|");
        assert_eq!(table[4], "| prod/web | `✓✓✗` | `✓✓✗` |");
    }
}
