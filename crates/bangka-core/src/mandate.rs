//! Autopay agreements (SPEC "Mandate"; 自动扣款协议 / 免密支付).
//!
//! `pending → active → (suspended ⇄ active) → revoked | expired`, plus
//! `failed` for a setup the bank refused: an agreement is never shown as
//! `active` unless its setup went through.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MandateKind {
    /// Recurring charges (a membership, a phone plan).
    Subscription,
    /// A purchase paid in instalments.
    Installment,
    /// Small payments without a password each time (免密支付).
    PasswordFree,
}

impl MandateKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MandateKind::Subscription => "subscription",
            MandateKind::Installment => "installment",
            MandateKind::PasswordFree => "password_free",
        }
    }

    pub fn parse(s: &str) -> Option<MandateKind> {
        [MandateKind::Subscription, MandateKind::Installment, MandateKind::PasswordFree].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MandateStatus {
    /// Set up, the bank's check not answered yet.
    Pending,
    Active,
    Suspended,
    /// Cancelled by the holder (or with an unbind).
    Revoked,
    Expired,
    /// The setup failed at the bank: never active.
    Failed,
}

impl MandateStatus {
    pub const ALL: [MandateStatus; 6] = [
        MandateStatus::Pending,
        MandateStatus::Active,
        MandateStatus::Suspended,
        MandateStatus::Revoked,
        MandateStatus::Expired,
        MandateStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MandateStatus::Pending => "pending",
            MandateStatus::Active => "active",
            MandateStatus::Suspended => "suspended",
            MandateStatus::Revoked => "revoked",
            MandateStatus::Expired => "expired",
            MandateStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<MandateStatus> {
        Self::ALL.into_iter().find(|m| m.as_str() == s)
    }

    /// Still able to charge, now or after a resume: what blocks an unbind.
    pub fn is_standing(self) -> bool {
        matches!(self, MandateStatus::Pending | MandateStatus::Active | MandateStatus::Suspended)
    }

    pub fn can_become(self, next: MandateStatus) -> bool {
        use MandateStatus::*;
        matches!(
            (self, next),
            (Pending, Active)
                | (Pending, Failed)
                | (Active, Suspended)
                | (Suspended, Active)
                | (Pending | Active | Suspended, Revoked)
                | (Active | Suspended, Expired)
        )
    }
}

/// The SQL list of standing statuses (kept next to `is_standing`).
pub const STANDING_STATUSES_SQL: &str = "('pending','active','suspended')";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_transitions() {
        for s in MandateStatus::ALL {
            assert_eq!(MandateStatus::parse(s.as_str()), Some(s));
            assert_eq!(s.is_standing(), STANDING_STATUSES_SQL.contains(&format!("'{}'", s.as_str())));
        }
        for k in [MandateKind::Subscription, MandateKind::Installment, MandateKind::PasswordFree] {
            assert_eq!(MandateKind::parse(k.as_str()), Some(k));
        }
        use MandateStatus::*;
        assert!(Pending.can_become(Active) && Pending.can_become(Failed));
        assert!(!Failed.can_become(Active), "a failed setup never becomes active");
        assert!(!Revoked.can_become(Active) && Active.can_become(Revoked));
    }
}
