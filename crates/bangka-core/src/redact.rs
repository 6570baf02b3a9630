//! Card and ID numbers typed into free text (a ticket note, a comment, a
//! review statement, a device name) are masked before anything is kept:
//! holders paste them where they do not belong, and free text is stored,
//! shown to agents and signed into evidence.
//!
//! A card number is 12–19 digits that pass the Luhn check; it keeps at most
//! its first 6 and last 4 digits. A resident ID number is 17 digits and a
//! check character that fits (GB 11643), or the old 15-digit form; it keeps
//! its first 4 and last 4.
//!
//! People type numbers in many ways, so the text is read the way a person
//! reads it (issue 24 found 19 of 26 spellings slipping through): a digit
//! is any decimal digit Unicode knows (full-width, Arabic-Indic,
//! Devanagari, …, and the superscript, subscript and circled digits NFKC
//! folds to ASCII); up to three separators may stand between two digits
//! (any whitespace, no-break spaces and newlines included, and `. , / \ - _
//! | : ·`, the dashes and their full-width forms); and invisible format
//! characters (zero-width spaces and joiners, soft hyphens, direction
//! marks, the BOM) are skipped wherever they are. Over-masking a number
//! that only looks like a card is the safe mistake.

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

/// The zero of each block of ten decimal digits beyond ASCII (Unicode
/// keeps every decimal digit set in ten consecutive code points).
const DIGIT_ZEROS: &[u32] = &[
    0x0660, 0x06F0, 0x07C0, 0x0966, 0x09E6, 0x0A66, 0x0AE6, 0x0B66, 0x0BE6, 0x0C66, 0x0CE6, 0x0D66, 0x0DE6, 0x0E50, 0x0ED0, 0x0F20, 0x1040,
    0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90, 0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50,
    0xABF0, 0xFF10, 0x104A0, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650, 0x116C0, 0x11730, 0x118E0, 0x16A60,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E950, 0x1FBF0,
];

/// An ASCII digit for a digit character, in any script or form.
fn digit(c: char) -> Option<char> {
    let ascii = |v: u32| char::from_u32('0' as u32 + v);
    match c {
        '0'..='9' => Some(c),
        // NFKC folds these to ASCII digits.
        '⁰' => Some('0'),
        '¹' => Some('1'),
        '²' => Some('2'),
        '³' => Some('3'),
        '\u{2074}'..='\u{2079}' => ascii(c as u32 - 0x2070),
        '\u{2080}'..='\u{2089}' => ascii(c as u32 - 0x2080),
        '\u{2460}'..='\u{2468}' => ascii(c as u32 - 0x2460 + 1),
        '\u{24EA}' => Some('0'),
        _ if c.is_ascii() => None,
        _ => DIGIT_ZEROS.iter().find(|&&z| (z..z + 10).contains(&(c as u32))).and_then(|&z| ascii(c as u32 - z)),
    }
}

fn is_x(c: char) -> bool {
    matches!(c, 'X' | 'x' | 'Ｘ' | 'ｘ')
}

/// An invisible format character (skipped wherever it stands).
fn is_format(c: char) -> bool {
    matches!(c, '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{2066}'..='\u{206F}' | '\u{FEFF}')
}

/// A character people put between groups of digits.
fn is_separator(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '.' | ',' | '/' | '\\' | '-' | '_' | '|' | ':' | '·' | '•' | '・' | '‧' | '\u{2010}'
                ..='\u{2015}' | '\u{2212}' | '，' | '．' | '／' | '－' | '＿' | '｜' | '：' | '、' | '。'
        )
}

/// Separators (and format characters) at most between two digits of a run.
const MAX_GAP: usize = 3;

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
        // A run: digits, with a short gap of separators or format
        // characters between two of them, and an X that may end an ID
        // number. `groups` are its stretches of digits without a gap.
        let start = i;
        let mut end = i;
        let mut j = i;
        let mut groups: Vec<(usize, usize)> = vec![(i, i)];
        while j < chars.len() {
            if digit(chars[j]).is_some() {
                j += 1;
                end = j;
            } else if is_x(chars[j]) {
                end = j + 1;
                break;
            } else {
                let mut k = j;
                let mut seps = 0;
                while k < chars.len() && (is_format(chars[k]) || is_separator(chars[k])) {
                    seps += usize::from(!is_format(chars[k]));
                    k += 1;
                }
                if k > j && seps <= MAX_GAP && k < chars.len() && digit(chars[k]).is_some() {
                    groups.last_mut().expect("a run has a group").1 = j;
                    groups.push((k, k));
                    j = k;
                } else {
                    break;
                }
            }
        }
        groups.last_mut().expect("a run has a group").1 = end;
        out.push_str(&mask_run(&chars, start, end, &groups, &mut found));
        i = end;
    }
    Redacted { text: out, found }
}

