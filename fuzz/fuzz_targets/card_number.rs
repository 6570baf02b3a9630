//! Card numbers as a holder might type them: parsing never panics, and a
//! number that parses is digits only, of a card's length, with a correct
//! check digit, and its mask shows at most the first 6 and last 4.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(pan) = bangka_core::card::Pan::parse(s) {
        let digits = pan.expose();
        assert!(digits.bytes().all(|b| b.is_ascii_digit()));
        assert!((12..=19).contains(&digits.len()), "{}", digits.len());
        assert!(bangka_core::card::luhn_valid(digits));
        let masked = pan.masked();
        assert!(masked.chars().filter(char::is_ascii_digit).count() <= 10, "{masked}");
        let _ = bangka_core::bin::lookup(&pan);
        assert!(!format!("{pan:?}").contains(digits), "Debug prints the number");
    }
});
