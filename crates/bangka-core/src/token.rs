//! The token lifecycle (SPEC "Token"; issue 4 builds payments on it).
//!
//! A token stands in for the card number. It is `active`, `suspended` or
//! `deleted` (final). Who suspended it matters: a suspension by the issuer or
//! by risk control can only be lifted by them, never by the holder or the
//! wallet — otherwise a fraudster holding the wallet could undo it.

use serde::{Deserialize, Serialize};

use crate::bin::TOKEN_BIN;
use crate::card::luhn_valid;
use crate::{ErrorCode, Failure};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Suspended,
    Deleted,
}

impl TokenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Suspended => "suspended",
            TokenStatus::Deleted => "deleted",
        }
    }

    pub const ALL: [TokenStatus; 3] = [TokenStatus::Active, TokenStatus::Suspended, TokenStatus::Deleted];

    pub fn parse(s: &str) -> Option<TokenStatus> {
        TokenStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }
}

/// Who changes a token's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Holder,
    Wallet,
    Issuer,
    Risk,
    System,
}

impl Actor {
    pub const ALL: [Actor; 5] = [Actor::Holder, Actor::Wallet, Actor::Issuer, Actor::Risk, Actor::System];

    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Holder => "holder",
            Actor::Wallet => "wallet",
            Actor::Issuer => "issuer",
            Actor::Risk => "risk",
            Actor::System => "system",
        }
    }

    pub fn parse(s: &str) -> Option<Actor> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// Why a token's state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    HolderRequest,
    Lost,
    Stolen,
    Fraud,
    CardReissued,
    Unbinding,
    Unbound,
}

impl Reason {
    pub const ALL: [Reason; 7] =
        [Reason::HolderRequest, Reason::Lost, Reason::Stolen, Reason::Fraud, Reason::CardReissued, Reason::Unbinding, Reason::Unbound];

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::HolderRequest => "holder_request",
            Reason::Lost => "lost",
            Reason::Stolen => "stolen",
            Reason::Fraud => "fraud",
            Reason::CardReissued => "card_reissued",
            Reason::Unbinding => "unbinding",
            Reason::Unbound => "unbound",
        }
    }

    pub fn parse(s: &str) -> Option<Reason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Reasons that would tip off someone holding a stolen card or wallet;
    /// a refused payment names who suspended the token, never these.
    pub fn is_fraud_sensitive(self) -> bool {
        matches!(self, Reason::Lost | Reason::Stolen | Reason::Fraud)
    }
}

/// A token's state with the authority behind a suspension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenState {
    pub status: TokenStatus,
    pub suspended_by: Option<Actor>,
    pub reason: Option<Reason>,
}

/// A transition the lifecycle refuses, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Deleted is final.
    Deleted,
    /// Only an active token can be suspended.
    NotActive,
    /// Only a suspended token can be resumed.
    NotSuspended,
    /// The suspension was made by an authority this actor does not have.
    SuspendedBy(Actor),
}

impl Refusal {
    /// The catalog failure for a refused transition of a token in `current`.
    pub fn failure(self, current: TokenState) -> Failure {
        match self {
            Refusal::Deleted => ErrorCode::TokenDeleted.into(),
            Refusal::NotActive | Refusal::NotSuspended => {
                Failure::new(ErrorCode::TokenStateConflict).with_details(serde_json::json!({ "status": current.status.as_str() }))
            }
            Refusal::SuspendedBy(a) => {
                Failure::new(ErrorCode::TokenResumeNotAllowed).with_details(serde_json::json!({ "suspended_by": a.as_str() }))
            }
        }
    }
}

