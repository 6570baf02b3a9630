//! Card data as the holder types it: card number (PAN), expiry, CVV.
//!
//! Each type is valid by construction (`parse`); parse errors are catalog
//! codes and never echo the input.

use std::fmt;

use zeroize::Zeroize;

use crate::catalog::ErrorCode;
use crate::secret::{MaskingStrategy, Secret};

/// Shows at most the first 6 and the last 4 digits of a card number.
pub enum FirstSixLastFour {}

impl MaskingStrategy<String> for FirstSixLastFour {
    fn fmt(value: &String, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_pan_digits(value))
    }
}

/// `622202******1234`: first six, stars, last four (never more than 6 + 4 shown).
pub fn mask_pan_digits(digits: &str) -> String {
    let n = digits.len();
    if n < 10 {
        return "*".repeat(n);
    }
    format!("{}{}{}", &digits[..6], "*".repeat(n - 10), &digits[n - 4..])
}

/// Luhn (mod 10) check over a string of ASCII digits.
pub fn luhn_valid(digits: &str) -> bool {
    luhn_sum(digits, false).is_multiple_of(10)
}

/// The digit that makes `payload` + digit Luhn-valid.
pub fn luhn_check_digit(payload: &str) -> char {
    let sum = luhn_sum(payload, true);
    char::from(b'0' + ((10 - sum % 10) % 10) as u8)
}

fn luhn_sum(digits: &str, double_first_from_right: bool) -> u32 {
    digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            let double = (i % 2 == 1) != double_first_from_right;
            if double {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum()
}

/// A card number: 12–19 digits, Luhn-valid. Whether its BIN is known is the
/// BIN table's business (`bin::lookup`).
#[derive(Clone, PartialEq, Eq)]
pub struct Pan(Secret<String, FirstSixLastFour>);

impl Pan {
    /// Accepts digits with optional spaces or dashes between groups.
    pub fn parse(input: &str) -> Result<Pan, ErrorCode> {
        let mut digits = String::with_capacity(19);
        for c in input.chars().map(crate::holder::halfwidth) {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' => {}
                _ => {
                    digits.zeroize();
                    return Err(ErrorCode::CardNumberFormat);
                }
            }
            if digits.len() > 19 {
                digits.zeroize();
                return Err(ErrorCode::CardNumberFormat);
            }
        }
        if digits.len() < 12 {
            digits.zeroize();
            return Err(ErrorCode::CardNumberFormat);
        }
        if !luhn_valid(&digits) {
            digits.zeroize();
            return Err(ErrorCode::CardNumberLuhn);
        }
        Ok(Pan(Secret::new(digits)))
    }

    /// The clear digits. Callers: the vault, the fingerprint, the issuer connector.
    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn len(&self) -> usize {
        self.expose().len()
    }

    pub fn is_empty(&self) -> bool {
        false
    }

    /// The first `n` digits (n ≤ 8), safe to show and store.
    pub fn prefix(&self, n: usize) -> &str {
        &self.expose()[..n.min(8)]
    }

    pub fn last4(&self) -> &str {
        let d = self.expose();
        &d[d.len() - 4..]
    }

    pub fn masked(&self) -> String {
        mask_pan_digits(self.expose())
    }
}

impl fmt::Debug for Pan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Pan({:?})", self.0)
    }
}

/// Card expiry as printed on the card, `MM/YY`. A card is valid through the
/// last day of its expiry month.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expiry {
    pub month: u8,
    /// Four-digit year.
    pub year: u16,
}

impl Expiry {
    /// Accepts `MM/YY`, `MMYY` and `MM/YYYY`.
    pub fn parse(input: &str) -> Result<Expiry, ErrorCode> {
        let s = input.trim();
        let (m, y) = match s.split_once('/') {
            Some((m, y)) => (m, y),
            None if s.len() == 4 => s.split_at(2),
            None => return Err(ErrorCode::ExpiryFormat),
        };
        let all_digits = |x: &str| !x.is_empty() && x.bytes().all(|b| b.is_ascii_digit());
        if m.len() != 2 || !(y.len() == 2 || y.len() == 4) || !all_digits(m) || !all_digits(y) {
            return Err(ErrorCode::ExpiryFormat);
        }
        let month: u8 = m.parse().map_err(|_| ErrorCode::ExpiryFormat)?;
        let mut year: u16 = y.parse().map_err(|_| ErrorCode::ExpiryFormat)?;
        if y.len() == 2 {
            year += 2000;
        }
        if !(1..=12).contains(&month) || !(2000..=2099).contains(&year) {
            return Err(ErrorCode::ExpiryFormat);
        }
        Ok(Expiry { month, year })
    }

