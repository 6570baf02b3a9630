//! One-time codes and the rules of an OTP challenge (SPEC "OTP challenge").
//!
//! The challenge logic is pure: it compares a keyed hash of the presented
//! code (computed at the edge, where the key lives) with the stored one and
//! says what happened; the store persists the outcome.

use std::fmt;

use subtle::ConstantTimeEq;
use time::{Duration, OffsetDateTime};

use crate::catalog::ErrorCode;
use crate::secret::Secret;

/// A six-digit one-time code.
#[derive(Clone, PartialEq, Eq)]
pub struct Otp(Secret<String>);

impl Otp {
    pub fn parse(input: &str) -> Result<Otp, ErrorCode> {
        let s = input.trim();
        if s.len() == 6 && s.bytes().all(|b| b.is_ascii_digit()) { Ok(Otp(Secret::new(s.to_owned()))) } else { Err(ErrorCode::OtpFormat) }
    }

    /// Wraps a freshly generated code.
    pub fn from_generated(code: u32) -> Otp {
        Otp(Secret::new(format!("{:06}", code % 1_000_000)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Otp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Otp(***)")
    }
}

/// How a one-time code reaches the phone: a text, or a call that reads it
/// out (语音验证码) when texts do not arrive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CodeChannel {
    #[default]
    Sms,
    Voice,
}

impl CodeChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            CodeChannel::Sms => "sms",
            CodeChannel::Voice => "voice",
        }
    }
}

/// What a challenge is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtpPurpose {
    Bind,
    Activate,
    /// Confirms one payment: the code is bound to its amount and merchant.
    Pay,
    /// Lifts a freeze (with the payment password, when one is set).
    Unfreeze,
    /// Confirms an unbind (and a delete with it).
    Unbind,
    /// Confirms deleting an unbound card (with the payment password).
    Delete,
    /// Resets a forgotten payment password (with the real-name details).
    ResetPassword,
    /// A phone change, sent to the account's current phone.
    PhoneChangeOld,
    /// A phone change, sent to the new phone (proves the holder has it).
    PhoneChangeNew,
    /// Verifies the account phone at sign-up.
    VerifyPhone,
}

impl OtpPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            OtpPurpose::Bind => "bind",
            OtpPurpose::Activate => "activate",
            OtpPurpose::Pay => "pay",
            OtpPurpose::Unfreeze => "unfreeze",
            OtpPurpose::Unbind => "unbind",
            OtpPurpose::Delete => "delete",
            OtpPurpose::ResetPassword => "reset_password",
            OtpPurpose::PhoneChangeOld => "phone_change_old",
            OtpPurpose::PhoneChangeNew => "phone_change_new",
            OtpPurpose::VerifyPhone => "verify_phone",
        }
    }

    pub fn parse(s: &str) -> Option<OtpPurpose> {
        [
            OtpPurpose::Bind,
            OtpPurpose::Activate,
            OtpPurpose::Pay,
            OtpPurpose::Unfreeze,
            OtpPurpose::Unbind,
            OtpPurpose::Delete,
            OtpPurpose::ResetPassword,
            OtpPurpose::PhoneChangeOld,
            OtpPurpose::PhoneChangeNew,
            OtpPurpose::VerifyPhone,
        ]
        .into_iter()
        .find(|p| p.as_str() == s)
    }
}

/// The published OTP rules.
#[derive(Debug, Clone, Copy)]
pub struct OtpRules {
    pub ttl: Duration,
    pub max_attempts: u32,
    pub resend_cooldown: Duration,
}

impl Default for OtpRules {
    fn default() -> Self {
        OtpRules { ttl: Duration::minutes(5), max_attempts: 5, resend_cooldown: Duration::seconds(60) }
    }
}

/// A challenge's persistent state.
#[derive(Debug, Clone)]
pub struct Challenge {
    pub id: String,
    pub purpose: OtpPurpose,
    pub code_mac: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub attempts: u32,
    pub last_sent_at: OffsetDateTime,
    pub passed: bool,
}

