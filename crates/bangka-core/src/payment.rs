//! Payments with a token (SPEC "Payment"): the merchant presents a token
//! number and a one-time cryptogram; the issuer authorizes; the merchant
//! captures and may refund. This module holds the pure rules: the payment
//! state machine, how much may be captured or refunded, and what a payer is
//! told when the bank declines.

use serde::Serialize;
use serde_json::json;
use time::Duration;

use crate::{ErrorCode, Failure};

/// How long a cryptogram may be presented after the holder confirmed.
pub const CRYPTOGRAM_TTL: Duration = Duration::minutes(5);

/// `pending → authorized | declined | failed`; `authorized → captured |
/// voided`; `captured → partially_refunded → refunded`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PaymentStatus {
    /// Sent to the issuer, no answer recorded yet.
    Pending,
    Authorized,
    /// The issuer refused (funds, card state).
    Declined,
    /// The issuer could not be reached; nothing was held.
    Failed,
    Voided,
    Captured,
    PartiallyRefunded,
    Refunded,
}

impl PaymentStatus {
    pub const ALL: [PaymentStatus; 8] = [
        PaymentStatus::Pending,
        PaymentStatus::Authorized,
        PaymentStatus::Declined,
        PaymentStatus::Failed,
        PaymentStatus::Voided,
        PaymentStatus::Captured,
        PaymentStatus::PartiallyRefunded,
        PaymentStatus::Refunded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PaymentStatus::Pending => "pending",
            PaymentStatus::Authorized => "authorized",
            PaymentStatus::Declined => "declined",
            PaymentStatus::Failed => "failed",
            PaymentStatus::Voided => "voided",
            PaymentStatus::Captured => "captured",
            PaymentStatus::PartiallyRefunded => "partially_refunded",
            PaymentStatus::Refunded => "refunded",
        }
    }

    pub fn parse(s: &str) -> Option<PaymentStatus> {
        Self::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// A payment's amounts, in minor units.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Amounts {
    pub authorized: i64,
    pub captured: i64,
    pub refunded: i64,
}

fn conflict(status: PaymentStatus) -> Failure {
    Failure::new(ErrorCode::PaymentStateConflict).with_details(json!({ "status": status.as_str() }))
}

fn exceeds(remaining: i64) -> Failure {
    Failure::new(ErrorCode::AmountExceedsRemaining).with_details(json!({ "remaining": remaining, "unit": "fen" }))
}

/// How much a capture takes: all of the authorization when no amount is
/// given, or a part of it (the rest of the hold is released).
pub fn capture_amount(status: PaymentStatus, a: Amounts, requested: Option<i64>) -> Result<i64, Failure> {
    if status != PaymentStatus::Authorized {
        return Err(conflict(status));
    }
    let amount = requested.unwrap_or(a.authorized);
    if amount > a.authorized {
        return Err(exceeds(a.authorized));
    }
    Ok(amount)
}

/// The status after refunding `amount`, if that much is left to refund.
pub fn refund(status: PaymentStatus, a: Amounts, amount: i64) -> Result<PaymentStatus, Failure> {
    if !matches!(status, PaymentStatus::Captured | PaymentStatus::PartiallyRefunded) {
        return Err(conflict(status));
    }
    let remaining = a.captured - a.refunded;
    if amount > remaining {
        return Err(exceeds(remaining));
    }
    Ok(if amount == remaining { PaymentStatus::Refunded } else { PaymentStatus::PartiallyRefunded })
}

/// What the payer (merchant and holder) is told about a decline. States of
/// the card that a fraudster could learn from — frozen, lost or stolen,
/// restricted, closed — become one generic "the bank declined"; operators
/// see the precise code on the payment record.
pub fn shown_to_payer(issuer_code: ErrorCode) -> ErrorCode {
    match issuer_code {
        ErrorCode::CardFrozen | ErrorCode::CardReportedLost | ErrorCode::IssuerRestricted | ErrorCode::CardClosed => {
            ErrorCode::IssuerDeclined
        }
        other => other,
    }
}

/// A merchant id: 1–64 of `A-Za-z0-9_-.:`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MerchantId(String);