    /// Whether the card is past its expiry at `today` (year, month).
    pub fn is_expired_at(&self, today_year: i32, today_month: u8) -> bool {
        (i32::from(self.year), self.month) < (today_year, today_month)
    }

    pub fn as_mm_yy(&self) -> String {
        format!("{:02}/{:02}", self.month, self.year % 100)
    }
}

/// The 3-digit code on the back of a credit card. Used once for the issuer
/// call and dropped: it has no `Serialize`, and no store type holds one.
#[derive(Clone, PartialEq, Eq)]
pub struct Cvv(Secret<String>);

impl Cvv {
    pub fn parse(input: &str) -> Result<Cvv, ErrorCode> {
        let s = input.trim();
        if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) { Ok(Cvv(Secret::new(s.to_owned()))) } else { Err(ErrorCode::CvvFormat) }
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for Cvv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Cvv(***)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid(payload: &str) -> String {
        format!("{payload}{}", luhn_check_digit(payload))
    }

    #[test]
    fn luhn_known_values() {
        assert!(luhn_valid("4111111111111111"));
        assert!(luhn_valid("79927398713"));
        assert!(!luhn_valid("79927398710"));
        assert_eq!(luhn_check_digit("7992739871"), '3');
    }

    #[test]
    fn check_digit_always_makes_valid_numbers() {
        for p in ["622202000000001", "62284800000000000", "43674200000000"] {
            assert!(luhn_valid(&valid(p)));
        }
    }

    #[test]
    fn pan_parse_accepts_groups_and_rejects_junk() {
        let n = valid("622202123456789");
        let grouped = format!("{} {} {} {}", &n[..4], &n[4..8], &n[8..12], &n[12..]);
        assert_eq!(Pan::parse(&grouped).unwrap().expose(), n);
        assert_eq!(Pan::parse("6222abc"), Err(ErrorCode::CardNumberFormat));
        assert_eq!(Pan::parse("12345"), Err(ErrorCode::CardNumberFormat));
        assert_eq!(Pan::parse(&"1".repeat(20)), Err(ErrorCode::CardNumberFormat));
        let mut bad = n.clone();
        let last = bad.pop().unwrap();
        bad.push(if last == '0' { '1' } else { '0' });
        assert_eq!(Pan::parse(&bad), Err(ErrorCode::CardNumberLuhn));
    }

    #[test]
    fn pan_never_prints_more_than_first_six_last_four() {
        let n = valid("622202123456789");
        let pan = Pan::parse(&n).unwrap();
        let dbg = format!("{pan:?}");
        assert!(!dbg.contains(&n));
        assert!(dbg.contains("622202******"));
        assert_eq!(pan.masked(), format!("622202******{}", &n[12..]));
        assert_eq!(pan.last4(), &n[12..]);
        let n19 = valid("622848000000000000");
        assert_eq!(Pan::parse(&n19).unwrap().masked().matches('*').count(), 9);
    }

    #[test]
    fn expiry_parses_and_compares() {
        let e = Expiry::parse("09/27").unwrap();
        assert_eq!(e, Expiry { month: 9, year: 2027 });
        assert_eq!(Expiry::parse("0927").unwrap(), e);
        assert_eq!(Expiry::parse("09/2027").unwrap(), e);
        assert_eq!(e.as_mm_yy(), "09/27");
        assert!(Expiry::parse("13/27").is_err());
        assert!(Expiry::parse("9/27").is_err());
        assert!(Expiry::parse("ab/cd").is_err());
        assert!(!e.is_expired_at(2027, 9));
        assert!(e.is_expired_at(2027, 10));
        assert!(e.is_expired_at(2028, 1));
    }

    #[test]
    fn cvv_is_three_digits_and_masked() {
        let c = Cvv::parse("123").unwrap();
        assert_eq!(format!("{c:?}"), "Cvv(***)");
        assert!(Cvv::parse("12").is_err());
        assert!(Cvv::parse("12a").is_err());
    }
}
