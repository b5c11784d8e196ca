//! Text that came from outside (an event, a CloudTrail record, a name in the account) made
//! fit for a reader: no characters that hide or reorder what is shown, and no field longer
//! than its kind can be.
//!
//! A bidirectional override (U+202E) makes `rtb-0abc` read as something else in Slack, a
//! terminal or a mail client, and a control character can move a terminal's cursor or forge a
//! new line in an SNS body. ECS names are at most 255 characters, so a field far longer than
//! that was not written by ECS: it is cut, and the cut says how much was dropped, so a sink's
//! size budget holds for any input without losing the finding.
//!
//! [`one_line`] is for fields as they are read from an event; [`displayable`] and
//! [`displayable_json`] are applied once more at each sink, to everything it sends.

use std::borrow::Cow;

use serde_json::Value;

/// The longest name, ARN or image reference kept from an event (ECS's own limits are 255
/// characters for names and about 1,600 for ARNs).
pub const MAX_NAME_BYTES: usize = 2048;

/// Characters that change the order or direction text is shown in: the embeddings and
/// overrides (U+202A–U+202E), the isolates (U+2066–U+2069), and the marks (U+061C, U+200E,
/// U+200F).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}' | '\u{200E}' | '\u{200F}')
}

/// True for what [`displayable`] removes: bidirectional controls and control characters
/// other than the line feed.
fn is_hidden(c: char) -> bool {
    is_bidi_control(c) || (c.is_control() && c != '\n')
}

/// `text` without bidirectional controls and without control characters (a tab becomes a
/// space; line feeds stay, since rendered text is made of lines).
pub fn displayable(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_hidden) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .filter_map(|c| match c {
                '\t' => Some(' '),
                c if is_hidden(c) => None,
                c => Some(c),
            })
            .collect(),
    )
}

/// Every string in `value` (object keys included) made [`displayable`].
pub fn displayable_json(value: &mut Value) {
    match value {
        Value::String(text) => {
            if let Cow::Owned(clean) = displayable(text) {
                *text = clean;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(displayable_json),
        Value::Object(map) => {
            let dirty: Vec<String> = map
                .keys()
                .filter(|k| matches!(displayable(k), Cow::Owned(_)))
                .cloned()
                .collect();
            for key in dirty {
                if let Some(item) = map.remove(&key) {
                    map.insert(displayable(&key).into_owned(), item);
                }
            }
            map.values_mut().for_each(displayable_json);
        }
        _ => {}
    }
}

/// One field read from an event: on one line (control characters, line breaks included,
/// become spaces), without bidirectional controls, and at most `max` bytes plus the note of
/// what was cut.
pub fn one_line(text: &str, max: usize) -> String {
    let line: String = text
        .chars()
        .filter(|c| !is_bidi_control(*c))
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    cut(&line, max)
}

/// `text` cut to at most `max` bytes on a character boundary, followed by a note naming how
/// many bytes were dropped; `text` itself when it fits.
pub fn cut(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}… [cut: {} more bytes]", &text[..end], text.len() - end)
}

/// Every string in `value` longer than `max` bytes [`cut`] to it; returns how many were cut.
pub fn cut_json_strings(value: &mut Value, max: usize) -> usize {
    match value {
        Value::String(text) if text.len() > max => {
            *text = cut(text, max);
            1
        }
        Value::Array(items) => items.iter_mut().map(|v| cut_json_strings(v, max)).sum(),
        Value::Object(map) => map.values_mut().map(|v| cut_json_strings(v, max)).sum(),
        _ => 0,
    }
}

/// `text` as one shell word, whatever it holds: as it is when it has only characters no
/// shell treats specially, else single-quoted (`it's` → `'it'\''s'`). For a value from an
/// event or an account inside a command people paste.
pub fn shell_word(text: &str) -> String {
    let plain = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_.,:/=@+-".contains(&b));
    if plain {
        return text.to_string();
    }
    format!("'{}'", text.replace('\'', "'\\''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bidi_and_control_characters_never_survive() {
        let planted = "rtb-\u{202E}0abc\u{2066}x\u{2069}\u{061C}\u{200E}\u{200F}\u{1b}[2J\u{7}\r\tend\nnext\u{85}";
        let shown = displayable(planted);
        assert_eq!(shown, "rtb-0abcx[2J end\nnext");
        assert!(matches!(displayable("plain 한국어 ✓"), Cow::Borrowed(_)));
        assert_eq!(
            one_line("a\nb\r\n\u{202D}c\u{0}", 100),
            "a b  c ",
            "one_line keeps no line break"
        );
    }

    #[test]
    fn shell_quoting_keeps_a_value_one_word() {
        assert_eq!(shell_word("prod-web_1"), "prod-web_1");
        assert_eq!(shell_word("a b"), "'a b'");
        assert_eq!(shell_word(""), "''");
        assert_eq!(shell_word("it's $(id)"), "'it'\\''s $(id)'");
    }

    #[test]
    fn json_strings_and_keys_are_cleaned_everywhere() {
        let mut value =
            serde_json::json!({"k\u{202E}ey": ["a\u{1b}b", {"n": "c\u{2067}d"}], "n": 1});
        displayable_json(&mut value);
        assert_eq!(
            value,
            serde_json::json!({"key": ["ab", {"n": "cd"}], "n": 1})
        );
    }

    #[test]
    fn long_fields_are_cut_on_a_character_boundary_and_say_so() {
        let long = "가".repeat(100);
        let cut_text = one_line(&long, 10);
        assert_eq!(cut_text, "가가가… [cut: 291 more bytes]");
        assert_eq!(one_line("short", 10), "short");
        let mut value =
            serde_json::json!({"a": "x".repeat(50), "b": ["y".repeat(5), "z".repeat(40)]});
        assert_eq!(cut_json_strings(&mut value, 10), 2);
        assert_eq!(value["a"], "xxxxxxxxxx… [cut: 40 more bytes]");
        assert_eq!(value["b"][0], "yyyyy");
    }
}
