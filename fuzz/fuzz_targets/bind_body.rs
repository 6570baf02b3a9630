//! A bind request body as it arrives (any bytes): the JSON is read, its
//! fields are parsed the way a bind parses them, and nothing panics; a
//! body that parses has a usable card and holder.
#![no_main]
use bangka_core::bind::{BindRequest, RawCardHolder};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(data) else { return };
    let field = |k: &str| v.get(k).and_then(|x| x.as_str());
    let raw = RawCardHolder {
        card_number: field("card_number").unwrap_or_default(),
        holder_name: field("holder_name").unwrap_or_default(),
        id_number: field("id_number").unwrap_or_default(),
        phone: field("phone").unwrap_or_default(),
        expiry: field("expiry"),
        cvv: field("cvv"),
    };
    let now = time::OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
    let _ = BindRequest::parse(raw, &bangka_core::bin::WalletPolicy::default(), now);
});
