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

/// The SQL list of live statuses, for the store's partial unique index and
/// counts (kept next to [`BindingStatus::is_live`] so the two cannot drift).
pub const LIVE_STATUSES_SQL: &str = "('active','frozen','unbinding')";

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
