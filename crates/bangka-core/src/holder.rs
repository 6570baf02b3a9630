//! Who the holder says they are: name, resident ID number, phone.

use std::fmt;

use crate::catalog::ErrorCode;
use crate::secret::Secret;

/// A character as a Chinese keyboard may type it, made plain: full-width
/// digits (１２３), Ｘ, ＋, － and the ideographic space become their ASCII
/// forms, so a number typed in full-width mode is read, not refused.
pub fn halfwidth(c: char) -> char {
    match c {
        '\u{FF10}'..='\u{FF19}' => char::from(b'0' + (c as u32 - 0xFF10) as u8),
        '\u{FF38}' => 'X',
        '\u{FF58}' => 'x',
        '\u{FF0B}' => '+',
        '\u{FF0D}' => '-',
        '\u{3000}' => ' ',
        _ => c,
    }
}

/// The holder's name as on the card and ID: 1–40 characters, letters (CJK or
/// Latin), spaces, the middle dot used in transliterated names, no digits.
#[derive(Clone, PartialEq, Eq)]
pub struct HolderName(String);

impl HolderName {
    pub fn parse(input: &str) -> Result<HolderName, ErrorCode> {
        let s = input.trim();
        let n = s.chars().count();
        let ok_char = |c: char| c.is_alphabetic() || c == ' ' || c == '·' || c == '.' || c == '-';
        if n == 0 || n > 40 || !s.chars().all(ok_char) {
            return Err(ErrorCode::HolderNameFormat);
        }
        Ok(HolderName(s.split_whitespace().collect::<Vec<_>>().join(" ")))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `张*` / `王*明`: the first character and, for three or more, the last.
    pub fn masked(&self) -> String {
        let chars: Vec<char> = self.0.chars().collect();
        match chars.len() {
            0 | 1 => "*".into(),
            2 => format!("{}*", chars[0]),
            n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
        }
    }
}

impl fmt::Debug for HolderName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HolderName({})", self.masked())
    }
}

/// A PRC resident identity number (GB 11643-1999): 6-digit region, 8-digit
/// birth date, 3-digit sequence, check character (ISO 7064 MOD 11-2).
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber(Secret<String>);

const ID_WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The check character for the first 17 digits of an ID number.
pub fn id_check_char(first17: &str) -> char {
    let sum: u32 = first17.bytes().zip(ID_WEIGHTS).map(|(b, w)| u32::from(b - b'0') * w).sum();
    ID_CHECK[(sum % 11) as usize]
}

impl IdNumber {
    pub fn parse(input: &str) -> Result<IdNumber, ErrorCode> {
        let s = input.chars().map(halfwidth).collect::<String>().trim().to_ascii_uppercase();
        let b = s.as_bytes();
        if b.len() != 18 || !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(ErrorCode::IdNumberFormat);
        }
        if b[0] == b'0' {
            return Err(ErrorCode::IdNumberFormat);
        }
        let year: i32 = s[6..10].parse().map_err(|_| ErrorCode::IdNumberFormat)?;
        let month: u8 = s[10..12].parse().map_err(|_| ErrorCode::IdNumberFormat)?;
        let day: u8 = s[12..14].parse().map_err(|_| ErrorCode::IdNumberFormat)?;
        let month = time::Month::try_from(month).map_err(|_| ErrorCode::IdNumberFormat)?;
        if !(1900..=2100).contains(&year) || time::Date::from_calendar_date(year, month, day).is_err() {
            return Err(ErrorCode::IdNumberFormat);
        }
        if id_check_char(&s[..17]) != char::from(b[17]) {
            return Err(ErrorCode::IdNumberCheckDigit);
        }
        Ok(IdNumber(Secret::new(s)))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }

    pub fn birth_date(&self) -> time::Date {
        let s = self.expose();
        let month = time::Month::try_from(s[10..12].parse::<u8>().expect("checked")).expect("checked");
        time::Date::from_calendar_date(s[6..10].parse().expect("checked"), month, s[12..14].parse().expect("checked"))
            .expect("checked at parse")
    }

    /// The day the holder turns `age` (a 29 February birthday counts on 1
    /// March in other years).
    pub fn turns(&self, age: i32) -> time::Date {
        let b = self.birth_date();
        let year = b.year() + age;
        time::Date::from_calendar_date(year, b.month(), b.day())
            .or_else(|_| time::Date::from_calendar_date(year, time::Month::March, 1))
            .expect("1 March exists")
    }

    /// Full years of age on `today`.
    pub fn age_on(&self, today: time::Date) -> i32 {
        let b = self.birth_date();
        let mut age = today.year() - b.year();
        if (today.month() as u8, today.day()) < (b.month() as u8, b.day()) {
            age -= 1;
        }
        age
    }

    /// `1101**********123X`: first 4 and last 4 (as Chinese wallets show it).
    pub fn masked(&self) -> String {
        let s = self.expose();
        format!("{}{}{}", &s[..4], "*".repeat(10), &s[14..])
    }
}