/// The result of presenting a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verification {
    Passed,
    /// Wrong code; `remaining` tries are left (the attempt counts).
    Incorrect {
        remaining: u32,
    },
    /// No tries were left before this one (this attempt does not count).
    Exhausted,
    Expired,
}

impl Challenge {
    pub fn verify(&self, presented_mac: &[u8], now: OffsetDateTime, rules: &OtpRules) -> Verification {
        if self.attempts >= rules.max_attempts {
            return Verification::Exhausted;
        }
        if now >= self.expires_at {
            return Verification::Expired;
        }
        if bool::from(self.code_mac.ct_eq(presented_mac)) {
            Verification::Passed
        } else {
            Verification::Incorrect { remaining: rules.max_attempts - self.attempts - 1 }
        }
    }

    pub fn resend_available_at(&self, rules: &OtpRules) -> OffsetDateTime {
        self.last_sent_at + rules.resend_cooldown
    }

    /// A resend is allowed after the cooldown; the error carries when.
    pub fn check_resend(&self, now: OffsetDateTime, rules: &OtpRules) -> Result<(), OffsetDateTime> {
        let at = self.resend_available_at(rules);
        if now < at { Err(at) } else { Ok(()) }
    }
}

impl Verification {
    pub fn into_result(self) -> Result<(), ErrorCode> {
        match self {
            Verification::Passed => Ok(()),
            Verification::Incorrect { .. } => Err(ErrorCode::OtpIncorrect),
            Verification::Exhausted => Err(ErrorCode::OtpAttemptsExhausted),
            Verification::Expired => Err(ErrorCode::OtpExpired),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn challenge(now: OffsetDateTime) -> Challenge {
        Challenge {
            id: "c".into(),
            purpose: OtpPurpose::Bind,
            code_mac: vec![1, 2, 3],
            expires_at: now + Duration::minutes(5),
            attempts: 0,
            last_sent_at: now,
            passed: false,
        }
    }

    #[test]
    fn otp_format() {
        assert!(Otp::parse("012345").is_ok());
        assert_eq!(Otp::parse("12345").unwrap_err(), ErrorCode::OtpFormat);
        assert_eq!(Otp::parse("12345a").unwrap_err(), ErrorCode::OtpFormat);
        assert_eq!(Otp::from_generated(42).expose(), "000042");
        assert_eq!(format!("{:?}", Otp::from_generated(42)), "Otp(***)");
    }

    #[test]
    fn verify_passes_counts_down_and_exhausts() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let rules = OtpRules::default();
        let mut c = challenge(now);
        assert_eq!(c.verify(&[1, 2, 3], now, &rules), Verification::Passed);
        assert_eq!(c.verify(&[9], now, &rules), Verification::Incorrect { remaining: 4 });
        c.attempts = 4;
        assert_eq!(c.verify(&[9], now, &rules), Verification::Incorrect { remaining: 0 });
        c.attempts = 5;
        assert_eq!(c.verify(&[1, 2, 3], now, &rules), Verification::Exhausted);
    }

    #[test]
    fn verify_expires_after_ttl() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let c = challenge(now);
        let rules = OtpRules::default();
        assert_eq!(c.verify(&[1, 2, 3], now + Duration::minutes(5), &rules), Verification::Expired);
        assert_eq!(c.verify(&[1, 2, 3], now + Duration::seconds(299), &rules), Verification::Passed);
    }

    #[test]
    fn resend_cooldown() {
        let now = OffsetDateTime::UNIX_EPOCH;
        let c = challenge(now);
        let rules = OtpRules::default();
        assert_eq!(c.check_resend(now + Duration::seconds(10), &rules), Err(now + Duration::seconds(60)));
        assert!(c.check_resend(now + Duration::seconds(60), &rules).is_ok());
    }
}
