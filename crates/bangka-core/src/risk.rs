//! The risk engine's rules: velocity limits per account, card, device and
//! client IP (seed 000: "连续多次失败可能触发风控，暂停30分钟后再试").
//!
//! A rule counts one [`Signal`] for one [`Subject`] over a window and, at
//! its threshold, takes its [`Action`]. Rules come from a JSON file
//! (`bangka serve --risk-rules FILE`, format in `docs/risk-rules.md`);
//! [`RiskRules::default`] are the published defaults. A file cannot go
//! below PCI DSS 8.3.4: some account rule must lock after at most 10 failed
//! verifications, and every lock lasts at least 30 minutes.
//!
//! This module is pure: the server counts, this decides.

use serde::Deserialize;
use time::{Duration, OffsetDateTime};

use crate::catalog::ErrorCode;
use crate::clock::parse_duration;

/// What a rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Signal {
    /// Failed verifications: the bank refusing the four elements, CVV or
    /// expiry, an unknown card, a wrong SMS code or payment password.
    FailedVerification,
    /// Wrong SMS codes only (brute force on codes, across challenges).
    FailedOtp,
    /// Wrong payment passwords only (a six-digit secret: guesses are capped
    /// per day, per account, card and device).
    FailedPaymentPassword,
    /// Distinct cards tried in bind attempts.
    DistinctCards,
    /// Distinct accounts a card was tried on.
    DistinctAccounts,
}

impl Signal {
    /// Whether a failure with `code` counts toward this signal.
    pub fn counts_failure(self, code: ErrorCode) -> bool {
        match self {
            Signal::FailedVerification => VERIFICATION_FAILURES.contains(&code),
            Signal::FailedOtp => code == ErrorCode::OtpIncorrect,
            Signal::FailedPaymentPassword => code == ErrorCode::PaymentPasswordIncorrect,
            Signal::DistinctCards | Signal::DistinctAccounts => false,
        }
    }

    /// Counted after each failure (locks) rather than before each bind.
    pub fn is_failure_count(self) -> bool {
        matches!(self, Signal::FailedVerification | Signal::FailedOtp | Signal::FailedPaymentPassword)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Signal::FailedVerification => "failed_verification",
            Signal::FailedOtp => "failed_otp",
            Signal::FailedPaymentPassword => "failed_payment_password",
            Signal::DistinctCards => "distinct_cards",
            Signal::DistinctAccounts => "distinct_accounts",
        }
    }
}

/// Failures that count as someone guessing holder data or codes.
pub const VERIFICATION_FAILURES: &[ErrorCode] = &[
    ErrorCode::FourElementsNameMismatch,
    ErrorCode::FourElementsIdMismatch,
    ErrorCode::FourElementsPhoneMismatch,
    ErrorCode::CvvMismatch,
    ErrorCode::ExpiryMismatch,
    ErrorCode::CardNotFoundAtIssuer,
    ErrorCode::OtpIncorrect,
    ErrorCode::PaymentPasswordIncorrect,
];

/// Whom a rule counts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Account,
    /// A card, by its keyed fingerprint (never the number).
    Card,
    /// The device of a holder session.
    Device,
    /// The client IP of a holder session.
    Ip,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Account => "account",
            Subject::Card => "card",
            Subject::Device => "device",
            Subject::Ip => "ip",
        }
    }

    pub fn parse(s: &str) -> Option<Subject> {
        [Subject::Account, Subject::Card, Subject::Device, Subject::Ip].into_iter().find(|x| x.as_str() == s)
    }
}

/// What a rule does at its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Refuse the subject until the lock ends (or support lifts it).
    Lock { lock_for: Duration },
    /// Allow only with a stronger proof (the payment password).
    StepUp,
    /// Refuse until a risk reviewer approves.
    Review,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Lock { .. } => "lock",
            Action::StepUp => "step_up",
            Action::Review => "review",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: String,
    pub signal: Signal,
    pub per: Subject,
    pub window: Duration,
    pub threshold: u32,
    pub action: Action,
}

