//! The error catalog: the one source of truth for every failure Bangka can
//! report (SPEC "Errors that explain themselves").
//!
//! Each [`ErrorCode`] has exactly one [`Entry`] in [`entries`]: category, HTTP
//! status, who can fix it, whether a ticket is advised, a message for the
//! holder in zh-CN and en, the cause (for the help page), ordered remediation
//! steps and what to prepare for support. The HTTP layer renders entries, the
//! help pages and `docs/errors.md` are generated from them, and tests check
//! that every code has both languages and at least one step.

mod code;
mod entries;
mod steps;

pub use code::{Category, Entry, ErrorCode, FixBy, Lang, RetryHint, Text};
pub use steps::{Operation, Party, Step, operations};

use serde::Serialize;

impl ErrorCode {
    /// What a caller who has not shown the card is theirs (a bind or an
    /// activation) is told instead of a fraud-sensitive cause: telling
    /// whoever holds a stolen card that it was reported stolen only helps
    /// them. The attempt keeps the precise code for support
    /// (docs/safe-messages.md lists every such code and who sees what).
    pub fn for_new_card(self) -> ErrorCode {
        match self {
            ErrorCode::CardReportedLost => ErrorCode::CardUnavailable,
            other => other,
        }
    }

    /// What the holder may be told about a card: the precise code only if
    /// they reported it lost or stolen themselves (they know already);
    /// otherwise — the bank marked it, or the card is not theirs yet — the
    /// safe form ([`ErrorCode::for_new_card`], `docs/safe-messages.md`).
    pub fn for_holder(self, holder_reported_lost: bool) -> ErrorCode {
        if holder_reported_lost { self } else { self.for_new_card() }
    }

    /// This code's catalog entry.
    pub fn entry(self) -> &'static Entry {
        // The completeness test guarantees exactly one entry per code.
        entries::ENTRIES.iter().find(|e| e.code == self).expect("every error code has a catalog entry")
    }
}

impl Serialize for ErrorCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// All entries, in code order.
pub fn entries() -> impl Iterator<Item = &'static Entry> {
    ErrorCode::ALL.iter().map(|c| c.entry())
}

/// What every holder should have at hand when contacting support (seed 000
/// "联系客服前要准备的材料"); the diagnosis and tickets fill these in.
pub const PREPARE_FOR_SUPPORT: &[Text] = &[
    Text {
        zh: "错误码和请求编号（钱包的错误提示中会显示）",
        en: "The error code and the request id (the wallet shows them with the error)",
    },
    Text { zh: "操作时间", en: "The time of the operation" },
    Text {
        zh: "卡片后四位与发卡行（切勿提供完整卡号、密码或验证码）",
        en: "The card's last four digits and issuing bank (never the full number, a password or a code)",
    },
    Text { zh: "绑卡时使用的手机号（可脱敏）", en: "The phone number used for binding (masked is fine)" },
    Text { zh: "相关短信或交易记录", en: "Related SMS messages or transactions" },
];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn every_code_has_exactly_one_entry() {
        for code in ErrorCode::ALL {
            let n = entries::ENTRIES.iter().filter(|e| e.code == *code).count();
            assert_eq!(n, 1, "{} has {n} entries", code.as_str());
        }
        assert_eq!(entries::ENTRIES.len(), ErrorCode::ALL.len());
    }

    #[test]
    fn every_entry_speaks_both_languages_and_offers_a_step() {
        for e in entries() {
            let c = e.code.as_str();
            for t in [e.message, e.cause].iter().chain(e.remediation) {
                assert!(!t.zh.trim().is_empty() && !t.en.trim().is_empty(), "{c}: empty text");
                assert!(t.zh.chars().any(|ch| ('\u{4e00}'..='\u{9fff}').contains(&ch)), "{c}: zh text has no Chinese: {}", t.zh);
                assert!(t.en.is_ascii(), "{c}: en text is not ASCII: {}", t.en);
            }
            assert!(!e.remediation.is_empty(), "{c}: no remediation step");
            assert!((400..600).contains(&e.http_status), "{c}: status {}", e.http_status);
        }
    }

    #[test]
    fn codes_are_unique_and_screaming_snake() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "duplicate code {s}");
            assert!(s.chars().all(|ch| ch.is_ascii_uppercase() || ch == '_'), "{s}");
            assert_eq!(ErrorCode::parse(s), Some(*c));
        }
    }

    #[test]
    fn waiting_codes_say_so() {
        for code in [
            ErrorCode::IssuerMaintenance,
            ErrorCode::PlatformMaintenance,
            ErrorCode::OtpResendCooldown,
            ErrorCode::RiskLocked,
            ErrorCode::IdempotencyInProgress,
            ErrorCode::IssuerUnavailable,
        ] {
            assert_eq!(code.entry().retry, RetryHint::At, "{}", code.as_str());
        }
    }

    #[test]
    fn accept_language_picks_supported_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("fr, en;q=0.5, zh-CN;q=0.8")), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
    }
}
