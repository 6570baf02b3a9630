//! The request's language for holder sentences a flow builds.
//!
//! Catalog failures are rendered in the caller's language by
//! the error renderer (`error::render_errors`); but flows also put sentences into answer
//! bodies and failure details (what resolves an unbind blocker, what to do
//! after freezing the account, what a diagnosis item means). Passing the
//! language through every flow would thread a parameter through ~80
//! signatures, so the middleware that reads `Accept-Language` runs the
//! handler inside a task-local scope, and a [`Say`] serializes itself in that
//! language. Outside a request (background jobs) it falls back to zh-CN;
//! jobs write notices, which use the account's own language instead.

use std::borrow::Cow;

use bangka_core::catalog::{Lang, Text};
use serde::{Serialize, Serializer};

tokio::task_local! {
    static LANG: Lang;
}

/// Runs `f` with `lang` as the language [`Say`] speaks.
pub async fn scope<F: Future>(lang: Lang, f: F) -> F::Output {
    LANG.scope(lang, f).await
}

/// The language of the request being handled (zh-CN outside one).
pub fn current() -> Lang {
    LANG.try_with(|l| *l).unwrap_or_default()
}

/// A sentence for the holder in both languages; serialized as a plain
/// string in the request's language.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Say {
    zh: Cow<'static, str>,
    en: Cow<'static, str>,
}

impl Say {
    pub fn new(zh: impl Into<Cow<'static, str>>, en: impl Into<Cow<'static, str>>) -> Say {
        Say { zh: zh.into(), en: en.into() }
    }

    pub fn get(&self, lang: Lang) -> &str {
        match lang {
            Lang::Zh => &self.zh,
            Lang::En => &self.en,
        }
    }
}

impl From<Text> for Say {
    fn from(t: Text) -> Say {
        Say::new(t.zh, t.en)
    }
}

impl Serialize for Say {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.get(current()))
    }
}

/// Shorthand for a static sentence pair.
pub const fn say(zh: &'static str, en: &'static str) -> Say {
    Say { zh: Cow::Borrowed(zh), en: Cow::Borrowed(en) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_sentence_speaks_the_scope_language() {
        let s = say("解冻账户", "Unfreeze the account");
        assert_eq!(serde_json::to_value(&s).unwrap(), "解冻账户");
        let en = scope(Lang::En, async { serde_json::to_value(&s).unwrap() }).await;
        assert_eq!(en, "Unfreeze the account");
    }
}
