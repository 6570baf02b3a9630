//! The BIN table: which bank issued a card number, its brand and type, and
//! the wallet policy of which issuers and card types are accepted.
//!
//! This is Bangka's own reference data (like a licensed BIN database); the
//! issuer simulator issues its test cards from the same ranges.

use serde::Serialize;

use crate::card::Pan;
use crate::catalog::{ErrorCode, Text};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CardType {
    Debit,
    Credit,
    Prepaid,
}

impl CardType {
    pub fn as_str(self) -> &'static str {
        match self {
            CardType::Debit => "debit",
            CardType::Credit => "credit",
            CardType::Prepaid => "prepaid",
        }
    }

    pub fn parse(s: &str) -> Option<CardType> {
        [CardType::Debit, CardType::Credit, CardType::Prepaid].into_iter().find(|t| t.as_str() == s)
    }

    /// Credit cards are verified with expiry and CVV as well as the four elements.
    pub fn needs_expiry_and_cvv(self) -> bool {
        self == CardType::Credit
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Brand {
    Unionpay,
    Visa,
    Mastercard,
}

impl Brand {
    pub fn as_str(self) -> &'static str {
        match self {
            Brand::Unionpay => "unionpay",
            Brand::Visa => "visa",
            Brand::Mastercard => "mastercard",
        }
    }
}

/// Where a bank issues its cards. Wallets often accept only some regions
/// (seed 002: "某些地区的用户可能会受到相关政策的影响"): a Hong Kong or
/// Macau bank's UnionPay card is a card from another region's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Region {
    /// Mainland China.
    Mainland,
    HongKong,
    Macau,
}

impl Region {
    pub const ALL: [Region; 3] = [Region::Mainland, Region::HongKong, Region::Macau];

    pub fn as_str(self) -> &'static str {
        match self {
            Region::Mainland => "mainland",
            Region::HongKong => "hong_kong",
            Region::Macau => "macau",
        }
    }

    pub fn parse(s: &str) -> Option<Region> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn name(self) -> Text {
        match self {
            Region::Mainland => Text { zh: "中国内地", en: "mainland China" },
            Region::HongKong => Text { zh: "中国香港", en: "Hong Kong" },
            Region::Macau => Text { zh: "中国澳门", en: "Macau" },
        }
    }
}

/// A card issuer (bank).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Issuer {
    pub id: &'static str,
    pub name: Text,
    pub region: Region,
}

pub const ISSUERS: &[Issuer] = &[
    Issuer { id: "ICBC", name: Text { zh: "中国工商银行", en: "Industrial and Commercial Bank of China" }, region: Region::Mainland },
    Issuer { id: "CMB", name: Text { zh: "招商银行", en: "China Merchants Bank" }, region: Region::Mainland },
    Issuer { id: "CCB", name: Text { zh: "中国建设银行", en: "China Construction Bank" }, region: Region::Mainland },
    Issuer { id: "ABC", name: Text { zh: "中国农业银行", en: "Agricultural Bank of China" }, region: Region::Mainland },
    Issuer { id: "BOC", name: Text { zh: "中国银行", en: "Bank of China" }, region: Region::Mainland },
    Issuer { id: "PSBC", name: Text { zh: "中国邮政储蓄银行", en: "Postal Savings Bank of China" }, region: Region::Mainland },
    Issuer { id: "METRO", name: Text { zh: "美通预付卡", en: "Metro Prepaid Card" }, region: Region::Mainland },
    Issuer { id: "RURAL", name: Text { zh: "示例农村商业银行", en: "Example Rural Commercial Bank" }, region: Region::Mainland },
    Issuer { id: "HKBANK", name: Text { zh: "示例香港银行", en: "Example Hong Kong Bank" }, region: Region::HongKong },
];

pub fn issuer(id: &str) -> Option<&'static Issuer> {
    ISSUERS.iter().find(|i| i.id == id)
}

/// One BIN range: a prefix and the length of the numbers it issues.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct BinRange {
    pub prefix: &'static str,
    pub issuer: &'static str,
    pub brand: Brand,
    pub card_type: CardType,
    pub length: usize,
}

pub const BIN_TABLE: &[BinRange] = &[
    BinRange { prefix: "622202", issuer: "ICBC", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "427020", issuer: "ICBC", brand: Brand::Visa, card_type: CardType::Credit, length: 16 },
    BinRange { prefix: "622588", issuer: "CMB", brand: Brand::Unionpay, card_type: CardType::Debit, length: 16 },
    BinRange { prefix: "439225", issuer: "CMB", brand: Brand::Visa, card_type: CardType::Credit, length: 16 },
    BinRange { prefix: "621700", issuer: "CCB", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "552801", issuer: "CCB", brand: Brand::Mastercard, card_type: CardType::Credit, length: 16 },
    BinRange { prefix: "622848", issuer: "ABC", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "622836", issuer: "ABC", brand: Brand::Unionpay, card_type: CardType::Credit, length: 16 },
    BinRange { prefix: "621661", issuer: "BOC", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "625908", issuer: "BOC", brand: Brand::Unionpay, card_type: CardType::Credit, length: 16 },
    BinRange { prefix: "606983", issuer: "BOC", brand: Brand::Unionpay, card_type: CardType::Prepaid, length: 16 },
    BinRange { prefix: "621799", issuer: "PSBC", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "623886", issuer: "METRO", brand: Brand::Unionpay, card_type: CardType::Prepaid, length: 16 },
    BinRange { prefix: "623066", issuer: "RURAL", brand: Brand::Unionpay, card_type: CardType::Debit, length: 19 },
    BinRange { prefix: "625034", issuer: "HKBANK", brand: Brand::Unionpay, card_type: CardType::Debit, length: 16 },
];

