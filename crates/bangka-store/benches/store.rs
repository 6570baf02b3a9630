//! The store alone, without HTTP in the way (issue 25): one audited write
//! unit (an insert and a commit at full durability), sealing a batch of 500
//! audit entries, and two reads a request makes (an API key by its hash, a
//! subject's audit entries), on a fresh SQLite file. A regression in the
//! store shows here before it hides in an end-to-end figure.
//!
//!     cargo bench -p bangka-store --bench store

use std::hint::black_box;

use bangka_core::mode::Mode;
use bangka_store::{Cause, Change, Store};
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

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let s = store(&rt);
    rt.block_on(s.insert_api_key("wallet", Mode::Test, "bench-key-hash", None, OffsetDateTime::now_utc())).unwrap();

    c.bench_function("audited_write_unit", |b| b.iter(|| rt.block_on(audited_write(&s, black_box("subject-w")))));
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