impl TokenState {
    /// Why this token cannot pay, for the payer: who suspended it (and the
    /// reason only when it is not fraud-sensitive), or that it is deleted.
    pub fn payment_refusal(self) -> Option<Failure> {
        match self.status {
            TokenStatus::Active => None,
            TokenStatus::Deleted => Some(ErrorCode::TokenDeleted.into()),
            TokenStatus::Suspended => {
                let mut d = serde_json::json!({ "suspended_by": self.suspended_by.map(Actor::as_str) });
                if let Some(r) = self.reason.filter(|r| !r.is_fraud_sensitive()) {
                    d["reason"] = r.as_str().into();
                }
                Some(Failure::new(ErrorCode::TokenSuspended).with_details(d))
            }
        }
    }
}

impl Actor {
    /// Whether a suspension made by `by` may be lifted by `self`.
    fn may_lift(self, by: Actor) -> bool {
        match by {
            Actor::Issuer => self == Actor::Issuer,
            Actor::Risk => matches!(self, Actor::Risk | Actor::Issuer),
            Actor::Holder | Actor::Wallet | Actor::System => true,
        }
    }
}

impl TokenState {
    pub const ACTIVE: TokenState = TokenState { status: TokenStatus::Active, suspended_by: None, reason: None };

    pub fn suspend(self, by: Actor, reason: Reason) -> Result<TokenState, Refusal> {
        match self.status {
            TokenStatus::Active => Ok(TokenState { status: TokenStatus::Suspended, suspended_by: Some(by), reason: Some(reason) }),
            TokenStatus::Suspended => Err(Refusal::NotActive),
            TokenStatus::Deleted => Err(Refusal::Deleted),
        }
    }

    pub fn resume(self, by: Actor) -> Result<TokenState, Refusal> {
        match (self.status, self.suspended_by) {
            (TokenStatus::Deleted, _) => Err(Refusal::Deleted),
            (TokenStatus::Active, _) => Err(Refusal::NotSuspended),
            (TokenStatus::Suspended, Some(s)) if !by.may_lift(s) => Err(Refusal::SuspendedBy(s)),
            (TokenStatus::Suspended, _) => Ok(TokenState::ACTIVE),
        }
    }

    /// Deleting is always possible (unbinding, card closed) and final.
    pub fn delete(self, reason: Reason) -> Result<TokenState, Refusal> {
        match self.status {
            TokenStatus::Deleted => Err(Refusal::Deleted),
            _ => Ok(TokenState { status: TokenStatus::Deleted, suspended_by: self.suspended_by, reason: Some(reason) }),
        }
    }

    pub fn can_pay(self) -> bool {
        self.status == TokenStatus::Active
    }
}

/// A token number as presented by a merchant: 16 digits, Luhn-valid, from
/// the token BIN. A real card number never parses as one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenNumber(String);

