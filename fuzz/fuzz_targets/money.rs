//! Amounts as JSON values (what a request body carries): parsing never
//! panics; an amount that parses is positive and displays.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    for currency in ["CNY", "HKD", "USD", "cny", ""] {
        if let Ok(m) = bangka_core::money::Money::parse(&v, currency) {
            assert!(m.minor() > 0, "{v}");
            let _ = m.display();
        }
    }
});
