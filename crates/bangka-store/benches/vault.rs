//! The vault's hot paths: sealing a PAN (fresh data key + two AES-256-GCM
//! seals), opening it, the keyed fingerprint, and re-wrapping one data key
//! (what a master key rotation does per card).
//!
//!     cargo bench -p bangka-store --bench vault

use bangka_core::card::{Pan, luhn_check_digit};
use bangka_store::Vault;
use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;

fn pan() -> Pan {
    let p = "622202000012345678";
    Pan::parse(&format!("{p}{}", luhn_check_digit(p))).unwrap()
}

fn vault(c: &mut Criterion) {
    let v = Vault::ephemeral();
    let p = pan();
    let sealed = v.seal_pan("vc_bench", &p);
    c.bench_function("seal_pan", |b| b.iter(|| v.seal_pan(black_box("vc_bench"), black_box(&p))));
    c.bench_function("open_pan", |b| b.iter(|| v.open_pan(black_box(&sealed)).unwrap()));
    c.bench_function("fingerprint", |b| b.iter(|| v.fingerprint(black_box(&p))));
    let token_key = v.new_token_key("tok_bench");
    let input = bangka_store::CryptogramInput {
        token_number: "9900011234567890",
        atc: 42,
        amount_minor: 1234,
        currency: "CNY",
        merchant_id: "m_bench",
        expires_at_ms: 1_800_000_000_000,
    };
    c.bench_function("cryptogram", |b| b.iter(|| v.cryptogram(black_box("tok_bench"), black_box(&token_key), black_box(&input)).unwrap()));
    c.bench_function("otp_mac", |b| b.iter(|| v.otp_mac(black_box("chl_bench"), black_box("123456"))));
}

criterion_group!(benches, vault);
criterion_main!(benches);