/// A rule's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Allow,
    StepUp,
    LockUntil(OffsetDateTime),
    Review,
}

impl Rule {
    /// The verdict for `count` (including the event being judged).
    pub fn decide(&self, count: u32, now: OffsetDateTime) -> Outcome {
        if count < self.threshold {
            return Outcome::Allow;
        }
        match self.action {
            Action::Lock { lock_for } => Outcome::LockUntil(now + lock_for),
            Action::StepUp => Outcome::StepUp,
            Action::Review => Outcome::Review,
        }
    }
}

/// The shortest lock a rule may set (PCI DSS 8.3.4).
pub const MIN_LOCK: Duration = Duration::minutes(30);
/// The most failed verifications an account may have before a lock (PCI DSS 8.3.4).
pub const MAX_ACCOUNT_FAILURES: u32 = 10;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskRules {
    pub rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRules {
    rules: Vec<FileRule>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    name: String,
    signal: Signal,
    per: Subject,
    window: String,
    threshold: u32,
    action: String,
    lock_for: Option<String>,
}

impl Default for RiskRules {
    /// The published defaults (README "Risk rules").
    fn default() -> Self {
        RiskRules::from_json(DEFAULT_RULES).expect("the default rules are valid")
    }
}

/// The default rules, as a rules file would state them.
pub const DEFAULT_RULES: &str = r#"{ "rules": [
  { "name": "account_failed_verifications", "signal": "failed_verification", "per": "account", "window": "1h", "threshold": 10, "action": "lock", "lock_for": "30m" },
  { "name": "account_failed_otps_daily", "signal": "failed_otp", "per": "account", "window": "24h", "threshold": 20, "action": "lock", "lock_for": "24h" },
  { "name": "account_failed_passwords_daily", "signal": "failed_payment_password", "per": "account", "window": "24h", "threshold": 15, "action": "lock", "lock_for": "24h" },
  { "name": "card_failed_passwords_daily", "signal": "failed_payment_password", "per": "card", "window": "24h", "threshold": 15, "action": "lock", "lock_for": "24h" },
  { "name": "device_failed_passwords_daily", "signal": "failed_payment_password", "per": "device", "window": "24h", "threshold": 15, "action": "lock", "lock_for": "24h" },
  { "name": "card_failed_verifications", "signal": "failed_verification", "per": "card", "window": "24h", "threshold": 10, "action": "lock", "lock_for": "24h" },
  { "name": "device_failed_verifications", "signal": "failed_verification", "per": "device", "window": "1h", "threshold": 20, "action": "lock", "lock_for": "1h" },
  { "name": "ip_failed_verifications", "signal": "failed_verification", "per": "ip", "window": "1h", "threshold": 50, "action": "lock", "lock_for": "1h" },
  { "name": "account_distinct_cards", "signal": "distinct_cards", "per": "account", "window": "24h", "threshold": 6, "action": "step_up" },
  { "name": "card_distinct_accounts", "signal": "distinct_accounts", "per": "card", "window": "24h", "threshold": 5, "action": "review" }
] }"#;

