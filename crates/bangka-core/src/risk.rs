//! Risk rules, first cut: too many failed verifications lock binding for a
//! while (seed 000: "连续多次失败可能触发风控，暂停30分钟后再试").

use time::{Duration, OffsetDateTime};

/// Published defaults: 10 failed verifications (issuer refusals of the four
/// elements and wrong OTPs) within an hour lock the account's binding for 30
/// minutes (PCI DSS 8.3.4: lock after at most 10 failures, for at least 30 min).
#[derive(Debug, Clone, Copy)]
pub struct RiskRules {
    pub max_failures: u32,
    pub window: Duration,
    pub lock_for: Duration,
}

impl Default for RiskRules {
    fn default() -> Self {
        RiskRules { max_failures: 10, window: Duration::hours(1), lock_for: Duration::minutes(30) }
    }
}

impl RiskRules {
    /// Given the failures counted in the window (including the one just
    /// recorded), whether to lock and until when.
    pub fn lock_after_failure(&self, failures_in_window: u32, now: OffsetDateTime) -> Option<OffsetDateTime> {
        (failures_in_window >= self.max_failures).then(|| now + self.lock_for)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locks_at_the_threshold() {
        let r = RiskRules::default();
        let now = OffsetDateTime::UNIX_EPOCH;
        assert_eq!(r.lock_after_failure(9, now), None);
        assert_eq!(r.lock_after_failure(10, now), Some(now + Duration::minutes(30)));
    }
}
