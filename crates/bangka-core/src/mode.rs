//! Test and live, walled off (issue 24; Stripe's `sk_test_`/`sk_live_`).
//!
//! Every API key belongs to a mode, and so does every account: the mode of
//! the key that opened it, written into the account's id (`acc_test_…` for
//! test, `acc_…` for live), so a request is partitioned without a lookup.
//! Everything else (cards, tokens, payments, agreements, tickets, reviews)
//! belongs to its account's mode. A key of one mode finds nothing of the
//! other: every such id answers `NOT_FOUND`, as another holder's does.

/// Test data never reaches a bank; live data never meets a demo key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Test,
    Live,
}

/// The prefix of a test account's id (a live account's is `acc_`).
const TEST_ACCOUNT_PREFIX: &str = "acc_test_";

impl Mode {
    pub const ALL: [Mode; 2] = [Mode::Test, Mode::Live];

    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Test => "test",
            Mode::Live => "live",
        }
    }

    pub fn parse(s: &str) -> Option<Mode> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// The prefix of the ids of accounts opened in this mode (for `new_id`).
    pub fn account_id_prefix(self) -> &'static str {
        match self {
            Mode::Test => "acc_test",
            Mode::Live => "acc",
        }
    }

    /// The mode of an account, read from its id.
    pub fn of_account(account_id: &str) -> Mode {
        if account_id.starts_with(TEST_ACCOUNT_PREFIX) { Mode::Test } else { Mode::Live }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_id_says_its_mode() {
        for m in Mode::ALL {
            assert_eq!(Mode::parse(m.as_str()), Some(m));
            let id = format!("{}_abcdefghij234567abcd", m.account_id_prefix());
            assert_eq!(Mode::of_account(&id), m, "{id}");
        }
        // A live id whose random part happens to start with "test" stays live:
        // the random part follows the one underscore of the prefix.
        assert_eq!(Mode::of_account("acc_testabcdefghij2345"), Mode::Live);
    }
}
