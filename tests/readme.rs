//! The documentation, held to what the code does: every shell command in README.md and
//! docs/*.md that needs no AWS account is run as a reader would run it, and must end as the
//! text says (`# exit N` in its comment, else 0); every transcript (a block that opens with
//! `$ command`) must show exactly what that command prints today; every link between the
//! pages must land on a file and heading that exist.
//!
//! The reader is the one the README's first screen leaves behind: the binary on the PATH,
//! ip-ranges fetched into their user copy (here the committed excerpt, which holds every
//! address the documents name), no `IP_RANGES_FILE` or `DIAGNOSIS_LANG`, and the clone as
//! the working directory (a scratch directory of links to it, so what a command writes stays
//! out of the clone).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Commands that are not run, each with why and where what it does is exercised instead.
/// Each must still appear in the documents (a stale entry fails the test).
const NOT_RUN: &[(&str, &str)] = &[
    ("make test", "the suite this test is part of"),
    (
        "make install",
        "a release build into ~/.cargo/bin; .ci/run builds the same binary for `make package`",
    ),
    (
        "make package",
        "a release build and `sam build`; .ci/run runs it on every stop",
    ),
    (
        "make ip-ranges",
        "downloads from ip-ranges.amazonaws.com; tests/cli.rs runs `ip-ranges update` against a loopback server",
    ),
    (
        "ecs-pull-doctor ip-ranges update",
        "downloads from ip-ranges.amazonaws.com; tests/cli.rs runs it against a loopback server",
    ),
    ("sudo apt-get install", "changes the machine"),
];

/// Words that make a command need an AWS account (credentials and a real network to read).
const NEEDS_AWS: &[&str] = &[
    "--live",
    "aws ",
    "sam ",
    "terraform ",
    "make deploy",
    "ecs-pull-doctor snapshot",
];

fn documents() -> Vec<PathBuf> {
    let mut docs = vec![common::repo("README.md"), common::repo("CHANGELOG.md")];
    let mut pages: Vec<PathBuf> = std::fs::read_dir(common::repo("docs"))
        .expect("docs/")
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "md"))
        .collect();
    pages.sort();
    docs.extend(pages);
    docs
}

fn relative(path: &Path) -> String {
    path.strip_prefix(common::repo("."))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// A fenced block: its info string, the line its first body line is on, and its body with
/// the fence's own indentation removed (blocks inside list items are indented).
struct Block {
    info: String,
    line: usize,
    body: Vec<String>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut found = Vec::new();
    let mut open: Option<(usize, Block)> = None;
    for (number, line) in text.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if let Some(info) = trimmed.strip_prefix("```") {
            match open.take() {
                Some((_, block)) => found.push(block),
                None => {
                    open = Some((
                        indent,
                        Block {
                            info: info.trim().to_string(),
                            line: number + 2,
                            body: Vec::new(),
                        },
                    ))
                }
            }
            continue;
        }
        if let Some((fence_indent, block)) = open.as_mut() {
            let cut = line.len().min(*fence_indent);
            block.body.push(line[cut..].to_string());
        }
    }
    found
}

/// Whether a quote is still open at the end of `text`, as `sh` reads quotes and comments.
fn quote_left_open(text: &str) -> bool {
    let mut quote = None;
    let mut previous = ' ';
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (None, '#') if previous.is_whitespace() => {
                chars.by_ref().find(|&c| c == '\n');
            }
            (None, '\'' | '"') => quote = Some(c),
            (Some(open), _) if c == open => quote = None,
            (None | Some('"'), '\\') => {
                chars.next();
            }
            _ => {}
        }
        previous = c;
    }
    quote.is_some()
}

/// The commands of a shell block: a line ending in `\` or inside a quoted string goes on
/// into the next, and comment-only lines are dropped.
fn commands(block: &Block) -> Vec<String> {
    let mut found = Vec::new();
    let mut pending = String::new();
    for line in &block.body {
        if pending.is_empty() && (line.trim().is_empty() || line.trim_start().starts_with('#')) {
            continue;
        }
        if let Some(head) = line.strip_suffix('\\') {
            pending.push_str(head);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        if quote_left_open(&pending) {
            pending.push('\n');
            continue;
        }
        found.push(std::mem::take(&mut pending));
    }
    assert!(
        pending.is_empty(),
        "line {}: a shell block ends inside a command: {pending}",
        block.line
    );
    found
}

/// The exit status the text gives a command: `# exit N` in its comment, else success.
fn expected_status(command: &str) -> i32 {
    command
        .split_once("# exit ")
        .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|digits| digits.parse().ok())
        .unwrap_or(0)
}