impl RiskRules {
    /// Parses and checks a rules file; the error names the rule and the problem.
    pub fn from_json(text: &str) -> Result<RiskRules, String> {
        let file: FileRules = serde_json::from_str(text).map_err(|e| format!("risk rules: {e}"))?;
        let mut rules = Vec::new();
        for r in file.rules {
            let name = r.name.trim().to_owned();
            let bad = |why: &str| format!("risk rule {name:?}: {why}");
            if name.is_empty() || name.len() > 64 || rules.iter().any(|x: &Rule| x.name == name) {
                return Err(bad("needs a unique name of 1 to 64 characters"));
            }
            let window = parse_duration(&r.window).map_err(|e| bad(&e))?;
            if r.threshold == 0 {
                return Err(bad("threshold must be at least 1"));
            }
            let action = match (r.action.as_str(), r.lock_for.as_deref()) {
                ("lock", Some(d)) => {
                    let lock_for = parse_duration(d).map_err(|e| bad(&e))?;
                    if lock_for < MIN_LOCK {
                        return Err(bad("a lock lasts at least 30m (PCI DSS 8.3.4)"));
                    }
                    Action::Lock { lock_for }
                }
                ("lock", None) => return Err(bad("a lock needs lock_for")),
                ("step_up", None) => Action::StepUp,
                ("review", None) => Action::Review,
                ("step_up" | "review", Some(_)) => return Err(bad("only a lock takes lock_for")),
                _ => return Err(bad("action must be lock, step_up or review")),
            };
            match (r.signal, r.per, action) {
                (s, _, Action::Lock { .. }) if s.is_failure_count() => {}
                (s, _, _) if s.is_failure_count() => return Err(bad("failure counts can only lock")),
                (Signal::DistinctCards, Subject::Card, _) | (Signal::DistinctAccounts, Subject::Account, _) => {
                    return Err(bad("counts itself: distinct_cards per card, or distinct_accounts per account"));
                }
                _ => {}
            }
            rules.push(Rule { name, signal: r.signal, per: r.per, window, threshold: r.threshold, action });
        }
        // A window shorter than the lock would let failures spread thin
        // enough never to lock at all.
        let pci = rules.iter().any(|r| {
            r.signal == Signal::FailedVerification
                && r.per == Subject::Account
                && r.threshold <= MAX_ACCOUNT_FAILURES
                && r.window >= MIN_LOCK
                && matches!(r.action, Action::Lock { .. })
        });
        if !pci {
            return Err(
                "risk rules: one rule must lock an account after at most 10 failed verifications within at least 30m (PCI DSS 8.3.4)"
                    .into(),
            );
        }
        Ok(RiskRules { rules })
    }

    /// Rules counted after a failure with `code`.
    pub fn after_failure(&self, code: ErrorCode) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(move |r| r.signal.counts_failure(code))
    }

    /// Rules judged before a bind goes to the bank.
    pub fn before_bind(&self) -> impl Iterator<Item = &Rule> {
        self.rules.iter().filter(|r| !r.signal.is_failure_count())
    }

    /// The longest window any account failure rule looks back (how far
    /// "recent failures" reach, e.g. for unbind's stronger verification).
    pub fn account_failure_window(&self) -> Duration {
        self.rules
            .iter()
            .filter(|r| r.per == Subject::Account && r.signal == Signal::FailedVerification)
            .map(|r| r.window)
            .max()
            .unwrap_or(Duration::hours(1))
    }
}

