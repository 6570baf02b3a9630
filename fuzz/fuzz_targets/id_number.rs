//! Resident ID numbers: parsing never panics; one that parses is 18
//! characters, digits with an optional final X, with a correct check digit.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else { return };
    if let Ok(id) = bangka_core::holder::IdNumber::parse(s) {
        let v = id.expose();
        assert_eq!(v.len(), 18, "{v}");
        assert!(v[..17].bytes().all(|b| b.is_ascii_digit()));
        assert!(v.as_bytes()[17].is_ascii_digit() || v.ends_with('X'));
        assert!(!format!("{id:?}").contains(v), "Debug prints the number");
    }
});