impl MerchantId {
    pub fn parse(s: &str) -> Result<MerchantId, Failure> {
        let ok = (1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"_-.:".contains(&b));
        if ok { Ok(MerchantId(s.to_owned())) } else { Err(ErrorCode::MerchantIdFormat.into()) }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Where a payment operation (an authorization, capture, refund or void
/// sent to the bank) stands: `pending` (the bank has not confirmed yet;
/// retried automatically), `done` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpStatus {
    Pending,
    Done,
    Failed,
}

impl OpStatus {
    pub const ALL: [OpStatus; 3] = [OpStatus::Pending, OpStatus::Done, OpStatus::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            OpStatus::Pending => "pending",
            OpStatus::Done => "done",
            OpStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<OpStatus> {
        Self::ALL.into_iter().find(|o| o.as_str() == s)
    }
}

/// A pending payment operation older than this lost its request (a crash,
/// or an issuer whose answer never came; connectors time out well before
/// it): the payment job finishes it, asking the bank first.
pub const RETRY_OPS_AFTER: Duration = Duration::seconds(30);

/// How long after an acting order (an authorization, an activation) was
/// last sent it may still reach the bank and act: the bank refuses orders
/// older than five minutes (docs/issuer-protocol.md), and a minute more
/// covers clocks apart. Until then, a query that finds nothing does not
/// mean the order was never made (a delaying network can still deliver it).
pub const ORDER_MAY_ARRIVE_FOR: Duration = Duration::minutes(6);

#[cfg(test)]
mod tests {
    use super::*;

    const A: Amounts = Amounts { authorized: 1234, captured: 0, refunded: 0 };

    #[test]
    fn status_names_round_trip() {
        for s in PaymentStatus::ALL {
            assert_eq!(PaymentStatus::parse(s.as_str()), Some(s));
        }
    }

    #[test]
    fn capture_whole_or_part_of_an_authorization() {
        assert_eq!(capture_amount(PaymentStatus::Authorized, A, None), Ok(1234));
        assert_eq!(capture_amount(PaymentStatus::Authorized, A, Some(1000)), Ok(1000));
        assert_eq!(capture_amount(PaymentStatus::Authorized, A, Some(1235)).unwrap_err().code, ErrorCode::AmountExceedsRemaining);
        for s in [PaymentStatus::Captured, PaymentStatus::Declined, PaymentStatus::Pending, PaymentStatus::Voided] {
            assert_eq!(capture_amount(s, A, None).unwrap_err().code, ErrorCode::PaymentStateConflict, "{s:?}");
        }
    }

    #[test]
    fn refunds_never_exceed_the_capture() {
        let a = Amounts { authorized: 1234, captured: 1234, refunded: 0 };
        assert_eq!(refund(PaymentStatus::Captured, a, 234), Ok(PaymentStatus::PartiallyRefunded));
        let a = Amounts { refunded: 234, ..a };
        assert_eq!(refund(PaymentStatus::PartiallyRefunded, a, 1000), Ok(PaymentStatus::Refunded));
        let e = refund(PaymentStatus::PartiallyRefunded, a, 1001).unwrap_err();
        assert_eq!(e.code, ErrorCode::AmountExceedsRemaining);
        assert_eq!(e.details.unwrap()["remaining"], 1000);
        assert_eq!(refund(PaymentStatus::Authorized, A, 1).unwrap_err().code, ErrorCode::PaymentStateConflict);
        assert_eq!(refund(PaymentStatus::Refunded, a, 1).unwrap_err().code, ErrorCode::PaymentStateConflict);
    }

    #[test]
    fn fraud_sensitive_declines_are_generic() {
        for c in [ErrorCode::CardFrozen, ErrorCode::CardReportedLost, ErrorCode::IssuerRestricted, ErrorCode::CardClosed] {
            assert_eq!(shown_to_payer(c), ErrorCode::IssuerDeclined);
        }
        for c in [ErrorCode::InsufficientFunds, ErrorCode::IssuerUnavailable, ErrorCode::OnlinePaymentsDisabled, ErrorCode::CardExpired] {
            assert_eq!(shown_to_payer(c), c);
        }
    }

    #[test]
    fn merchant_ids() {
        assert!(MerchantId::parse("m_coffee-01.sh:3").is_ok());
        for bad in ["", "a b", "商户", &"m".repeat(65), "m/1"] {
            assert_eq!(MerchantId::parse(bad).unwrap_err().code, ErrorCode::MerchantIdFormat, "{bad}");
        }
    }
}
