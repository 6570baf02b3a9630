//! The token lifecycle (SPEC "Token"; issue 4 builds payments on it).
//!
//! A token stands in for the card number. It is `active`, `suspended` or
//! `deleted` (final). Who suspended it matters: a suspension by the issuer or
//! by risk control can only be lifted by them, never by the holder or the
//! wallet — otherwise a fraudster holding the wallet could undo it.

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenStatus {
    Active,
    Suspended,
    Deleted,
}

/// Who changes a token's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    Holder,
    Wallet,
    Issuer,
    Risk,
    System,
}

/// Why a token's state changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
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

#[cfg(test)]
mod tests {
    use super::*;

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