/// `RISK_LOCKED` for the holder: when it ends and how to lift it sooner.
/// Which rule fired is for ops only (fraud-sensitive, see
/// `docs/safe-messages.md`); the holder gets the scope and the way out.
pub fn locked(account_id: &str, scope: Subject, until: time::OffsetDateTime) -> crate::Failure {
    use crate::clock::rfc3339;
    crate::Failure::new(crate::ErrorCode::RiskLocked).retry_at(until).with_details(serde_json::json!({
        "scope": scope.as_str(),
        "locked_until": rfc3339(until),
        "unlock": {
            "wait_until": rfc3339(until),
            "or_contact_support": { "method": "POST", "path": format!("/v1/accounts/{account_id}/tickets") },
            "or_request_review": { "method": "POST", "path": format!("/v1/accounts/{account_id}/reviews"), "kind": "risk_lock", "materials": ["id_front", "id_back"] },
        },
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(name: &str, rules: &RiskRules) -> Rule {
        rules.rules.iter().find(|r| r.name == name).unwrap().clone()
    }

    #[test]
    fn defaults_lock_an_account_at_ten_failures_for_thirty_minutes() {
        let r = RiskRules::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        let acc = rule("account_failed_verifications", &r);
        assert_eq!(acc.decide(9, now), Outcome::Allow);
        assert_eq!(acc.decide(10, now), Outcome::LockUntil(now + Duration::minutes(30)));
        assert_eq!(rule("account_distinct_cards", &r).decide(5, now), Outcome::Allow);
        assert_eq!(rule("account_distinct_cards", &r).decide(6, now), Outcome::StepUp);
        assert_eq!(rule("card_distinct_accounts", &r).decide(5, now), Outcome::Review);
    }

    #[test]
    fn failures_feed_only_their_rules() {
        let r = RiskRules::default();
        let names = |c| r.after_failure(c).map(|x| x.name.as_str()).collect::<Vec<_>>();
        assert!(names(ErrorCode::OtpIncorrect).contains(&"account_failed_otps_daily"));
        assert!(names(ErrorCode::FourElementsPhoneMismatch).contains(&"card_failed_verifications"));
        assert!(!names(ErrorCode::FourElementsPhoneMismatch).contains(&"account_failed_otps_daily"));
        assert!(names(ErrorCode::InsufficientFunds).is_empty(), "not a verification failure");
        assert_eq!(r.before_bind().count(), 2);
    }

    #[test]
    fn a_rules_file_cannot_go_below_pci() {
        let lock = |threshold: u32, lock_for: &str| {
            format!(
                r#"{{"rules":[{{"name":"a","signal":"failed_verification","per":"account","window":"1h","threshold":{threshold},"action":"lock","lock_for":"{lock_for}"}}]}}"#
            )
        };
        assert!(RiskRules::from_json(&lock(5, "45m")).is_ok());
        assert!(RiskRules::from_json(&lock(11, "30m")).unwrap_err().contains("PCI"));
        assert!(RiskRules::from_json(&lock(10, "10m")).unwrap_err().contains("30m"));
        let short_window = lock(10, "30m").replace(r#""window":"1h""#, r#""window":"1s""#);
        assert!(RiskRules::from_json(&short_window).unwrap_err().contains("PCI"), "failures spread over a 1s window never lock");
        assert!(RiskRules::from_json(r#"{"rules":[]}"#).unwrap_err().contains("PCI"));
    }

    #[test]
    fn a_rules_file_is_checked_rule_by_rule() {
        let base =
            r#"{"name":"a","signal":"failed_verification","per":"account","window":"1h","threshold":10,"action":"lock","lock_for":"30m"}"#;
        let with = |extra: &str| format!(r#"{{"rules":[{base},{extra}]}}"#);
        for (extra, problem) in [
            (r#"{"name":"a","signal":"failed_otp","per":"account","window":"1h","threshold":3,"action":"lock","lock_for":"1h"}"#, "unique"),
            (r#"{"name":"b","signal":"failed_otp","per":"account","window":"1h","threshold":3,"action":"step_up"}"#, "only lock"),
            (r#"{"name":"b","signal":"distinct_cards","per":"card","window":"1h","threshold":3,"action":"review"}"#, "counts itself"),
            (r#"{"name":"b","signal":"distinct_cards","per":"account","window":"1h","threshold":0,"action":"review"}"#, "at least 1"),
            (r#"{"name":"b","signal":"distinct_cards","per":"account","window":"forever","threshold":3,"action":"review"}"#, "unit"),
            (r#"{"name":"b","signal":"distinct_cards","per":"account","window":"1h","threshold":3,"action":"ban"}"#, "action must"),
            (r#"{"name":"b","signal":"distinct_cards","per":"account","window":"1h","threshold":3,"action":"lock"}"#, "lock_for"),
            (r#"{"name":"b","signal":"shoe_size","per":"account","window":"1h","threshold":3,"action":"review"}"#, "unknown variant"),
        ] {
            let err = RiskRules::from_json(&with(extra)).unwrap_err();
            assert!(err.contains(problem), "{extra}: {err}");
        }
    }
}