impl fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IdNumber(***)")
    }
}

/// A mainland China mobile number: 11 digits, `1[3-9]xxxxxxxxx`. A `+86` or
/// `86` prefix and spaces/dashes are accepted and removed.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Phone(String);

impl Phone {
    pub fn parse(input: &str) -> Result<Phone, ErrorCode> {
        let cleaned: String = input.chars().map(halfwidth).filter(|c| !c.is_whitespace() && *c != '-').collect();
        let s = cleaned.strip_prefix("+86").or_else(|| cleaned.strip_prefix("0086")).unwrap_or(&cleaned);
        let s = if s.len() == 13 && s.starts_with("86") { &s[2..] } else { s };
        let b = s.as_bytes();
        if b.len() != 11 || b[0] != b'1' || !(b'3'..=b'9').contains(&b[1]) || !b.iter().all(u8::is_ascii_digit) {
            return Err(ErrorCode::PhoneFormat);
        }
        Ok(Phone(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `138****5678`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl fmt::Debug for Phone {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phone({})", self.masked())
    }
}

/// An email address for notices: `local@domain` with a dot in the domain,
/// no spaces or control characters, at most 254 characters (RFC 5321's
/// path limit). Deliverability is the mail system's business; this only
/// refuses what can never be delivered. Printed masked (`a***@example.com`).
#[derive(Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(input: &str) -> Result<Email, ErrorCode> {
        let s = input.trim();
        let ok = s.len() <= 254
            && !s.chars().any(|c| c.is_whitespace() || c.is_control())
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty()
                    && local.len() <= 64
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains("..")
            });
        if !ok {
            return Err(ErrorCode::EmailFormat);
        }
        Ok(Email(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `a***@example.com`.
    pub fn masked(&self) -> String {
        mask_email(&self.0)
    }
}

/// Masks a stored email address: first character of the local part, then
/// `***@` and the domain.
pub fn mask_email(s: &str) -> String {
    match s.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Email({})", self.masked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id_with_check(first17: &str) -> String {
        format!("{first17}{}", id_check_char(first17))
    }

    /// Full-width forms of every ASCII character `s` has.
    fn fullwidth(s: &str) -> String {
        s.chars()
            .map(|c| match c {
                '0'..='9' => char::from_u32(0xFF10 + (c as u32 - '0' as u32)).unwrap(),
                'X' => '\u{FF38}',
                '+' => '\u{FF0B}',
                ' ' => '\u{3000}',
                c => c,
            })
            .collect()
    }

    #[test]
    fn full_width_numbers_are_read_not_refused() {
        let id = id_with_check("11010519900307123");
        assert_eq!(IdNumber::parse(&fullwidth(&id)).unwrap().expose(), id);
        let x = (0..1000).map(|i| format!("11010519900307{i:03}")).find(|p| id_check_char(p) == 'X').unwrap();
        let id = id_with_check(&x);
        assert_eq!(IdNumber::parse(&fullwidth(&id)).unwrap().expose(), id, "a full-width Ｘ");
        assert_eq!(Phone::parse(&fullwidth("+86 139 1000 0000")).unwrap().as_str(), "13910000000");
        let pan = crate::card::Pan::parse(&fullwidth("6222 0200 0003 0000 178")).unwrap();
        assert_eq!(pan.last4(), "0178");
        // Other wide letters stay what they are: refused.
        assert_eq!(Phone::parse("１３９１０００００００Ａ").unwrap_err(), ErrorCode::PhoneFormat);
    }

    #[test]
    fn id_check_digit_known_value() {
        // The worked example of GB 11643-1999.
        assert_eq!(id_check_char("11010519491231002"), 'X');
        assert!(IdNumber::parse("11010519491231002X").is_ok());
        assert!(IdNumber::parse("11010519491231002x").is_ok());
        assert_eq!(IdNumber::parse("110105194912310021").unwrap_err(), ErrorCode::IdNumberCheckDigit);
    }

    #[test]
    fn id_rejects_bad_shapes_and_dates() {
        assert_eq!(IdNumber::parse("1234").unwrap_err(), ErrorCode::IdNumberFormat);
        assert_eq!(IdNumber::parse(&id_with_check("11010519491331002")).unwrap_err(), ErrorCode::IdNumberFormat);
        assert_eq!(IdNumber::parse(&id_with_check("11010520230229002")).unwrap_err(), ErrorCode::IdNumberFormat);
        assert!(IdNumber::parse(&id_with_check("11010520240229002")).is_ok());
        assert_eq!(IdNumber::parse("11010519491231002Y").unwrap_err(), ErrorCode::IdNumberFormat);
    }

    #[test]
    fn id_masks_and_computes_age() {
        let id = IdNumber::parse("11010519491231002X").unwrap();
        assert_eq!(id.masked(), "1101**********002X");
        assert_eq!(format!("{id:?}"), "IdNumber(***)");
        let d = time::Date::from_calendar_date(2026, time::Month::December, 30).unwrap();
        assert_eq!(id.age_on(d), 76);
        let d = time::Date::from_calendar_date(2026, time::Month::December, 31).unwrap();
        assert_eq!(id.age_on(d), 77);
    }

    #[test]
    fn phone_parses_and_masks() {
        let p = Phone::parse("+86 138-0013-8000").unwrap();
        assert_eq!(p.as_str(), "13800138000");
        assert_eq!(p.masked(), "138****8000");
        assert!(Phone::parse("12800138000").is_err());
        assert!(Phone::parse("1380013800").is_err());
        assert!(Phone::parse("1380013800a").is_err());
    }

    #[test]
    fn names() {
        assert_eq!(HolderName::parse("  张三 ").unwrap().as_str(), "张三");
        assert_eq!(HolderName::parse("买买提·艾力").unwrap().masked(), "买****力");
        assert!(HolderName::parse("").is_err());
        assert!(HolderName::parse("张3").is_err());
        assert!(HolderName::parse(&"名".repeat(41)).is_err());
    }
}

/// A six-digit payment password (支付密码), as Chinese wallets use. Repeated
/// digits and runs (`111111`, `123456`, `654321`) are refused as trivially
/// guessable. It is only ever hashed (argon2id) at the edge, never stored.
#[derive(Clone, PartialEq, Eq)]
pub struct PaymentPassword(Secret<String>);

impl PaymentPassword {
    pub fn parse(input: &str) -> Result<PaymentPassword, ErrorCode> {
        let b = input.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ErrorCode::PaymentPasswordFormat);
        }
        let steps: Vec<i16> = b.windows(2).map(|w| i16::from(w[1]) - i16::from(w[0])).collect();
        let constant_step = steps.iter().all(|d| *d == steps[0]);
        if constant_step && matches!(steps[0], -1..=1) {
            return Err(ErrorCode::PaymentPasswordWeak);
        }
        Ok(PaymentPassword(Secret::new(input.to_owned())))
    }

    /// A password as typed to confirm a payment: only its shape is checked
    /// (six digits). The strength rules apply when one is set, not here —
    /// a confirmation must fail as "incorrect", never as "too weak".
    pub fn parse_for_check(input: &str) -> Result<PaymentPassword, ErrorCode> {
        let b = input.as_bytes();
        if b.len() != 6 || !b.iter().all(u8::is_ascii_digit) {
            return Err(ErrorCode::PaymentPasswordFormat);
        }
        Ok(PaymentPassword(Secret::new(input.to_owned())))
    }

    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for PaymentPassword {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PaymentPassword(***)")
    }
}