/// The run `chars[start..end]` with its card and ID numbers masked. A run
/// that is one number is replaced by its mask. A run that only holds one
/// among other digits (a card typed right after an amount: `金额 50 6222
/// 0200 …`, or a number whose neighbour happens to pass a check too) keeps
/// its first 6 and last 4 digits and every separator, and every other digit
/// becomes `*`: which digits belong to the number cannot be told for sure,
/// so none of its middle may show, and what is left can never be masked
/// again (at most ten digits show, split in two).
fn mask_run(chars: &[char], start: usize, end: usize, groups: &[(usize, usize)], found: &mut BTreeSet<Sensitive>) -> String {
    let run = &chars[start..end];
    if let Some((kind, masked)) = classify(run, groups.len() > 1) {
        found.insert(kind);
        return masked;
    }
    let digits_in = |(a, b): (usize, usize)| chars[a..b].iter().filter(|c| digit(**c).is_some() || is_x(**c)).count();
    let mut kinds = BTreeSet::new();
    for g in 0..groups.len() {
        // The groups from g on that can still make a number (at most 19 digits).
        let mut n = 0;
        for h in g..groups.len() {
            n += digits_in(groups[h]);
            if n > 19 {
                break;
            }
            if let Some((kind, _)) = classify(&chars[groups[g].0..groups[h].1], h > g) {
                kinds.insert(kind);
            }
        }
    }
    if kinds.is_empty() {
        return run.iter().collect();
    }
    found.extend(kinds);
    let total = run.iter().filter(|c| digit(**c).is_some() || is_x(**c)).count();
    let mut seen = 0;
    run.iter()
        .map(|&c| {
            if digit(c).is_none() && !is_x(c) {
                return c;
            }
            seen += 1;
            if seen <= 6 || seen > total.saturating_sub(4) { c } else { '*' }
        })
        .collect()
}

/// Whether a run is a card or ID number, and its masked form.
fn classify(run: &[char], gapped: bool) -> Option<(Sensitive, String)> {
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
    if digits.len() == 15 && !gapped {
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

    /// The spellings the attack pass typed (issue 24, finding 6): every one is masked.
    #[test]
    fn numbers_typed_any_way_are_masked() {
        let card = "6222020000030000178";
        let id = "110105199003071239";
        let script =
            |s: &str, zero: u32| -> String { s.chars().map(|c| char::from_u32(zero + (c as u32 - '0' as u32)).unwrap()).collect() };
        let grouped = |s: &str, sep: &str| -> String {
            s.chars().collect::<Vec<_>>().chunks(4).map(|g| g.iter().collect::<String>()).collect::<Vec<_>>().join(sep)
        };
        let mut spellings: Vec<String> = Vec::new();
        for sep in [
            " ", "-", ".", ",", "/", "\n", "\r\n", "\u{00A0}", "\u{3000}", "\u{2013}", "\u{2014}", "\u{2212}", "_", "·", "，", "．", " - ",
            "\u{200B}", "\u{00AD}",
        ] {
            spellings.push(grouped(card, sep));
            spellings.push(grouped(id, sep));
        }
        // Zero-width characters between every digit.
        spellings.push(card.chars().map(|c| format!("{c}\u{200B}")).collect());
        spellings.push(id.chars().map(|c| format!("{c}\u{FEFF}")).collect());
        for zero in [0xFF10, 0x0660, 0x06F0, 0x0966] {
            spellings.push(script(card, zero));
            spellings.push(grouped(&script(id, zero), " "));
        }
        // Mixed: full-width digits, ideographic spaces and a full-width dash.
        spellings.push(format!("{}－{}", script(&card[..8], 0xFF10), &card[8..]));
        for typed in &spellings {
            let r = redact(&format!("卡号：{typed}，请帮我看看"));
            assert!(!r.found.is_empty(), "not masked: {typed:?} -> {:?}", r.text);
            let digits: String = r.text.chars().filter_map(digit).collect();
            assert!(!digits.contains("0000030000") && !digits.contains("19900307"), "{typed:?} -> {:?}", r.text);
        }
        assert!(spellings.len() >= 26, "{}", spellings.len());
    }

    #[test]
    fn a_card_right_after_another_number_is_still_found() {
        let r = redact("金额 50 6222 0200 0003 0000 178 元");
        assert_eq!(r.text, "金额 50 6222 **** **** ***0 178 元");
        assert_eq!(r.found, BTreeSet::from([Sensitive::CardNumber]));
        let r = redact("6222020000030000178 12");
        assert_eq!(r.text, "622202***********78 12");
    }

    #[test]
    fn ordinary_numbers_stay_as_typed() {
        for text in ["订单 20261126，金额 1,234.56 元", "2026-11-26 14:30", "电话 139-1000-0000", "编号 12/34/56"] {
            assert_eq!(redact(text).text, text);
        }
    }

    #[test]
    fn both_in_one_text() {
        let r = redact("card 4392250040000209 id 110105199003071239");
        assert_eq!(r.text, "card 439225******0209 id 1101**********1239");
        assert_eq!(r.found.len(), 2);
    }
}
