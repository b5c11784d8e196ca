//! Text written in both languages the product speaks, chosen at render time.
//!
//! The rules write each sentence in English and Korean where they decide it, so the facts in
//! both are the same by construction; codes, resource IDs and commands stay as they are.

use std::str::FromStr;

use serde::Serialize;

/// The output language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    En,
    Ko,
}

impl FromStr for Lang {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" | "english" => Ok(Lang::En),
            "ko" | "kr" | "korean" => Ok(Lang::Ko),
            other => Err(format!("unknown language {other:?} (expected en or ko)")),
        }
    }
}

/// One sentence in English and Korean.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Localized {
    pub en: String,
    pub ko: String,
}

impl Localized {
    pub fn new(en: impl Into<String>, ko: impl Into<String>) -> Self {
        Localized {
            en: en.into(),
            ko: ko.into(),
        }
    }

    /// The same text in both languages (resource IDs, commands).
    pub fn same(text: impl Into<String>) -> Self {
        let text = text.into();
        Localized {
            en: text.clone(),
            ko: text,
        }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::En => &self.en,
            Lang::Ko => &self.ko,
        }
    }
}

/// `t!("English {x}", "한국어 {x}", x = value)`: formats both languages with the same
/// arguments; named arguments are evaluated once and borrowed by both.
#[macro_export]
macro_rules! t {
    ($en:literal, $ko:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        $(let $name = &$value;)*
        $crate::localized::Localized::new(format!($en), format!($ko))
    }};
}
