//! Mainland mobile numbers: parsing never panics; one that parses is 11
//! digits starting with 1.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(p) = bangka_core::holder::Phone::parse(s) {
        let v = p.as_str();
        assert_eq!(v.len(), 11, "{v}");
        assert!(v.starts_with('1') && v.bytes().all(|b| b.is_ascii_digit()));
    }
});
