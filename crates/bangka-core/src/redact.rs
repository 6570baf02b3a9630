//! Card and ID numbers typed into free text (a ticket note, a comment, a
//! review statement, a device name) are masked before anything is kept:
//! holders paste them where they do not belong, and free text is stored,
//! shown to agents and signed into evidence.
//!
//! A card number is 12–19 digits (spaces or dashes between them allowed)
//! that pass the Luhn check; it keeps at most its first 6 and last 4
//! digits. A resident ID number is 17 digits and a check character that
//! fits (GB 11643), or the old 15-digit form; it keeps its first 4 and last
//! 4. Full-width digits count as digits.

use std::collections::BTreeSet;

use crate::card::luhn_valid;
use crate::holder::id_check_char;

/// What was found and masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Sensitive {
    CardNumber,
    IdNumber,
}

impl Sensitive {
    pub fn as_str(self) -> &'static str {
        match self {
            Sensitive::CardNumber => "card_number",
            Sensitive::IdNumber => "id_number",
        }
    }
}

/// Free text with card and ID numbers masked, and what was masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redacted {
    pub text: String,
    pub found: BTreeSet<Sensitive>,
}

/// An ASCII digit for a digit character (full-width too).
fn digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32('0' as u32 + (c as u32 - '０' as u32)),
        _ => None,
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// Masks every card and ID number in `text`.
pub fn redact(text: &str) -> Redacted {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut found = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i]).is_none() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A run: digits, single spaces or dashes between them, and an X
        // that may end an ID number.
        let start = i;
        let mut end = i;
        let mut j = i;
        while j < chars.len() {
            if digit(chars[j]).is_some() {
                j += 1;
                end = j;
            } else if is_x(chars[j]) {
                j += 1;
                end = j;
                break;
            } else if matches!(chars[j], ' ' | '-') && j + 1 < chars.len() && digit(chars[j + 1]).is_some() {
                j += 1;
            } else {
                break;
            }
        }
        let run = &chars[start..end];
        match classify(run) {
            Some((kind, masked)) => {
                found.insert(kind);
                out.push_str(&masked);
            }
            None => out.extend(run.iter()),
        }
        i = end;
    }
    Redacted { text: out, found }
}

/// Whether a run is a card or ID number, and its masked form.
fn classify(run: &[char]) -> Option<(Sensitive, String)> {
    let normalized: String = run.iter().filter_map(|&c| if is_x(c) { Some('X') } else { digit(c) }).collect();
    let digits: String = normalized.chars().filter(char::is_ascii_digit).collect();
    let ends_x = normalized.ends_with('X');
    if normalized.len() == 18 && normalized[..17].chars().all(|c| c.is_ascii_digit()) {
        let check = normalized.chars().last().unwrap_or('?');
        if id_check_char(&normalized[..17]) == check {
            return Some((Sensitive::IdNumber, mask(&normalized, 4, 4)));
        }
    }
    if ends_x {
        return None;
    }
    if (12..=19).contains(&digits.len()) && luhn_valid(&digits) {
        return Some((Sensitive::CardNumber, mask(&digits, 6, 4)));
    }
    if digits.len() == 15 && run.iter().all(|c| digit(*c).is_some()) {
        // The old 15-digit resident ID (no check character): a birth date
        // in digits 7–12 makes it one.
        let month: u32 = digits[8..10].parse().unwrap_or(0);
        let day: u32 = digits[10..12].parse().unwrap_or(0);
        if (1..=12).contains(&month) && (1..=31).contains(&day) {
            return Some((Sensitive::IdNumber, mask(&digits, 4, 4)));
        }
    }
    None
}

fn mask(s: &str, head: usize, tail: usize) -> String {
    let n = s.chars().count();
    s.chars().enumerate().map(|(i, c)| if i < head || i >= n - tail { c } else { '*' }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn card_numbers_in_any_spacing_are_masked_to_six_and_four() {
        let full_width: String =
            "6222020000030000178".chars().map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap()).collect();
        for typed in ["6222020000030000178", "6222 0200 0003 0000 178", "6222-0200-0003-0000-178", &full_width] {
            let r = redact(&format!("我的卡号是{typed}，绑不上"));
            assert_eq!(r.text, "我的卡号是622202*********0178，绑不上", "{typed}");
            assert_eq!(r.found, BTreeSet::from([Sensitive::CardNumber]));
        }
    }

    #[test]
    fn id_numbers_are_masked_and_other_numbers_kept() {
        let r = redact("身份证 110105199003071239 手机 13910000000 订单 20261126 金额 12.34");
        assert_eq!(r.text, "身份证 1101**********1239 手机 13910000000 订单 20261126 金额 12.34");
        assert_eq!(r.found, BTreeSet::from([Sensitive::IdNumber]));
        let x = redact("ID 11010519491231002X.");
        assert_eq!(x.text, "ID 1101**********002X.");
        let old = redact("老身份证 110105490101123");
        assert_eq!(old.found, BTreeSet::from([Sensitive::IdNumber]));
        // A wrong check character is not an ID number; a non-Luhn run is not a card.
        assert!(redact("110105199003071230 6222020000030000179").found.is_empty());
    }

    #[test]
    fn both_in_one_text() {
        let r = redact("card 4392250040000209 id 110105199003071239");
        assert_eq!(r.text, "card 439225******0209 id 1101**********1239");
        assert_eq!(r.found.len(), 2);
    }
}
