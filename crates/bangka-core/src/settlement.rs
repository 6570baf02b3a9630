//! Funds in transit to a card (SPEC "Pending settlement"; seed 003: "卡内无
//! 未结算的余额" — money on its way to the card blocks an unbind until it
//! arrives).

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementKind {
    /// A refund the bank confirmed, not yet posted to the card.
    Refund,
    /// Wallet balance withdrawn to the card (提现), reported by the wallet.
    Withdrawal,
}

impl SettlementKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementKind::Refund => "refund",
            SettlementKind::Withdrawal => "withdrawal",
        }
    }

    pub fn parse(s: &str) -> Option<SettlementKind> {
        [SettlementKind::Refund, SettlementKind::Withdrawal].into_iter().find(|k| k.as_str() == s)
    }

    /// How the holder's notice names it, in zh-CN and en.
    pub fn noun(self) -> (&'static str, &'static str) {
        match self {
            SettlementKind::Refund => ("退款", "refund"),
            SettlementKind::Withdrawal => ("提现", "withdrawal"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SettlementStatus {
    InTransit,
    Settled,
}

impl SettlementStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SettlementStatus::InTransit => "in_transit",
            SettlementStatus::Settled => "settled",
        }
    }

    pub const ALL: [SettlementStatus; 2] = [SettlementStatus::InTransit, SettlementStatus::Settled];

    pub fn parse(s: &str) -> Option<SettlementStatus> {
        SettlementStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for k in [SettlementKind::Refund, SettlementKind::Withdrawal] {
            assert_eq!(SettlementKind::parse(k.as_str()), Some(k));
        }
        for s in [SettlementStatus::InTransit, SettlementStatus::Settled] {
            assert_eq!(SettlementStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(SettlementKind::parse("chargeback"), None);
    }
}