/// Tokens are issued from this BIN, which no issuer in [`BIN_TABLE`] uses
/// (ISO/IEC 7812 major industry identifier 9: not a payment card range).
pub const TOKEN_BIN: &str = "990001";

/// What a card number says about the card, known before asking the issuer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CardFacts {
    pub bin: &'static str,
    pub issuer: &'static str,
    pub brand: Brand,
    pub card_type: CardType,
}

/// Looks the PAN up: unknown prefix → `CARD_BIN_UNKNOWN`; a known prefix with
/// a length that range does not issue → `CARD_NUMBER_FORMAT`.
pub fn lookup(pan: &Pan) -> Result<CardFacts, ErrorCode> {
    let digits = pan.expose();
    let range = BIN_TABLE.iter().find(|r| digits.starts_with(r.prefix)).ok_or(ErrorCode::CardBinUnknown)?;
    if digits.len() != range.length {
        return Err(ErrorCode::CardNumberFormat);
    }
    Ok(CardFacts { bin: range.prefix, issuer: range.issuer, brand: range.brand, card_type: range.card_type })
}

/// How many digits cards with this number's prefix have, when the prefix
/// is one the BIN table knows (for a precise `CARD_NUMBER_FORMAT`).
pub fn expected_length(pan: &Pan) -> Option<usize> {
    BIN_TABLE.iter().find(|r| pan.expose().starts_with(r.prefix)).map(|r| r.length)
}

/// Which regions, issuers and card types this wallet accepts, and how many
/// cards one account may keep bound.
#[derive(Debug, Clone)]
pub struct WalletPolicy {
    pub regions: Vec<Region>,
    pub accepted: Vec<(&'static str, Vec<CardType>)>,
    pub binding_limit: u32,
}

impl Default for WalletPolicy {
    fn default() -> Self {
        use CardType::*;
        WalletPolicy {
            // Most mainland wallets bind mainland cards only.
            regions: vec![Region::Mainland],
            accepted: vec![
                ("ICBC", vec![Debit, Credit]),
                ("CMB", vec![Debit, Credit]),
                ("CCB", vec![Debit, Credit]),
                ("ABC", vec![Debit, Credit]),
                ("BOC", vec![Debit, Credit]),
                ("PSBC", vec![Debit]),
                ("METRO", vec![Prepaid]),
                ("HKBANK", vec![Debit, Credit]),
            ],
            binding_limit: 5,
        }
    }
}

impl WalletPolicy {
    pub fn accepted_types(&self, issuer: &str) -> Option<&[CardType]> {
        self.accepted.iter().find(|(i, _)| *i == issuer).map(|(_, t)| t.as_slice())
    }

    pub fn check(&self, facts: &CardFacts) -> Result<(), ErrorCode> {
        if issuer(facts.issuer).is_some_and(|i| !self.regions.contains(&i.region)) {
            return Err(ErrorCode::CardRegionNotAccepted);
        }
        let types = self.accepted_types(facts.issuer).ok_or(ErrorCode::IssuerNotSupported)?;
        if types.contains(&facts.card_type) { Ok(()) } else { Err(ErrorCode::CardTypeNotAccepted) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::luhn_check_digit;

    fn card(prefix: &str, len: usize) -> Pan {
        let payload = format!("{prefix}{}", "0".repeat(len - prefix.len() - 1));
        Pan::parse(&format!("{payload}{}", luhn_check_digit(&payload))).unwrap()
    }

    #[test]
    fn lookup_finds_ranges_and_checks_length() {
        let f = lookup(&card("622202", 19)).unwrap();
        assert_eq!((f.issuer, f.card_type), ("ICBC", CardType::Debit));
        assert_eq!(lookup(&card("622202", 16)).unwrap_err(), ErrorCode::CardNumberFormat);
        assert_eq!(lookup(&card("123456", 16)).unwrap_err(), ErrorCode::CardBinUnknown);
        assert_eq!(lookup(&card(TOKEN_BIN, 16)).unwrap_err(), ErrorCode::CardBinUnknown);
    }

    #[test]
    fn every_range_has_a_known_issuer_and_no_prefix_overlaps() {
        for r in BIN_TABLE {
            assert!(issuer(r.issuer).is_some(), "{}", r.issuer);
            for o in BIN_TABLE {
                if !std::ptr::eq(r, o) {
                    assert!(!o.prefix.starts_with(r.prefix), "{} overlaps {}", r.prefix, o.prefix);
                }
            }
        }
    }

    #[test]
    fn default_policy() {
        let p = WalletPolicy::default();
        assert_eq!(p.check(&lookup(&card("623066", 19)).unwrap()), Err(ErrorCode::IssuerNotSupported));
        assert_eq!(p.check(&lookup(&card("606983", 16)).unwrap()), Err(ErrorCode::CardTypeNotAccepted));
        assert_eq!(p.check(&lookup(&card("623886", 16)).unwrap()), Ok(()));
        assert_eq!(p.check(&lookup(&card("625034", 16)).unwrap()), Err(ErrorCode::CardRegionNotAccepted));
        let hk = WalletPolicy { regions: vec![Region::Mainland, Region::HongKong], ..WalletPolicy::default() };
        assert_eq!(hk.check(&lookup(&card("625034", 16)).unwrap()), Ok(()));
        assert_eq!(p.binding_limit, 5);
    }
}
