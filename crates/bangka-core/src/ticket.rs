//! Support tickets (SPEC "Ticket"; seeds: "记下工单号", "24小时内回复",
//! "超时未处理可要求升级"): a number the holder can quote, a category with
//! its own answer deadline, and a status that only moves forward.

use serde::Serialize;
use time::{Date, Duration};

use crate::catalog::{Category, ErrorCode};

/// `open → escalated → resolved → closed`; `open → resolved` too. Nothing
/// moves back: a resolved ticket that did not help is a new ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketStatus {
    Open,
    Escalated,
    Resolved,
    Closed,
}

impl TicketStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Open => "open",
            TicketStatus::Escalated => "escalated",
            TicketStatus::Resolved => "resolved",
            TicketStatus::Closed => "closed",
        }
    }

    pub const ALL: [TicketStatus; 4] = [TicketStatus::Open, TicketStatus::Escalated, TicketStatus::Resolved, TicketStatus::Closed];

    pub fn parse(s: &str) -> Option<TicketStatus> {
        TicketStatus::ALL.into_iter().find(|t| t.as_str() == s)
    }

    /// Escalation (the holder asks, or the deadline passed): only an open ticket.
    pub fn escalate(self) -> Option<TicketStatus> {
        (self == TicketStatus::Open).then_some(TicketStatus::Escalated)
    }

    /// An agent resolves an open or escalated ticket.
    pub fn resolve(self) -> Option<TicketStatus> {
        matches!(self, TicketStatus::Open | TicketStatus::Escalated).then_some(TicketStatus::Resolved)
    }

    /// Closing follows a resolution.
    pub fn close(self) -> Option<TicketStatus> {
        (self == TicketStatus::Resolved).then_some(TicketStatus::Closed)
    }

    /// Whether someone still owes the holder an answer.
    pub fn is_pending(self) -> bool {
        matches!(self, TicketStatus::Open | TicketStatus::Escalated)
    }
}

/// What a ticket is about, from the failure it was opened for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketCategory {
    /// Risk locks and reviews: the holder is stopped; answered first.
    Risk,
    /// The bank's answer or availability, the card's state at the bank.
    Issuer,
    /// The account: real name, standing, passwords.
    Account,
    /// Payments, refunds, autopay, funds in transit.
    Payment,
    /// Anything else (a question, a request that was malformed).
    General,
}

impl TicketCategory {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketCategory::Risk => "risk",
            TicketCategory::Issuer => "issuer",
            TicketCategory::Account => "account",
            TicketCategory::Payment => "payment",
            TicketCategory::General => "general",
        }
    }

    pub fn parse(s: &str) -> Option<TicketCategory> {
        [TicketCategory::Risk, TicketCategory::Issuer, TicketCategory::Account, TicketCategory::Payment, TicketCategory::General]
            .into_iter()
            .find(|t| t.as_str() == s)
    }

    /// The category of a ticket opened for a failure with `code`.
    pub fn of(code: Option<ErrorCode>) -> TicketCategory {
        let Some(code) = code else { return TicketCategory::General };
        match code.entry().category {
            Category::Risk => TicketCategory::Risk,
            Category::Issuer | Category::Card => TicketCategory::Issuer,
            Category::Account => TicketCategory::Account,
            Category::Payment => TicketCategory::Payment,
            Category::Input | Category::Policy | Category::System => TicketCategory::General,
        }
    }

    /// How long until the first answer is due (the seeds promise 24 hours
    /// for bank-side problems; a holder stopped by risk control is answered
    /// within 4).
    pub fn sla(self) -> Duration {
        match self {
            TicketCategory::Risk => Duration::hours(4),
            TicketCategory::Issuer | TicketCategory::Account | TicketCategory::Payment => Duration::hours(24),
            TicketCategory::General => Duration::hours(48),
        }
    }
}

/// How long an escalated ticket has before it is overdue again.
pub const ESCALATED_SLA: Duration = Duration::hours(4);

/// Where a holder takes a matter Bangka's support cannot settle (seeds
/// 000/004): the card's bank, the national consumer complaint line, the
/// central bank's financial consumer line. Tickets closed unresolved and
/// the holder's evidence bundle both name them.
pub struct ComplaintRoute {
    pub name: crate::catalog::Text,
    pub how: Option<crate::catalog::Text>,
    pub phone: Option<&'static str>,
}

pub const COMPLAINT_ROUTES: &[ComplaintRoute] = &[
    ComplaintRoute {
        name: crate::catalog::Text { zh: "发卡银行客服", en: "Your card's bank" },
        how: Some(crate::catalog::Text { zh: "拨打卡片背面的客服电话", en: "Call the service number on the back of the card" }),
        phone: None,
    },
    ComplaintRoute {
        name: crate::catalog::Text { zh: "全国消费者投诉举报电话", en: "The national consumer complaint line" },
        how: None,
        phone: Some("12315"),
    },
    ComplaintRoute {
        name: crate::catalog::Text {
            zh: "中国人民银行金融消费者权益保护咨询投诉电话",
            en: "The People's Bank of China financial consumer line",
        },
        how: None,
        phone: Some("12363"),
    },
];

/// A ticket number: `BK-YYYYMMDD-NNNNNN`, the day's sequence number.
pub fn ticket_number(day: Date, seq: u32) -> String {
    format!("BK-{:04}{:02}{:02}-{:06}", day.year(), u8::from(day.month()), day.day(), seq)
}

/// Whether `s` has the shape of a ticket number.
pub fn is_ticket_number(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 18 && s.starts_with("BK-") && b[11] == b'-' && b[3..11].iter().chain(&b[12..]).all(u8::is_ascii_digit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_only_move_forward() {
        use TicketStatus::*;
        assert_eq!(Open.escalate(), Some(Escalated));
        assert_eq!(Escalated.escalate(), None, "escalated once");
        assert_eq!(Open.resolve(), Some(Resolved));
        assert_eq!(Escalated.resolve(), Some(Resolved));
        assert_eq!(Resolved.close(), Some(Closed));
        assert_eq!(Open.close(), None);
        assert_eq!(Closed.resolve(), None);
        assert_eq!(Resolved.escalate(), None);
        for s in [Open, Escalated, Resolved, Closed] {
            assert_eq!(TicketStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn categories_come_from_the_failure_and_set_the_deadline() {
        assert_eq!(TicketCategory::of(Some(ErrorCode::RiskLocked)), TicketCategory::Risk);
        assert_eq!(TicketCategory::of(Some(ErrorCode::FourElementsPhoneMismatch)), TicketCategory::Issuer);
        assert_eq!(TicketCategory::of(Some(ErrorCode::CardFrozen)), TicketCategory::Issuer);
        assert_eq!(TicketCategory::of(Some(ErrorCode::KycRequired)), TicketCategory::Account);
        assert_eq!(TicketCategory::of(None), TicketCategory::General);
        assert_eq!(TicketCategory::Risk.sla(), Duration::hours(4));
        assert_eq!(TicketCategory::Issuer.sla(), Duration::hours(24));
    }

    #[test]
    fn numbers_are_dated_and_padded() {
        let day = Date::from_calendar_date(2026, time::Month::November, 23).unwrap();
        let n = ticket_number(day, 42);
        assert_eq!(n, "BK-20261123-000042");
        assert!(is_ticket_number(&n));
        for bad in ["BK-2026112-000042", "bk-20261123-000042", "BK-20261123-00004x", "BK-20261123_000042", ""] {
            assert!(!is_ticket_number(bad), "{bad}");
        }
    }
}
