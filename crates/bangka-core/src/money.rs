//! Money in minor units (fen), parsed at the edge.
//!
//! Amounts travel as JSON integers of minor units: 12.34 CNY is `1234`.
//! Anything else — a decimal, a string, an exponent, a value over the
//! per-payment maximum — is refused before any state changes, so a bad
//! amount can never reach a counter, a hold or a ledger.

use serde::Serialize;
use serde_json::{Value, json};

use crate::{ErrorCode, Failure};

/// The currencies Bangka settles in. Cards bound here are mainland Chinese
/// bank cards; settlement is in CNY only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Currency {
    #[serde(rename = "CNY")]
    Cny,
}

impl Currency {
    pub const SUPPORTED: &'static [Currency] = &[Currency::Cny];

    pub fn as_str(self) -> &'static str {
        match self {
            Currency::Cny => "CNY",
        }
    }

    /// How people write it before an amount.
    pub fn symbol(self) -> &'static str {
        match self {
            Currency::Cny => "¥",
        }
    }

    /// Decimal places of the minor unit (fen).
    pub fn exponent(self) -> u32 {
        match self {
            Currency::Cny => 2,
        }
    }

    pub fn parse(s: &str) -> Result<Currency, Failure> {
        Currency::SUPPORTED.iter().copied().find(|c| c.as_str() == s).ok_or_else(|| {
            Failure::new(ErrorCode::CurrencyNotSupported)
                .with_details(json!({ "supported": Currency::SUPPORTED.iter().map(|c| c.as_str()).collect::<Vec<_>>() }))
        })
    }
}

/// The largest single payment, in minor units: 100,000.00 CNY.
pub const MAX_PAYMENT_MINOR: i64 = 10_000_000;

/// A positive amount of one currency, at most [`MAX_PAYMENT_MINOR`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// Parses an amount as it arrives in a JSON body.
    pub fn parse(amount: &Value, currency: &str) -> Result<Money, Failure> {
        let minor = parse_minor(amount)?;
        let currency = Currency::parse(currency)?;
        Ok(Money { minor, currency })
    }

    /// An amount of the same currency (capture and refund amounts).
    pub fn parse_in(amount: &Value, currency: Currency) -> Result<Money, Failure> {
        Ok(Money { minor: parse_minor(amount)?, currency })
    }

    /// A known-good amount (from the store); `None` if out of range.
    pub fn from_minor(minor: i64, currency: Currency) -> Option<Money> {
        (1..=MAX_PAYMENT_MINOR).contains(&minor).then_some(Money { minor, currency })
    }

    pub fn minor(self) -> i64 {
        self.minor
    }

    pub fn currency(self) -> Currency {
        self.currency
    }

    /// `¥12.34`, for messages to people (the currency as people write it,
    /// not its code).
    pub fn display(self) -> String {
        let unit = 10i64.pow(self.currency.exponent());
        format!("{}{}.{:02}", self.currency.symbol(), self.minor / unit, self.minor % unit)
    }
}

fn parse_minor(amount: &Value) -> Result<i64, Failure> {
    let format = || Failure::new(ErrorCode::AmountFormat).with_details(json!({ "expected": "a JSON integer of minor units (fen)" }));
    let range =
        || Failure::new(ErrorCode::AmountOutOfRange).with_details(json!({ "minimum": 1, "maximum": MAX_PAYMENT_MINOR, "unit": "fen" }));
    let Value::Number(n) = amount else { return Err(format()) };
    // `12.0` and `1e3` are floats to serde_json: over-precise or ambiguous.
    if n.is_f64() {
        return Err(format());
    }
    match n.as_i64() {
        Some(v) if (1..=MAX_PAYMENT_MINOR).contains(&v) => Ok(v),
        _ => Err(range()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(v: Value, c: &str) -> ErrorCode {
        Money::parse(&v, c).unwrap_err().code
    }

    #[test]
    fn whole_fen_in_range() {
        let m = Money::parse(&json!(1234), "CNY").unwrap();
        assert_eq!((m.minor(), m.currency()), (1234, Currency::Cny));
        assert_eq!(m.display(), "¥12.34");
        assert_eq!(Money::parse(&json!(1), "CNY").unwrap().display(), "¥0.01");
        assert!(Money::parse(&json!(MAX_PAYMENT_MINOR), "CNY").is_ok());
    }

    #[test]
    fn refuses_fractions_strings_and_exponents() {
        for v in [json!(12.34), json!(12.0), json!(1e3), json!("1234"), json!(null), json!(true), json!([1])] {
            assert_eq!(code(v.clone(), "CNY"), ErrorCode::AmountFormat, "{v}");
        }
    }

    #[test]
    fn refuses_zero_negative_and_too_large() {
        for v in [json!(0), json!(-1), json!(MAX_PAYMENT_MINOR + 1), json!(u64::MAX), json!(i64::MIN)] {
            assert_eq!(code(v.clone(), "CNY"), ErrorCode::AmountOutOfRange, "{v}");
        }
    }

    #[test]
    fn only_cny() {
        for c in ["USD", "cny", "", "CN", "CNYY", "人民币"] {
            assert_eq!(code(json!(100), c), ErrorCode::CurrencyNotSupported, "{c}");
        }
    }

    #[test]
    fn amount_is_checked_before_currency() {
        assert_eq!(code(json!(0), "XXX"), ErrorCode::AmountOutOfRange);
    }
}