fn not_run_because(command: &str) -> Option<String> {
    if let Some((prefix, why)) = NOT_RUN
        .iter()
        .find(|(prefix, _)| command.trim_start().starts_with(prefix))
    {
        return Some(format!("{prefix}: {why}"));
    }
    let without_comment = command.split(" # ").next().unwrap_or(command);
    NEEDS_AWS
        .iter()
        .find(|word| without_comment.contains(*word))
        .map(|word| format!("needs an AWS account ({})", word.trim()))
}

/// The reader's world: a working directory of links to the clone's top-level entries, the
/// user's copy of ip-ranges, and the built binaries.
struct Reader {
    workdir: PathBuf,
    data_home: PathBuf,
}

impl Reader {
    fn new() -> Reader {
        let root =
            std::env::temp_dir().join(format!("ecs-pull-doctor-readme-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let workdir = root.join("clone");
        std::fs::create_dir_all(&workdir).unwrap();
        for entry in std::fs::read_dir(common::repo(".")).unwrap() {
            let entry = entry.unwrap();
            let name = entry.file_name();
            if name == "target" || name == ".git" {
                continue;
            }
            std::os::unix::fs::symlink(entry.path(), workdir.join(&name)).unwrap();
        }
        let data_home = root.join("data");
        let user_copy = data_home.join("ecs-pull-doctor");
        std::fs::create_dir_all(&user_copy).unwrap();
        std::fs::copy(common::ip_ranges_path(), user_copy.join("ip-ranges.json")).unwrap();
        Reader { workdir, data_home }
    }

    /// Runs one command with `sh -c`. `make` gets the binaries this run built: cargo is not
    /// run again from inside `cargo test`, which holds the build directory's lock.
    fn run(&self, command: &str) -> std::process::Output {
        let doctor = PathBuf::from(env!("CARGO_BIN_EXE_ecs-pull-doctor"));
        let bin_dir = doctor.parent().unwrap();
        let target_dir = bin_dir.parent().unwrap();
        let command = match command.strip_prefix("make ") {
            Some(rest) => format!(
                "make --no-print-directory DOCTOR='{}' CARGO=true TARGET_DIR='{}' {rest}",
                doctor.display(),
                target_dir.display()
            ),
            None => command.to_string(),
        };
        let path = format!(
            "{}:{}",
            bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        Command::new("sh")
            .arg("-c")
            .arg(&command)
            .current_dir(&self.workdir)
            .env("PATH", path)
            .env("XDG_DATA_HOME", &self.data_home)
            .env_remove("IP_RANGES_FILE")
            .env_remove("DIAGNOSIS_LANG")
            .env_remove("MAKEFLAGS")
            .env_remove("CI")
            .output()
            .expect("sh runs")
    }
}

fn status(output: &std::process::Output) -> i32 {
    output.status.code().unwrap_or(-1)
}

#[test]
fn every_command_that_needs_no_aws_account_ends_as_the_text_says() {
    let _serial = common::one_at_a_time();
    let reader = Reader::new();
    let mut ran = Vec::new();
    let mut skipped: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut failures = Vec::new();
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for block in blocks(&text).iter().filter(|b| b.info == "sh") {
            for command in commands(block) {
                let place = format!("{}:{}", relative(&document), block.line);
                if let Some(why) = not_run_because(&command) {
                    skipped.entry(why).or_default().push(place);
                    continue;
                }
                let output = reader.run(&command);
                let expected = expected_status(&command);
                if status(&output) != expected {
                    failures.push(format!(
                        "{place}: `{command}` exited {} where the text says {expected}\nstdout: {}\nstderr: {}",
                        status(&output),
                        String::from_utf8_lossy(&output.stdout),
                        String::from_utf8_lossy(&output.stderr)
                    ));
                }
                ran.push(command);
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    for must_run in [
        "make demo",
        "make invoke",
        "ecs-pull-doctor explain",
        "ecs-pull-doctor classify",
        "ecs-pull-doctor audit --network",
        "--plan",
    ] {
        assert!(
            ran.iter().any(|command| command.contains(must_run)),
            "no command with `{must_run}` was run: {ran:#?}"
        );
    }
    for (prefix, _) in NOT_RUN {
        assert!(
            skipped.keys().any(|why| why.starts_with(prefix)),
            "`{prefix}` is listed as not run but no document has it"
        );
    }
    eprintln!("ran {} commands; not run: {skipped:#?}", ran.len());
}

#[test]
fn every_transcript_shows_what_its_command_prints() {
    let _serial = common::one_at_a_time();
    let reader = Reader::new();
    let mut checked = 0;
    let mut failures = Vec::new();
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        for block in blocks(&text) {
            let Some(command) = block.body.first().and_then(|l| l.strip_prefix("$ ")) else {
                continue;
            };
            let place = format!("{}:{}", relative(&document), block.line);
            assert!(
                not_run_because(command).is_none(),
                "{place}: a transcript must be of a command that runs here: {command}"
            );
            let output = reader.run(command);
            let shown = block.body[1..].join("\n");
            let printed = String::from_utf8_lossy(&output.stdout);
            if status(&output) != expected_status(command) {
                failures.push(format!(
                    "{place}: `{command}` exited {} where the text says {}; stderr: {}",
                    status(&output),
                    expected_status(command),
                    String::from_utf8_lossy(&output.stderr)
                ));
            }
            if printed.trim_end() != shown.trim_end() {
                failures.push(format!("{place}: `{command}` prints, today:\n{printed}"));
            }
            checked += 1;
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    assert!(checked >= 3, "only {checked} transcripts found");
}

/// A heading's anchor as GitHub makes it: lower case, punctuation other than `-` and `_`
/// dropped, spaces as `-`.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(text: &str) -> BTreeSet<String> {
    let mut inside = false;
    let mut found = BTreeSet::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            inside = !inside;
        } else if !inside && line.starts_with('#') {
            found.insert(anchor(line.trim_start_matches('#')));
        }
    }
    found
}

#[test]
fn every_link_between_the_pages_lands_on_a_file_and_heading() {
    let mut broken = Vec::new();
    let mut checked = 0;
    for document in documents() {
        let text = std::fs::read_to_string(&document).unwrap();
        let base = document.parent().unwrap();
        for (at, _) in text.match_indices("](") {
            let Some(target) = text[at + 2..].split(')').next() else {
                continue;
            };
            if target.contains("://") || target.starts_with("mailto:") || target.contains(' ') {
                continue;
            }
            let (file, heading) = target.split_once('#').unwrap_or((target, ""));
            let path = if file.is_empty() {
                document.clone()
            } else {
                base.join(file)
            };
            checked += 1;
            if !path.exists() {
                broken.push(format!("{}: {target}: no such file", relative(&document)));
                continue;
            }
            if !heading.is_empty() {
                let page = std::fs::read_to_string(&path).unwrap_or_default();
                if !anchors(&page).contains(heading) {
                    broken.push(format!(
                        "{}: {target}: no such heading",
                        relative(&document)
                    ));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
    assert!(checked > 50, "only {checked} links found");
}

#[test]
fn the_readme_opens_with_the_first_screen_the_design_asks_for() {
    let readme = common::read("README.md");
    let first_screen: String = readme.lines().take(40).collect::<Vec<_>>().join("\n");
    for line in [
        "make demo",
        "make test",
        "make install",
        "ecs-pull-doctor ip-ranges update",
        "ecs-pull-doctor diagnose --live --task",
        "| ecs-pull-doctor diagnose --event - --live",
        "ecs-pull-doctor audit --live",
    ] {
        assert!(
            first_screen.contains(line),
            "the first screen lacks `{line}`"
        );
    }
    let contents = readme.find("## Contents").expect("a table of contents");
    assert!(contents < readme.find("## Words").expect("the words defined"));
    let order = [
        "## Words",
        "## Diagnosing a failure",
        "## Deploying the Lambda",
        "## Preflight: `audit`",
        "## Many accounts",
        "## Performance",
    ];
    let at: Vec<usize> = order
        .iter()
        .map(|h| {
            readme
                .find(&format!("\n{h}\n"))
                .unwrap_or_else(|| panic!("no {h}"))
        })
        .collect();
    assert!(
        at.windows(2).all(|w| w[0] < w[1]),
        "sections out of order: {order:?}"
    );
}
