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

/// A piece of a sentence: a [`Localized`] gives each language its own text, anything else
/// (IDs, numbers, commands) is the same in both.
pub trait Piece {
    fn piece(&self, lang: Lang) -> std::borrow::Cow<'_, str>;
}

impl<T: std::fmt::Display + ?Sized> Piece for T {
    fn piece(&self, _lang: Lang) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Owned(self.to_string())
    }
}

impl Piece for Localized {
    fn piece(&self, lang: Lang) -> std::borrow::Cow<'_, str> {
        std::borrow::Cow::Borrowed(self.get(lang))
    }
}

/// `t!("English {x}", "한국어 {x}", x = value)`: formats both languages with the same
/// arguments; named arguments are evaluated once and borrowed by both, and a [`Localized`]
/// argument gives each language its own words (so no English reaches a Korean sentence).
#[macro_export]
macro_rules! t {
    ($en:literal, $ko:literal $(, $name:ident = $value:expr)* $(,)?) => {{
        $(let $name = &$value;)*
        $crate::localized::Localized::new(
            {
                // A name may be used by one language only (`x_en = …, x_ko = …`).
                $(#[allow(unused_variables)] let $name = $crate::localized::Piece::piece($name, $crate::localized::Lang::En);)*
                format!($en)
            },
            {
                $(#[allow(unused_variables)] let $name = $crate::localized::Piece::piece($name, $crate::localized::Lang::Ko);)*
                format!($ko)
            },
        )
    }};
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn localized_arguments_compose_per_language_and_others_stay_as_they_are() {
        let via = Localized::new("NAT gateway nat-1", "NAT 게이트웨이 nat-1");
        let line = crate::t!(
            "{what} leaves through {via}.",
            "{what}은(는) {via}를 통해 나갑니다.",
            what = "S3",
            via = via
        );
        assert_eq!(line.en, "S3 leaves through NAT gateway nat-1.");
        assert_eq!(line.ko, "S3은(는) NAT 게이트웨이 nat-1를 통해 나갑니다.");
    }
}
