//! The binding lifecycle (SPEC "Binding") as an explicit state machine.

use serde::Serialize;

/// `pending_verification → active → (frozen ⇄ active) → unbinding → unbound →
/// deleted`, plus `failed` for abandoned attempts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BindingStatus {
    PendingVerification,
    Active,
    Frozen,
    Unbinding,
    Unbound,
    Deleted,
    Failed,
}

impl BindingStatus {
    pub const ALL: [BindingStatus; 7] = [
        BindingStatus::PendingVerification,
        BindingStatus::Active,
        BindingStatus::Frozen,
        BindingStatus::Unbinding,
        BindingStatus::Unbound,
        BindingStatus::Deleted,
        BindingStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BindingStatus::PendingVerification => "pending_verification",
            BindingStatus::Active => "active",
            BindingStatus::Frozen => "frozen",
            BindingStatus::Unbinding => "unbinding",
            BindingStatus::Unbound => "unbound",
            BindingStatus::Deleted => "deleted",
            BindingStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<BindingStatus> {
        Self::ALL.into_iter().find(|b| b.as_str() == s)
    }

    /// A live binding holds the card: it counts against the limit and blocks
    /// a second binding of the same card in the account.
    pub fn is_live(self) -> bool {
        matches!(self, BindingStatus::Active | BindingStatus::Frozen | BindingStatus::Unbinding)
    }

    /// The transitions the lifecycle allows; anything else is refused.
    pub fn can_become(self, next: BindingStatus) -> bool {
        use BindingStatus::*;
        matches!(
            (self, next),
            (PendingVerification, Active)
                | (PendingVerification, Failed)
                | (Active, Frozen)
                | (Frozen, Active)
                | (Active, Unbinding)
                | (Unbinding, Active)
                | (Unbinding, Unbound)
                | (Unbound, Deleted)
        )
    }
}

/// Why a binding was frozen (SPEC "Freeze / report lost"). Freezing is a
/// safety action: immediate, no SMS code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FreezeReason {
    /// The holder wants the card paused.
    HolderRequest,
    /// The phone with the wallet on it is lost.
    PhoneLost,
    /// Payments the holder does not recognize.
    SuspiciousActivity,
    /// The card itself is lost: reported to the bank too.
    CardLost,
    /// The card was stolen: reported to the bank too.
    CardStolen,
}

impl FreezeReason {
    pub const ALL: [FreezeReason; 5] = [
        FreezeReason::HolderRequest,
        FreezeReason::PhoneLost,
        FreezeReason::SuspiciousActivity,
        FreezeReason::CardLost,
        FreezeReason::CardStolen,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            FreezeReason::HolderRequest => "holder_request",
            FreezeReason::PhoneLost => "phone_lost",
            FreezeReason::SuspiciousActivity => "suspicious_activity",
            FreezeReason::CardLost => "card_lost",
            FreezeReason::CardStolen => "card_stolen",
        }
    }

    pub fn parse(s: &str) -> Option<FreezeReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// A lost or stolen card is reported to the issuer, and such a card is
    /// never unfrozen in the wallet: the bank replaces it.
    pub fn reports_to_issuer(self) -> bool {
        matches!(self, FreezeReason::CardLost | FreezeReason::CardStolen)
    }

    /// The holder said the phone with the wallet on it is gone: whoever has
    /// it now receives the account's SMS codes, so no code sent to that phone
    /// may lift this freeze (issue 24). The phone must be proven again
    /// first (a reviewed phone change or an identity review).
    pub fn distrusts_phone(self) -> bool {
        matches!(self, FreezeReason::PhoneLost)
    }

    /// The reason recorded on the token suspended with the binding.
    pub fn token_reason(self) -> crate::token::Reason {
        use crate::token::Reason;
        match self {
            FreezeReason::HolderRequest => Reason::HolderRequest,
            FreezeReason::PhoneLost | FreezeReason::CardLost => Reason::Lost,
            FreezeReason::CardStolen => Reason::Stolen,
            FreezeReason::SuspiciousActivity => Reason::Fraud,
        }
    }
}

/// The SQL list of live statuses, for the store's partial unique index and
/// counts (kept next to [`BindingStatus::is_live`] so the two cannot drift).
pub const LIVE_STATUSES_SQL: &str = "('active','frozen','unbinding')";

/// Where an activation of a card not yet activated stands (issue 26: it
/// had no state type): `pending_verification` (a code went to the card's
/// phone) → `activating` (the bank was asked and has not confirmed yet) →
/// `activated`; or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivationStatus {
    PendingVerification,
    Activating,
    Activated,
    Failed,
}

impl ActivationStatus {
    pub const ALL: [ActivationStatus; 4] =
        [ActivationStatus::PendingVerification, ActivationStatus::Activating, ActivationStatus::Activated, ActivationStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            ActivationStatus::PendingVerification => "pending_verification",
            ActivationStatus::Activating => "activating",
            ActivationStatus::Activated => "activated",
            ActivationStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<ActivationStatus> {
        Self::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_names() {
        for s in BindingStatus::ALL {
            assert_eq!(BindingStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn live_statuses_match_sql_list() {
        for s in BindingStatus::ALL {
            assert_eq!(s.is_live(), LIVE_STATUSES_SQL.contains(&format!("'{}'", s.as_str())), "{s:?}");
        }
    }

    #[test]
    fn activation_statuses_round_trip() {
        for s in ActivationStatus::ALL {
            assert_eq!(ActivationStatus::parse(s.as_str()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
    }

    #[test]
    fn freeze_reasons() {
        for r in FreezeReason::ALL {
            assert_eq!(FreezeReason::parse(r.as_str()), Some(r));
        }
        assert!(FreezeReason::CardStolen.reports_to_issuer() && !FreezeReason::PhoneLost.reports_to_issuer());
        assert!(FreezeReason::PhoneLost.distrusts_phone() && !FreezeReason::CardLost.distrusts_phone());
        assert!(FreezeReason::SuspiciousActivity.token_reason().is_fraud_sensitive());
    }

    #[test]
    fn transitions() {
        use BindingStatus::*;
        assert!(PendingVerification.can_become(Active));
        assert!(!PendingVerification.can_become(Unbound));
        assert!(!Failed.can_become(Active));
        assert!(!Deleted.can_become(Active));
        assert!(Unbinding.can_become(Active));
        assert!(!Active.can_become(Deleted));
    }
}
