//! Free text with card numbers typed into it any way (issue 24, finding 6):
//! masking never panics; what it leaves has nothing left to mask (so no
//! card or ID number survives in any spelling); and a card number spliced
//! into the text with any separators and format characters from the
//! fuzzer's bytes never comes out with its middle digits.
#![no_main]
use libfuzzer_sys::fuzz_target;

/// A Luhn-valid test card (ICBC debit, docs/test-cards.md).
const CARD: &str = "6222020000030000178";
/// What people put between digits, picked by the fuzzer's bytes.
const GAPS: &[&str] = &[" ", "-", ".", ",", "/", "\n", "\u{00A0}", "\u{3000}", "\u{2013}", "\u{200B}", "\u{FEFF}", "\u{00AD}", "－", "，", ""];

fuzz_target!(|data: &[u8]| {
    let Some((&split, rest)) = data.split_first() else { return };
    let (gaps, text) = rest.split_at(rest.len().min(CARD.len()));
    let Ok(text) = std::str::from_utf8(text) else { return };
    let redact = bangka_core::redact::redact;
    // Any text: nothing maskable is left.
    let once = redact(text);
    assert!(redact(&once.text).found.is_empty(), "{text:?} -> {:?}", once.text);
    // The card spliced in, each digit followed by a gap the fuzzer chose,
    // between two letters (so the card is a run of its own).
    let mut typed = String::new();
    for (i, d) in CARD.chars().enumerate() {
        typed.push(d);
        if i + 1 < CARD.len() {
            typed.push_str(gaps.get(i).map_or("", |b| GAPS[usize::from(*b) % GAPS.len()]));
        }
    }
    let at = text.char_indices().map(|(i, _)| i).nth(usize::from(split) % (text.chars().count() + 1)).unwrap_or(text.len());
    let whole = format!("{}卡{typed}号{}", &text[..at], &text[at..]);
    let r = redact(&whole);
    assert!(r.found.contains(&bangka_core::redact::Sensitive::CardNumber), "{whole:?} -> {:?}", r.text);
    // Between the two letters (the fuzzer's text may hold 卡 and 号 too: the last pair that
    // encloses the masked card is the one spliced in).
    let shown: Vec<String> = r.text.split('卡').filter_map(|p| p.split('号').next()).map(|p| p.chars().filter(|c| c.is_ascii_digit()).collect()).collect();
    assert!(shown.iter().any(|d| d == "6222020178"), "the card's middle digits survived: {whole:?} -> {:?}", r.text);
    assert!(redact(&r.text).found.is_empty(), "{:?}", r.text);
});