#[cfg(test)]
mod payment_password_tests {
    use super::*;

    #[test]
    fn six_digits_not_trivial() {
        assert!(PaymentPassword::parse("902714").is_ok());
        assert!(PaymentPassword::parse("135790").is_ok());
        for weak in ["111111", "123456", "654321", "000000", "456789"] {
            assert_eq!(PaymentPassword::parse(weak).unwrap_err(), ErrorCode::PaymentPasswordWeak, "{weak}");
        }
        for bad in ["12345", "1234567", "12a456", " 90271", ""] {
            assert_eq!(PaymentPassword::parse(bad).unwrap_err(), ErrorCode::PaymentPasswordFormat, "{bad}");
        }
        assert_eq!(format!("{:?}", PaymentPassword::parse("902714").unwrap()), "PaymentPassword(***)");
    }

    #[test]
    fn email_parses_what_can_be_delivered() {
        assert_eq!(Email::parse(" li.lei@example.com ").unwrap().as_str(), "li.lei@example.com");
        assert_eq!(Email::parse("li.lei@example.com").unwrap().masked(), "l***@example.com");
        for bad in [
            "",
            "li",
            "@example.com",
            "li@",
            "li@example",
            "li@@example.com",
            "li lei@example.com",
            "li@.example.com",
            "li@example..com",
            "li@example.com.",
        ] {
            assert_eq!(Email::parse(bad), Err(ErrorCode::EmailFormat), "{bad}");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(65))).is_err());
    }
}