impl TokenNumber {
    pub fn parse(s: &str) -> Result<TokenNumber, Failure> {
        let ok = s.len() == 16 && s.bytes().all(|b| b.is_ascii_digit()) && s.starts_with(TOKEN_BIN) && luhn_valid(s);
        if ok { Ok(TokenNumber(s.to_owned())) } else { Err(ErrorCode::TokenNumberFormat.into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A one-time payment cryptogram: 16 hex digits (stored lower-case).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CryptogramValue(String);

impl CryptogramValue {
    pub fn parse(s: &str) -> Result<CryptogramValue, Failure> {
        if s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
            Ok(CryptogramValue(s.to_ascii_lowercase()))
        } else {
            Err(ErrorCode::CryptogramFormat.into())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for a in Actor::ALL {
            assert_eq!(Actor::parse(a.as_str()), Some(a));
        }
        for r in Reason::ALL {
            assert_eq!(Reason::parse(r.as_str()), Some(r));
        }
        for t in [TokenStatus::Active, TokenStatus::Suspended, TokenStatus::Deleted] {
            assert_eq!(TokenStatus::parse(t.as_str()), Some(t));
        }
    }

    #[test]
    fn token_numbers_and_cryptograms_parse() {
        let payload = format!("{TOKEN_BIN}123456789");
        let number = format!("{payload}{}", crate::card::luhn_check_digit(&payload));
        assert!(TokenNumber::parse(&number).is_ok());
        let mut wrong_check = number.clone().into_bytes();
        wrong_check[15] = if wrong_check[15] == b'9' { b'0' } else { wrong_check[15] + 1 };
        for bad in
            [String::from_utf8(wrong_check).unwrap(), "6222021234567890".into(), "99000112345678".into(), "abc".into(), String::new()]
        {
            assert_eq!(TokenNumber::parse(&bad).unwrap_err().code, ErrorCode::TokenNumberFormat, "{bad}");
        }
        assert_eq!(CryptogramValue::parse("0123456789ABCDEF").unwrap().as_str(), "0123456789abcdef");
        for bad in ["0123456789abcde", "0123456789abcdefa", "0123456789abcdeg", ""] {
            assert_eq!(CryptogramValue::parse(bad).unwrap_err().code, ErrorCode::CryptogramFormat, "{bad}");
        }
    }

    #[test]
    fn suspend_resume_delete() {
        let s = TokenState::ACTIVE.suspend(Actor::Holder, Reason::HolderRequest).unwrap();
        assert!(!s.can_pay());
        assert_eq!(s.suspend(Actor::Holder, Reason::Lost), Err(Refusal::NotActive));
        assert_eq!(s.resume(Actor::Holder), Ok(TokenState::ACTIVE));
        assert_eq!(TokenState::ACTIVE.resume(Actor::Holder), Err(Refusal::NotSuspended));
        let d = s.delete(Reason::Unbound).unwrap();
        assert_eq!(d.status, TokenStatus::Deleted);
        assert_eq!(d.resume(Actor::Issuer), Err(Refusal::Deleted));
        assert_eq!(d.suspend(Actor::Issuer, Reason::Fraud), Err(Refusal::Deleted));
        assert_eq!(d.delete(Reason::Unbound), Err(Refusal::Deleted));
    }

    #[test]
    fn refused_payments_name_who_but_not_fraud_reasons() {
        assert!(TokenState::ACTIVE.payment_refusal().is_none());
        let f = TokenState::ACTIVE.suspend(Actor::Issuer, Reason::Stolen).unwrap().payment_refusal().unwrap();
        assert_eq!(f.code, ErrorCode::TokenSuspended);
        assert_eq!(f.details.unwrap(), serde_json::json!({ "suspended_by": "issuer" }));
        let f = TokenState::ACTIVE.suspend(Actor::Holder, Reason::HolderRequest).unwrap().payment_refusal().unwrap();
        assert_eq!(f.details.unwrap(), serde_json::json!({ "suspended_by": "holder", "reason": "holder_request" }));
        let d = TokenState::ACTIVE.delete(Reason::Unbound).unwrap();
        assert_eq!(d.payment_refusal().unwrap().code, ErrorCode::TokenDeleted);
    }

    #[test]
    fn issuer_and_risk_suspensions_are_theirs_to_lift() {
        let by_issuer = TokenState::ACTIVE.suspend(Actor::Issuer, Reason::Stolen).unwrap();
        for who in [Actor::Holder, Actor::Wallet, Actor::Risk, Actor::System] {
            assert_eq!(by_issuer.resume(who), Err(Refusal::SuspendedBy(Actor::Issuer)), "{who:?}");
        }
        assert!(by_issuer.resume(Actor::Issuer).is_ok());
        let by_risk = TokenState::ACTIVE.suspend(Actor::Risk, Reason::Fraud).unwrap();
        assert_eq!(by_risk.resume(Actor::Holder), Err(Refusal::SuspendedBy(Actor::Risk)));
        assert_eq!(by_risk.resume(Actor::Wallet), Err(Refusal::SuspendedBy(Actor::Risk)));
        assert!(by_risk.resume(Actor::Risk).is_ok());
        assert!(by_risk.resume(Actor::Issuer).is_ok());
    }
}
