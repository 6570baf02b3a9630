//! The store alone, without HTTP in the way (issue 25): one audited write
//! unit (an insert and a commit at full durability), one write-set applied
//! by the writer thread (an account with its audit entry and an attempt),
//! sealing a batch of 500 audit entries, and reads a request makes (an
//! account on the calling thread, an API key by its hash, a subject's audit
//! entries), on a fresh SQLite file. A regression in the store shows here
//! before it hides in an end-to-end figure.
//!
//!     cargo bench -p bangka-store --bench store

use std::hint::black_box;

use bangka_core::mode::Mode;
use bangka_store::{AttemptRow, Cause, Change, NewAccount, Store, new_id};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use time::OffsetDateTime;

fn store(rt: &tokio::runtime::Runtime) -> Store {
    let dir = std::env::temp_dir().join(format!("bangka-bench-{:016x}", rand::random::<u64>()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("bangka.db").display());
    rt.block_on(Store::connect(&url, None)).unwrap()
}

async fn audited_write(s: &Store, subject: &str) {
    let change = Change { action: "bench.write", subject, before: Some("a"), after: Some("b") };
    s.audit(Cause::api("key_bench"), change, OffsetDateTime::now_utc()).await.unwrap();
}

/// What a decided request hands the store: a new account, its audit entry
/// and an attempt, as one write-set through the writer thread (one commit,
/// fsync). Returns the account id.
async fn write_set(s: &Store, n: u64) -> String {
    let unit = s.deciding_unit(None);
    let phone = format!("+8613{:09}", n % 1_000_000_000 + 500_000_000);
    let new = NewAccount { mode: Mode::Test, phone: &phone, phone_verified_by_wallet: true, language: "zh-CN", email: None };
    let a = unit.stage_account(new, Cause::api("key_bench"), OffsetDateTime::now_utc()).await.unwrap();
    let attempt = AttemptRow {
        id: new_id("att"),
        account_id: a.id.clone(),
        kind: "bench".into(),
        binding_id: None,
        issuer: None,
        bin: None,
        last4: None,
        code: None,
        created_at: OffsetDateTime::now_utc(),
        card_fp: None,
        device_id: None,
        client_ip: None,
        phone_masked: None,
        client: None,
    };
    unit.stage_attempt(&attempt).await.unwrap();
    let _ = unit.finish_unit(None).await.unwrap();
    a.id
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let s = store(&rt);
    rt.block_on(s.insert_api_key("wallet", Mode::Test, "bench-key-hash", None, OffsetDateTime::now_utc())).unwrap();

    c.bench_function("audited_write_unit", |b| b.iter(|| rt.block_on(audited_write(&s, black_box("subject-w")))));
    let mut n = 0u64;
    c.bench_function("write_set_apply", |b| {
        b.iter(|| {
            n += 1;
            rt.block_on(write_set(&s, n));
        })
    });
    let account = rt.block_on(write_set(&s, 0));
    c.bench_function("read_account_inline", |b| b.iter(|| rt.block_on(s.get_account(black_box(&account))).unwrap().unwrap()));
    c.bench_function("seal_500_entries", |b| {
        b.iter_batched(
            || {
                rt.block_on(async {
                    // What other benches left pending first (untimed).
                    while s.seal_audit().await.unwrap() > 0 {}
                    for _ in 0..500 {
                        audited_write(&s, "subject-s").await;
                    }
                })
            },
            |()| assert_eq!(rt.block_on(s.seal_audit()).unwrap(), 500),
            BatchSize::PerIteration,
        )
    });
    c.bench_function("read_api_key", |b| {
        b.iter(|| rt.block_on(s.find_api_key(black_box("bench-key-hash"), OffsetDateTime::now_utc())).unwrap())
    });
    rt.block_on(async {
        for _ in 0..20 {
            audited_write(&s, "subject-r").await;
        }
    });
    c.bench_function("read_audit_entries_20", |b| b.iter(|| rt.block_on(s.audit_entries(black_box("subject-r"))).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
