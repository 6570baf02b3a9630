//! The store test suite, run against both backends.
//!
//! Every test is an `async fn name(store: Store)` registered with
//! [`on_both_backends!`], which turns it into `name::sqlite` (a fresh SQLite
//! file in a unique temp dir) and `name::postgres` (a fresh schema
//! `bk_test_<hex>` on `BANGKA_TEST_DATABASE_URL`, default
//! `postgres://postgres@127.0.0.1:5432/test`).
//!
//! If PostgreSQL does not answer, the `postgres` variants print a loud
//! `SKIPPED` line to stderr and pass — unless `BANGKA_REQUIRE_POSTGRES=1`,
//! which turns that into a failure (CI sets it).
//!
//! Run: `cargo test -p bangka-store --test store`.

use std::future::Future;
use std::io::Write;
use std::time::Duration as StdDuration;

use bangka_core::bind::KycState;
use bangka_core::binding::BindingStatus;
use bangka_core::card::{Pan, luhn_check_digit};
use bangka_core::otp::OtpPurpose;
use bangka_store::{
    AccountRow, ActivateOutcome, AttemptRow, BindingRow, Cause, Claim, Conflict, IdemState, KycRecord, MessageKind, NewAccount,
    NewChallenge, NewMessage, NewPendingBinding, NewToken, PendingOutcome, SealedCard, Store, StoreError, StoredAnswer, Vault, new_id,
    to_ms,
};
use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use time::macros::datetime;
use time::{Duration, OffsetDateTime};

// ======================================================================
// Harness: backends, per-test isolation, the two-backend macro
// ======================================================================

/// Registers `async fn $name(store: Store)` as `$name::sqlite` and
/// `$name::postgres`. `multi_thread $name` runs both on a 2-worker runtime
/// (for tests that race tasks against each other).
macro_rules! on_both_backends {
    ($name:ident) => {
        on_both_backends!(@emit $name, tokio::test);
    };
    (multi_thread $name:ident) => {
        on_both_backends!(@emit $name, tokio::test(flavor = "multi_thread", worker_threads = 2));
    };
    (@emit $name:ident, $($test:tt)+) => {
        mod $name {
            #[$($test)+]
            async fn sqlite() {
                super::run_on_sqlite(super::$name).await;
            }

            #[$($test)+]
            async fn postgres() {
                super::run_on_postgres(concat!(stringify!($name), "::postgres"), super::$name).await;
            }
        }
    };
}

fn random_hex() -> String {
    format!("{:016x}", rand::random::<u64>())
}

/// A store on a fresh SQLite file in a unique temp dir.
async fn sqlite_store() -> Store {
    let dir = std::env::temp_dir().join(format!("bangka-store-test-{}", random_hex()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let url = format!("sqlite://{}", dir.join("bangka.db").display());
    Store::connect(&url, None).await.unwrap_or_else(|e| panic!("cannot open SQLite store at {url}: {e}"))
}

/// The file behind a SQLite store (to clean up its temp dir afterwards).
async fn sqlite_file(store: &Store) -> std::path::PathBuf {
    let (file,): (String,) =
        sqlx::query_as("SELECT file FROM pragma_database_list WHERE name = 'main'").fetch_one(store.pool()).await.expect("database file");
    file.into()
}

fn pg_url() -> String {
    std::env::var("BANGKA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn postgres_required() -> bool {
    std::env::var("BANGKA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

/// A PostgreSQL test database: the store on a fresh schema, plus a separate
/// plain pool (outside that schema) used to drop it afterwards.
struct PgFixture {
    store: Store,
    admin: AnyPool,
    schema: String,
}

/// Connects to PostgreSQL with a fresh schema, or returns `None` (after a
/// loud notice) when no server answers and PostgreSQL is not required.
async fn postgres_store(test_name: &str) -> Option<PgFixture> {
    sqlx::any::install_default_drivers();
    let url = pg_url();
    let probe = tokio::time::timeout(
        StdDuration::from_secs(3),
        AnyPoolOptions::new().max_connections(1).acquire_timeout(StdDuration::from_secs(3)).connect(&url),
    )
    .await;
    let admin = match probe {
        Ok(Ok(pool)) => pool,
        // Reached a server, but it refused us (auth, unknown database, ...):
        // that is a misconfiguration, never a reason to skip.
        Ok(Err(e)) if !matches!(e, sqlx::Error::Io(_) | sqlx::Error::PoolTimedOut) => {
            panic!("PostgreSQL at {url} answered but the connection failed: {e}")
        }
        not_answering => {
            let why = match not_answering {
                Ok(Err(e)) => e.to_string(),
                _ => "no answer within 3 s".to_owned(),
            };
            if postgres_required() {
                panic!("BANGKA_REQUIRE_POSTGRES=1 but no PostgreSQL answers at {url} ({why}): {test_name}");
            }
            // Straight to stderr (not eprintln!, which the test harness
            // captures), so the skip is visible in a normal `cargo test`.
            let _ = writeln!(
                std::io::stderr().lock(),
                "\n!!!!! SKIPPED (no PostgreSQL at {url}: {why}): {test_name} — set BANGKA_REQUIRE_POSTGRES=1 to make this a failure !!!!!"
            );
            return None;
        }
    };
    let schema = format!("bk_test_{}", random_hex());
    let store =
        Store::connect(&url, Some(&schema)).await.unwrap_or_else(|e| panic!("cannot open PostgreSQL store in schema {schema}: {e}"));
    Some(PgFixture { store, admin, schema })
}

/// Runs `body` in its own task so a failing assertion still lets the
/// caller clean up; then re-raises the panic.
async fn run_guarded<F, Fut>(store: Store, body: F) -> Result<(), Box<dyn std::any::Any + Send>>
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let outcome = tokio::spawn(body(store.clone())).await;
    store.close().await;
    match outcome {
        Ok(()) => Ok(()),
        Err(e) if e.is_panic() => Err(e.into_panic()),
        Err(e) => panic!("test task did not finish: {e}"),
    }
}

async fn run_on_sqlite<F, Fut>(body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let store = sqlite_store().await;
    let file = sqlite_file(&store).await;
    let outcome = run_guarded(store, body).await;
    if let Some(dir) = file.parent() {
        let _ = std::fs::remove_dir_all(dir);
    }
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}

async fn run_on_postgres<F, Fut>(test_name: &str, body: F)
where
    F: FnOnce(Store) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let Some(PgFixture { store, admin, schema }) = postgres_store(test_name).await else { return };
    let outcome = run_guarded(store, body).await;
    let dropped = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema}, {schema}_card_keys CASCADE")).execute(&admin).await;
    admin.close().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    dropped.unwrap_or_else(|e| panic!("cannot drop test schema {schema}: {e}"));
}

// ======================================================================
// Fixtures
// ======================================================================

/// A fixed clock reading; tests move it explicitly.
fn t0() -> OffsetDateTime {
    datetime!(2025-06-01 08:00:00 UTC)
}

/// A Luhn-valid 19-digit UnionPay-style number; distinct `n` → distinct card.
fn pan(n: u64) -> Pan {
    let payload = format!("622202{n:012}");
    Pan::parse(&format!("{payload}{}", luhn_check_digit(&payload))).expect("valid test PAN")
}

fn phone(n: u32) -> String {
    format!("+86138{n:08}")
}

async fn account(store: &Store, n: u32) -> AccountRow {
    account_in(store, n, bangka_core::mode::Mode::Test).await
}

async fn account_in(store: &Store, n: u32, mode: bangka_core::mode::Mode) -> AccountRow {
    store
        .create_account(
            NewAccount { mode, phone: &phone(n), phone_verified_by_wallet: true, language: "zh-CN", email: None },
            Cause::job(),
            t0(),
        )
        .await
        .expect("db")
        .expect("phone free")
}

/// Everything one bind attempt writes: binding row, sealed PAN, challenge
/// and SMS, each with fresh ids.
struct BindAttempt {
    binding: BindingRow,
    sealed: SealedCard,
    challenge: NewChallenge,
    message: NewMessage,
}

const OTP: &str = "246810";

impl BindAttempt {
    fn new(vault: &Vault, account: &AccountRow, pan: &Pan, elements: &str, now: OffsetDateTime) -> BindAttempt {
        let vault_id = new_id("vc");
        let challenge_id = new_id("chl");
        let sealed = vault.seal_pan(&vault_id, pan);
        let binding = BindingRow {
            id: new_id("bnd"),
            account_id: account.id.clone(),
            fingerprint: vault.fingerprint(pan),
            vault_id: Some(vault_id),
            bin: pan.prefix(6).to_owned(),
            last4: pan.last4().to_owned(),
            brand: "unionpay".into(),
            card_type: "debit".into(),
            issuer: "ICBC".into(),
            expiry: Some("12/30".into()),
            phone: account.phone.clone(),
            elements_mac: vault.mac("elements", &[elements]),
            status: BindingStatus::PendingVerification,
            challenge_id: Some(challenge_id.clone()),
            created_at: now,
            updated_at: now,
            activated_at: None,
            frozen_reason: None,
            frozen_at: None,
        };
        let challenge = NewChallenge {
            id: challenge_id.clone(),
            purpose: OtpPurpose::Bind,
            phone: account.phone.clone(),
            code_mac: vault.otp_mac(&challenge_id, OTP),
            expires_at: now + Duration::minutes(5),
            sent_at: now,
            subject: None,
            context_mac: None,
        };
        let message = NewMessage {
            kind: MessageKind::Code { expires_at: now + Duration::minutes(5), channel: bangka_core::otp::CodeChannel::Sms },
            account_id: account.id.clone(),
            phone: account.phone.clone(),
            zh: format!("Bangka 验证码 {OTP}，尾号 {}", pan.last4()),
            en: format!("Bangka code {OTP} for card *{}", pan.last4()),
        };
        BindAttempt { binding, sealed, challenge, message }
    }

    fn id(&self) -> &str {
        &self.binding.id
    }

    fn vault_id(&self) -> &str {
        self.binding.vault_id.as_deref().unwrap()
    }

    async fn submit(&self, store: &Store, limit: u32, now: OffsetDateTime) -> PendingOutcome {
        store
            .create_pending_binding(NewPendingBinding {
                binding: &self.binding,
                sealed: &self.sealed,
                challenge: &self.challenge,
                message: &self.message,
                limit,
                cause: bangka_store::Cause::api("key_test"),
                now,
            })
            .await
            .expect("create_pending_binding: db error")
    }
}

async fn binding_status(store: &Store, a: &BindAttempt) -> BindingStatus {
    store.get_binding(&a.binding.account_id, a.id()).await.unwrap().expect("binding exists").status
}

/// Asserts the vault row is kept (fingerprint, shred time) but its key
/// material and ciphertext are gone.
async fn assert_shredded(store: &Store, a: &BindAttempt) {
    assert!(store.get_sealed(a.vault_id()).await.unwrap().is_none(), "vault row {} still opens", a.vault_id());
    type VaultRow = (String, Option<i64>, Option<Vec<u8>>, Option<Vec<u8>>);
    let (fingerprint, shredded_at, dek, ct): VaultRow =
        sqlx::query_as("SELECT fingerprint, shredded_at, wrapped_dek, pan_ct FROM vault_cards WHERE id = $1")
            .bind(a.vault_id())
            .fetch_one(store.pool())
            .await
            .expect("vault row kept for audit");
    assert_eq!(fingerprint, a.binding.fingerprint);
    assert!(shredded_at.is_some() && dek.is_none() && ct.is_none(), "vault row {} not shredded", a.vault_id());
    assert!(!store.card_key_exists(a.vault_id()).await.unwrap(), "the data key of {} is still in the card key store", a.vault_id());
}

fn token() -> NewToken {
    NewToken {
        id: new_id("tok"),
        number: format!("6299{:015}", rand::random::<u64>() % 1_000_000_000_000_000),
        key_sealed: vec![1],
        domain: "wallet".into(),
    }
}

fn notice(account: &AccountRow) -> NewMessage {
    NewMessage {
        kind: MessageKind::Notice,
        account_id: account.id.clone(),
        phone: account.phone.clone(),
        zh: "您的卡已绑定".into(),
        en: "Your card is now bound".into(),
    }
}

// ======================================================================
// 1. Accounts
// ======================================================================

/// A duplicate phone maps to `Conflict::PhoneTaken` (the backend's unique
/// violation is recognised); accounts round-trip; KYC settles once.
async fn accounts(store: Store) {
    let now = t0();
    let acc = store
        .create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(1),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            now,
        )
        .await
        .unwrap()
        .expect("first account");
    assert!(acc.id.starts_with("acc_"));

    let dup = store
        .create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(1),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            now,
        )
        .await
        .expect("a duplicate phone is not a db error");
    assert_eq!(dup.map(|a| a.id), Err(Conflict::PhoneTaken));
    let other = store
        .create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(2),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            now,
        )
        .await
        .unwrap()
        .expect("another phone is free");
    assert_ne!(other.id, acc.id);

    let got = store.get_account(&acc.id).await.unwrap().expect("account found");
    assert_eq!(got.id, acc.id);
    assert_eq!(got.phone, phone(1));
    assert_eq!(got.kyc, KycState::Unverified);
    assert_eq!(got.status, bangka_core::bind::AccountStatus::Active);
    assert_eq!(got.locked_until, None);
    assert_eq!(to_ms(got.created_at), to_ms(now));
    assert!(store.get_account("acc_missing").await.unwrap().is_none());

    let vault = Vault::ephemeral();
    let kyc = |name: &str, id: &str| KycRecord {
        status: KycState::Verified,
        name_mac: vault.mac("name", &[name]),
        id_mac: vault.mac("id", &[id]),
        name_sealed: vault.seal_value(&format!("{}/name", acc.id), name),
        id_sealed: vault.seal_value(&format!("{}/id", acc.id), id),
    };
    assert!(store.set_kyc(&acc.id, &kyc("张三", "110101199003077777"), Cause::job(), t0()).await.unwrap(), "first KYC is recorded");
    assert!(
        !store.set_kyc(&acc.id, &kyc("李四", "110101199003078888"), Cause::job(), t0()).await.unwrap(),
        "settled KYC is not overwritten"
    );
    let got = store.get_account(&acc.id).await.unwrap().unwrap();
    assert_eq!(got.kyc, KycState::Verified);
    assert_eq!(got.kyc_name_mac.as_deref(), Some(vault.mac("name", &["张三"]).as_str()));
    assert_eq!(got.kyc_id_mac.as_deref(), Some(vault.mac("id", &["110101199003077777"]).as_str()));
    assert_eq!(store.get_account(&other.id).await.unwrap().unwrap().kyc, KycState::Unverified, "only the target account changed");

    let until = now + Duration::minutes(30);
    let firing = bangka_store::Firing {
        rule: "account_failed_verifications",
        per: bangka_core::risk::Subject::Account,
        subject: &acc.id,
        account_id: &acc.id,
        attempt_id: None,
        count: 10,
    };
    store.risk_lock(&firing, until, t0()).await.unwrap();
    assert_eq!(store.get_account(&acc.id).await.unwrap().unwrap().locked_until.map(to_ms), Some(to_ms(until)));

    // Support's unlock is decided on the locks as read: one added since
    // refuses it whole, and it is decided again on what runs now.
    let locks = store.account_locks(&acc.id, t0()).await.unwrap();
    assert_eq!(locks.scopes(), ["account"]);
    let device = bangka_store::Firing { per: bangka_core::risk::Subject::Device, subject: "dev_store_test", ..firing };
    store.risk_lock(&device, until, t0()).await.unwrap();
    assert!(!store.unlock_account(&acc.id, &locks, Cause::job(), t0()).await.unwrap(), "a lock added since refuses the unlock");
    assert!(store.get_account(&acc.id).await.unwrap().unwrap().locked_until.is_some(), "nothing of the refused unlock is written");
    let locks = store.account_locks(&acc.id, t0()).await.unwrap();
    assert_eq!(locks.scopes(), ["account", "device"]);
    assert!(store.unlock_account(&acc.id, &locks, Cause::job(), t0()).await.unwrap());
    assert!(store.account_locks(&acc.id, t0()).await.unwrap().is_empty(), "every lock lifted");
    assert!(store.get_account(&acc.id).await.unwrap().unwrap().locked_until.is_none());
}
on_both_backends!(accounts);

// ======================================================================
// 2. API keys
// ======================================================================

/// Keys are found by hash only; unknown hashes and duplicate hashes fail.
/// A revoked key is never found again, an expired one from its expiry on,
/// and a rotated one until its overlap ends; each change is audited.
async fn api_keys(store: Store) {
    use bangka_core::mode::Mode;
    let id = store.insert_api_key("admin", Mode::Live, "hash-admin", None, t0()).await.unwrap();
    let other = store.insert_api_key("wallet", Mode::Test, "hash-wallet", None, t0()).await.unwrap();
    assert_ne!(id, other);
    let found = |h: &'static str, at: time::OffsetDateTime| {
        let store = store.clone();
        async move { store.find_api_key(h, at).await.unwrap().map(|k| (k.id, k.role, k.mode, k.merchant_id)) }
    };
    assert_eq!(found("hash-admin", t0()).await, Some((id.clone(), "admin".to_owned(), Mode::Live, None)));
    assert_eq!(found("hash-wallet", t0()).await, Some((other.clone(), "wallet".to_owned(), Mode::Test, None)));
    let shop = store.insert_api_key("merchant", Mode::Live, "hash-shop", Some("shop-1"), t0()).await.unwrap();
    assert_eq!(found("hash-shop", t0()).await, Some((shop, "merchant".to_owned(), Mode::Live, Some("shop-1".to_owned()))));
    assert!(store.find_api_key("hash-unknown", t0()).await.unwrap().is_none());
    assert!(store.insert_api_key("admin", Mode::Live, "hash-admin", None, t0()).await.is_err(), "key hashes are unique");

    // Revoked: gone at once, and revoking again changes nothing.
    // The key each answers is the key as stored.
    let (done, revoked) = store.revoke_api_key(&other, Cause::api("cli"), t0()).await.unwrap();
    assert_eq!(done, bangka_store::KeyChange::Done);
    let stored = store.get_api_key(&other).await.unwrap();
    assert_eq!(format!("{revoked:?}"), format!("{stored:?}"));
    assert!(found("hash-wallet", t0()).await.is_none());
    assert_eq!(store.revoke_api_key(&other, Cause::api("cli"), t0()).await.unwrap().0, bangka_store::KeyChange::Revoked);
    assert_eq!(store.revoke_api_key("key_none", Cause::api("cli"), t0()).await.unwrap().0, bangka_store::KeyChange::NotFound);
    // Expiring: found until its expiry.
    let k = bangka_store::NewApiKey {
        role: "wallet",
        mode: Mode::Live,
        key_hash: "hash-brief",
        name: Some("brief"),
        merchant_id: None,
        expires_at: Some(t0() + Duration::hours(1)),
        api_version: bangka_core::api_version::ApiVersion::CURRENT,
    };
    store.create_api_key(k, Cause::api("cli"), t0()).await.unwrap();
    assert!(found("hash-brief", t0() + Duration::minutes(59)).await.is_some());
    assert!(found("hash-brief", t0() + Duration::hours(1)).await.is_none());
    // Rotated: both work during the overlap, then only the new one.
    let rotated = store.rotate_api_key(&id, "hash-admin-2", Duration::hours(2), Cause::api("cli"), t0()).await.unwrap().unwrap();
    let stored = store.get_api_key(&rotated.id).await.unwrap().unwrap();
    assert_eq!(format!("{rotated:?}"), format!("{stored:?}"));
    let new = rotated.id;
    assert!(found("hash-admin", t0() + Duration::hours(1)).await.is_some());
    assert_eq!(found("hash-admin-2", t0() + Duration::hours(1)).await.map(|k| k.0), Some(new.clone()));
    assert!(found("hash-admin", t0() + Duration::hours(2)).await.is_none());
    assert!(found("hash-admin-2", t0() + Duration::days(30)).await.is_some());
    assert!(store.rotate_api_key(&id, "hash-admin-3", Duration::hours(2), Cause::api("cli"), t0()).await.unwrap().is_err(), "rotated once");
    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(listed.iter().find(|k| k.id == id).unwrap().replaced_by.as_deref(), Some(new.as_str()));
    assert_eq!(listed.iter().find(|k| k.id == new).unwrap().role, "admin");
    // Last use, noted at most once a minute.
    store.touch_api_key(&new, t0()).await.unwrap();
    store.touch_api_key(&new, t0() + Duration::seconds(30)).await.unwrap();
    assert_eq!(store.get_api_key(&new).await.unwrap().unwrap().last_used_at, Some(t0()));
    let actions: Vec<String> = store.audit_entries(&id).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(actions, ["api_key.create", "api_key.rotate"]);
}
on_both_backends!(api_keys);

// ======================================================================
// 3. Pending bindings: Created / Existing / superseded / Duplicate / limit
// ======================================================================

/// The whole life of a pending binding: a repeat with the same elements
/// reuses it, other elements supersede it (old one failed and its PAN
/// shredded), activation issues a token, a live card is a duplicate, and
/// the limit lists the live cards.
async fn pending_binding_lifecycle(store: Store) {
    let vault = Vault::ephemeral();
    let acc = account(&store, 1).await;
    let card = pan(1);
    let now = t0();

    // Created: everything is written.
    let first = BindAttempt::new(&vault, &acc, &card, "elements-A", now);
    assert!(matches!(first.submit(&store, 5, now).await, PendingOutcome::Created));
    let row = store.get_binding(&acc.id, first.id()).await.unwrap().expect("binding stored");
    assert_eq!(row.status, BindingStatus::PendingVerification);
    assert_eq!(row.fingerprint, vault.fingerprint(&card));
    assert_eq!((row.bin.as_str(), row.last4.as_str()), ("622202", card.last4()));
    assert_eq!(row.challenge_id.as_deref(), Some(first.challenge.id.as_str()));
    let sealed = store.get_sealed(first.vault_id()).await.unwrap().expect("sealed PAN stored");
    assert_eq!(vault.open_pan(&sealed).unwrap(), card);
    let chl = store.get_challenge(&first.challenge.id).await.unwrap().expect("challenge stored");
    assert_eq!(chl.challenge.attempts, 0);
    assert!(!chl.challenge.passed);
    assert_eq!(store.pending_binding_for_card(&acc.id, &row.fingerprint).await.unwrap().map(|b| b.id), Some(first.id().to_owned()));
    assert!(store.get_binding("acc_other", first.id()).await.unwrap().is_none(), "bindings are scoped to their account");

    // Existing: same card, same elements, challenge usable → nothing new written.
    let again = BindAttempt::new(&vault, &acc, &card, "elements-A", now + Duration::seconds(30));
    match again.submit(&store, 5, now + Duration::seconds(30)).await {
        PendingOutcome::Existing(b) => assert_eq!(b.id, first.id()),
        other => panic!("expected Existing, got {other:?}"),
    }
    assert!(store.get_binding(&acc.id, again.id()).await.unwrap().is_none());
    assert!(store.get_sealed(again.vault_id()).await.unwrap().is_none(), "no vault row for a reused attempt");
    assert!(store.get_challenge(&again.challenge.id).await.unwrap().is_none(), "no challenge for a reused attempt");

    // Other elements: a new binding; the old one fails and its PAN is shredded.
    let second = BindAttempt::new(&vault, &acc, &card, "elements-B", now + Duration::seconds(60));
    assert!(matches!(second.submit(&store, 5, now + Duration::seconds(60)).await, PendingOutcome::Created));
    assert_eq!(binding_status(&store, &first).await, BindingStatus::Failed);
    assert_shredded(&store, &first).await;
    assert_eq!(binding_status(&store, &second).await, BindingStatus::PendingVerification);
    assert!(store.get_sealed(second.vault_id()).await.unwrap().is_some());
    assert_eq!(store.list_bindings(&acc.id, false).await.unwrap().len(), 1, "failed attempts are hidden by default");
    assert_eq!(store.list_bindings(&acc.id, true).await.unwrap().len(), 2);

    // Activation: active, token issued, challenge passed; a second confirm loses.
    let pending = store.get_binding(&acc.id, second.id()).await.unwrap().unwrap();
    let t_act = now + Duration::minutes(2);
    let tok = token();
    assert!(matches!(
        store
            .activate_binding(
                &pending,
                &tok,
                &notice(&acc),
                5,
                bangka_store::Trail { cause: bangka_store::Cause::api("key_test"), receipt: &receipt_draft(&pending.account_id) },
                t_act
            )
            .await
            .unwrap(),
        ActivateOutcome::Activated
    ));
    let active = store.get_binding(&acc.id, second.id()).await.unwrap().unwrap();
    assert_eq!(active.status, BindingStatus::Active);
    assert_eq!(active.activated_at.map(to_ms), Some(to_ms(t_act)));
    let stored = store.token_for_binding(second.id()).await.unwrap().expect("token issued");
    assert_eq!(
        (stored.id.as_str(), stored.number.as_str(), stored.state.status.as_str()),
        (tok.id.as_str(), tok.number.as_str(), "active")
    );
    assert_eq!(stored.binding_id, second.id());
    assert!(store.get_challenge(&second.challenge.id).await.unwrap().unwrap().challenge.passed);
    assert!(
        matches!(
            store
                .activate_binding(
                    &pending,
                    &token(),
                    &notice(&acc),
                    5,
                    bangka_store::Trail { cause: bangka_store::Cause::api("key_test"), receipt: &receipt_draft(&pending.account_id) },
                    t_act
                )
                .await
                .unwrap(),
            ActivateOutcome::NotPending
        ),
        "already active"
    );
    assert!(store.token_for_binding(first.id()).await.unwrap().is_none());
    assert_eq!(store.live_binding_for_card(&acc.id, &active.fingerprint).await.unwrap().as_deref(), Some(second.id()));

    // Duplicate: the card is live in this account.
    let dup = BindAttempt::new(&vault, &acc, &card, "elements-A", now + Duration::minutes(3));
    match dup.submit(&store, 5, now + Duration::minutes(3)).await {
        PendingOutcome::Duplicate(id) => assert_eq!(id, second.id()),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    assert!(store.get_binding(&acc.id, dup.id()).await.unwrap().is_none());

    // Limit: one live card and limit 1 → another card is refused, listing it.
    let other_card = pan(2);
    let over = BindAttempt::new(&vault, &acc, &other_card, "elements-C", now + Duration::minutes(4));
    match over.submit(&store, 1, now + Duration::minutes(4)).await {
        PendingOutcome::LimitReached(live) => {
            assert_eq!(live.len(), 1);
            assert_eq!(live[0].binding_id, second.id());
            assert_eq!(live[0].last4, card.last4());
            assert_eq!(live[0].issuer, "ICBC");
        }
        other => panic!("expected LimitReached, got {other:?}"),
    }
    assert!(store.get_binding(&acc.id, over.id()).await.unwrap().is_none());
    // ... while limit 2 lets it through.
    assert!(matches!(over.submit(&store, 2, now + Duration::minutes(4)).await, PendingOutcome::Created));
    assert_eq!(store.live_cards(&acc.id).await.unwrap().len(), 1, "a pending binding is not live");

    // Another account may bind the same card.
    let acc2 = account(&store, 2).await;
    let elsewhere = BindAttempt::new(&vault, &acc2, &card, "elements-A", now + Duration::minutes(5));
    assert!(matches!(elsewhere.submit(&store, 1, now + Duration::minutes(5)).await, PendingOutcome::Created));

    // A token number already in use rolls the activation back whole.
    let pending2 = store.get_binding(&acc2.id, elsewhere.id()).await.unwrap().unwrap();
    let clash = NewToken { id: new_id("tok"), number: tok.number.clone(), domain: "wallet:test".into(), key_sealed: vec![1] };
    assert!(matches!(
        store
            .activate_binding(
                &pending2,
                &clash,
                &notice(&acc2),
                5,
                bangka_store::Trail { cause: bangka_store::Cause::api("key_test"), receipt: &receipt_draft(&pending2.account_id) },
                now + Duration::minutes(6)
            )
            .await
            .unwrap(),
        ActivateOutcome::TokenNumberTaken
    ));
    assert_eq!(store.get_binding(&acc2.id, elsewhere.id()).await.unwrap().unwrap().status, BindingStatus::PendingVerification);
    assert!(matches!(
        store
            .activate_binding(
                &pending2,
                &token(),
                &notice(&acc2),
                5,
                bangka_store::Trail { cause: bangka_store::Cause::api("key_test"), receipt: &receipt_draft(&pending2.account_id) },
                now + Duration::minutes(6)
            )
            .await
            .unwrap(),
        ActivateOutcome::Activated
    ));
}
on_both_backends!(pending_binding_lifecycle);

/// A pending binding whose challenge can no longer pass (tries used up, or
/// expired) is replaced even with identical elements, and its PAN shredded;
/// `fail_pending_binding` shreds too.
async fn spent_challenge_is_superseded(store: Store) {
    let vault = Vault::ephemeral();
    let acc = account(&store, 1).await;
    let card = pan(7);
    let now = t0();

    let first = BindAttempt::new(&vault, &acc, &card, "same", now);
    assert!(matches!(first.submit(&store, 5, now).await, PendingOutcome::Created));
    for _ in 0..5 {
        assert!(store.count_wrong_otp(&first.challenge.id, 5).await.unwrap());
    }
    let second = BindAttempt::new(&vault, &acc, &card, "same", now + Duration::seconds(10));
    assert!(matches!(second.submit(&store, 5, now + Duration::seconds(10)).await, PendingOutcome::Created), "exhausted challenge");
    assert_eq!(binding_status(&store, &first).await, BindingStatus::Failed);
    assert_shredded(&store, &first).await;

    // second's challenge expires at now+10s+5min.
    let late = now + Duration::minutes(6);
    let third = BindAttempt::new(&vault, &acc, &card, "same", late);
    assert!(matches!(third.submit(&store, 5, late).await, PendingOutcome::Created), "expired challenge");
    assert_eq!(binding_status(&store, &second).await, BindingStatus::Failed);
    assert_shredded(&store, &second).await;

    let row = store.get_binding(&acc.id, third.id()).await.unwrap().unwrap();
    store.fail_pending_binding(&row, bangka_store::Cause::api("key_test"), late + Duration::minutes(1)).await.unwrap();
    let trail: Vec<String> = store.audit_entries(third.id()).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["binding.pending", "binding.fail"]);
    let superseded: Vec<String> = store.audit_entries(second.id()).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(superseded, ["binding.pending", "binding.fail"], "a superseded attempt is audited as failed");
    assert_eq!(binding_status(&store, &third).await, BindingStatus::Failed);
    assert_shredded(&store, &third).await;
    assert!(store.pending_binding_for_card(&acc.id, &row.fingerprint).await.unwrap().is_none());
    assert_eq!(store.list_bindings(&acc.id, true).await.unwrap().len(), 3);
    assert!(store.list_bindings(&acc.id, false).await.unwrap().is_empty());
}
on_both_backends!(spent_challenge_is_superseded);

// ======================================================================
// 4. Concurrent pending bindings
// ======================================================================

/// 20 simultaneous identical bind requests: one creates, 19 get the same
/// existing binding; one binding row and one SMS in the end.
async fn concurrent_pending_binding_creates_once(store: Store) {
    let vault = Vault::ephemeral();
    let acc = account(&store, 1).await;
    let card = pan(3);
    let now = t0();

    let tasks: Vec<_> = (0..20)
        .map(|_| {
            let store = store.clone();
            let attempt = BindAttempt::new(&vault, &acc, &card, "identical", now);
            tokio::spawn(async move {
                let outcome = attempt.submit(&store, 5, now).await;
                (attempt.binding.id, outcome)
            })
        })
        .collect();
    let mut created = Vec::new();
    let mut existing = Vec::new();
    for t in tasks {
        match t.await.expect("task") {
            (id, PendingOutcome::Created) => created.push(id),
            (_, PendingOutcome::Existing(b)) => existing.push(b.id),
            (_, other) => panic!("unexpected outcome {other:?}"),
        }
    }
    assert_eq!(created.len(), 1, "exactly one Created, got {created:?}");
    assert_eq!(existing.len(), 19);
    assert!(existing.iter().all(|id| *id == created[0]), "every Existing points at the created binding");

    let all = store.list_bindings(&acc.id, true).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].id, created[0]);
    assert_eq!(store.due_messages(t0(), t0(), 100).await.unwrap().len(), 1, "one SMS, not one per request");
}
on_both_backends!(multi_thread concurrent_pending_binding_creates_once);

// ======================================================================
// 5. Wrong OTP counting
// ======================================================================

async fn challenge_for(store: &Store, n: u32) -> (AccountRow, BindAttempt) {
    let vault = Vault::ephemeral();
    let acc = account(store, n).await;
    let attempt = BindAttempt::new(&vault, &acc, &pan(u64::from(n)), "e", t0());
    assert!(matches!(attempt.submit(store, 5, t0()).await, PendingOutcome::Created));
    (acc, attempt)
}

/// Wrong codes are counted at most `max_attempts` times; a passed challenge
/// counts none.
async fn wrong_otp_counts_stop_at_max(store: Store) {
    let (_, a) = challenge_for(&store, 1).await;
    let mut counted = 0;
    for _ in 0..7 {
        counted += usize::from(store.count_wrong_otp(&a.challenge.id, 5).await.unwrap());
    }
    assert_eq!(counted, 5);
    assert_eq!(store.get_challenge(&a.challenge.id).await.unwrap().unwrap().challenge.attempts, 5);
    assert!(!store.count_wrong_otp("chl_missing", 5).await.unwrap());

    let (acc, b) = challenge_for(&store, 2).await;
    assert!(store.count_wrong_otp(&b.challenge.id, 5).await.unwrap());
    let row = store.get_binding(&acc.id, b.id()).await.unwrap().unwrap();
    assert!(matches!(
        store
            .activate_binding(
                &row,
                &token(),
                &notice(&acc),
                5,
                bangka_store::Trail { cause: bangka_store::Cause::api("key_test"), receipt: &receipt_draft(&row.account_id) },
                t0()
            )
            .await
            .unwrap(),
        ActivateOutcome::Activated
    ));
    assert!(!store.count_wrong_otp(&b.challenge.id, 5).await.unwrap(), "passed challenge");
    assert_eq!(store.get_challenge(&b.challenge.id).await.unwrap().unwrap().challenge.attempts, 1);
}
on_both_backends!(wrong_otp_counts_stop_at_max);

/// 10 simultaneous wrong codes: exactly 5 are counted.
async fn wrong_otp_counts_concurrently_stop_at_max(store: Store) {
    let (_, a) = challenge_for(&store, 1).await;
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let store = store.clone();
            let id = a.challenge.id.clone();
            tokio::spawn(async move { store.count_wrong_otp(&id, 5).await.unwrap() })
        })
        .collect();
    let mut counted = 0;
    for t in tasks {
        counted += usize::from(t.await.unwrap());
    }
    assert_eq!(counted, 5);
    assert_eq!(store.get_challenge(&a.challenge.id).await.unwrap().unwrap().challenge.attempts, 5);
}
on_both_backends!(multi_thread wrong_otp_counts_concurrently_stop_at_max);

// ======================================================================
// 6. Idempotency
// ======================================================================

fn claim(scope: &str, key: &str, hash: &str) -> Claim {
    Claim { scope: scope.into(), key: key.into(), request_hash: hash.into(), at: t0(), owned: false }
}

async fn account_count(store: &Store) -> i64 {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM accounts").fetch_one(store.pool()).await.unwrap();
    n
}

/// A unit commits its claim, its effect and its answer together; a repeat
/// finds the answer, another request under the key a mismatch, another
/// scope nothing.
async fn a_unit_commits_claim_effect_and_answer_together(store: Store) {
    assert_eq!(store.idem_peek("acc_1", "k1", "h1").await.unwrap(), None);
    let unit = store.unit(Some(claim("acc_1", "k1", "h1")));
    let acc = unit
        .create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(1),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            t0(),
        )
        .await
        .unwrap();
    let acc = acc.expect("phone free");
    // Not visible outside the unit before it commits.
    assert_eq!(store.get_account(&acc.id).await.unwrap().map(|a| a.id), None);
    assert_eq!(store.idem_peek("acc_1", "k1", "h1").await.unwrap(), None);
    let after = unit.finish_unit(Some(StoredAnswer::lasting(201, r#"{"id":"x"}"#))).await.unwrap();
    assert!(after.messages.is_empty());
    assert!(store.get_account(&acc.id).await.unwrap().is_some());
    let answered = IdemState::Answered { status: 201, response: r#"{"id":"x"}"#.into(), resume: None };
    assert_eq!(store.idem_peek("acc_1", "k1", "h1").await.unwrap(), Some(answered));
    assert_eq!(store.idem_peek("acc_1", "k1", "h2").await.unwrap(), Some(IdemState::Mismatch));
    assert_eq!(store.idem_peek("acc_2", "k1", "h1").await.unwrap(), None, "keys are per scope");
}
on_both_backends!(a_unit_commits_claim_effect_and_answer_together);

/// A unit aborted, or dropped unfinished (a crash, a cancelled request),
/// leaves nothing: no claim, no effect. A store method that gives up (a
/// duplicate phone) rolls back only its own part of the unit.
async fn an_unfinished_unit_leaves_nothing(store: Store) {
    let unit = store.unit(Some(claim("acc_1", "k1", "h1")));
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(1),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    unit.abort_unit().await;
    assert_eq!(account_count(&store).await, 0);
    assert_eq!(store.idem_peek("acc_1", "k1", "h1").await.unwrap(), None);

    {
        let unit = store.unit(Some(claim("acc_1", "k2", "h1")));
        unit.create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(2),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            t0(),
        )
        .await
        .unwrap()
        .unwrap();
        // Dropped here without finishing.
    }
    // The writer is free again and nothing of the dropped unit stands.
    account(&store, 3).await;
    assert_eq!(account_count(&store).await, 1);
    assert_eq!(store.idem_peek("acc_1", "k2", "h1").await.unwrap(), None);

    let unit = store.unit(None);
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(4),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    let dup = unit
        .create_account(
            NewAccount {
                mode: bangka_core::mode::Mode::Live,
                phone: &phone(4),
                phone_verified_by_wallet: true,
                language: "zh-CN",
                email: None,
            },
            Cause::job(),
            t0(),
        )
        .await
        .unwrap();
    assert!(dup.is_err(), "the second is a conflict, rolled back alone");
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(5),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    let _ = unit.finish_unit(None).await.unwrap();
    assert_eq!(account_count(&store).await, 3);
}
on_both_backends!(an_unfinished_unit_leaves_nothing);

/// A checkpoint commits the intent with a note on how to resume; the claim
/// is then running, and the unit's finish later answers it.
async fn a_checkpoint_commits_the_intent_and_the_resume_note(store: Store) {
    let unit = store.unit(Some(claim("acc_1", "k1", "h1")));
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(1),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    unit.checkpoint(r#"{"kind":"x"}"#, t0()).await.unwrap();
    assert!(!unit.holds_open_unit(), "no transaction is open after a checkpoint");
    assert_eq!(account_count(&store).await, 1);
    let running = IdemState::Running { resume: Some(r#"{"kind":"x"}"#.into()), since: t0() };
    assert_eq!(store.idem_peek("acc_1", "k1", "h1").await.unwrap(), Some(running));
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(2),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    let _ = unit.finish_unit(Some(StoredAnswer::lasting(200, "{}"))).await.unwrap();
    assert_eq!(account_count(&store).await, 2);
    assert_eq!(
        store.idem_peek("acc_1", "k1", "h1").await.unwrap(),
        Some(IdemState::Answered { status: 200, response: "{}".into(), resume: None })
    );

    // A resumer owns the claim: its answer stands only if none stands yet.
    let late = store.unit(Some(Claim { owned: true, ..claim("acc_1", "k1", "h1") }));
    assert!(matches!(late.finish_unit(Some(StoredAnswer::lasting(500, "{}"))).await, Err(StoreError::ClaimTaken)));

    // A running claim with nothing to resume (left by an older version) can be taken over once.
    let unit = store.unit(Some(claim("acc_1", "k9", "h1")));
    unit.create_account(
        NewAccount {
            mode: bangka_core::mode::Mode::Live,
            phone: &phone(3),
            phone_verified_by_wallet: true,
            language: "zh-CN",
            email: None,
        },
        Cause::job(),
        t0(),
    )
    .await
    .unwrap()
    .unwrap();
    let _ = unit.finish_unit(None).await.unwrap();
    let Some(IdemState::Running { resume: None, since }) = store.idem_peek("acc_1", "k9", "h1").await.unwrap() else {
        panic!("a claim without an answer is running")
    };
    assert!(store.idem_take_over("acc_1", "k9", since).await.unwrap());
    assert!(!store.idem_take_over("acc_1", "k9", since).await.unwrap());
}
on_both_backends!(a_checkpoint_commits_the_intent_and_the_resume_note);

/// 10 simultaneous units under one key: one commits its effect and answer,
/// the others find the claim taken and write nothing.
async fn concurrent_units_under_one_key_make_one_effect(store: Store) {
    let tasks: Vec<_> = (0..10)
        .map(|i| {
            let unit = store.unit(Some(claim("acc_1", "same", "h")));
            tokio::spawn(async move {
                let made = unit
                    .create_account(
                        NewAccount {
                            mode: bangka_core::mode::Mode::Live,
                            phone: &phone(i),
                            phone_verified_by_wallet: true,
                            language: "zh-CN",
                            email: None,
                        },
                        Cause::job(),
                        t0(),
                    )
                    .await;
                match made {
                    Ok(_) => unit.finish_unit(Some(StoredAnswer::lasting(201, "{}"))).await.map(|_| ()),
                    Err(e) => {
                        unit.abort_unit().await;
                        Err(e)
                    }
                }
            })
        })
        .collect();
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::ClaimTaken) => {}
            Err(e) => panic!("unexpected {e}"),
        }
    }
    assert_eq!(won, 1);
    assert_eq!(account_count(&store).await, 1);
}
on_both_backends!(multi_thread concurrent_units_under_one_key_make_one_effect);

/// Many concurrent writers, some of them failing or cancelled mid-unit:
/// every finished unit is durable when it returns, nothing of the others.
async fn group_commit_keeps_every_finished_unit_and_nothing_else(store: Store) {
    let tasks: Vec<_> = (0..200u32)
        .map(|i| {
            let unit = store.unit(Some(claim("acc_1", &format!("k{i}"), "h")));
            tokio::spawn(async move {
                unit.create_account(
                    NewAccount {
                        mode: bangka_core::mode::Mode::Live,
                        phone: &phone(i),
                        phone_verified_by_wallet: true,
                        language: "zh-CN",
                        email: None,
                    },
                    Cause::job(),
                    t0(),
                )
                .await
                .unwrap()
                .unwrap();
                match i % 10 {
                    3 => {
                        unit.abort_unit().await;
                        false
                    }
                    // Cancelled while holding the writer: dropped unfinished.
                    7 => false,
                    _ => {
                        let _ = unit.finish_unit(Some(StoredAnswer::lasting(201, "{}"))).await.unwrap();
                        true
                    }
                }
            })
        })
        .collect();
    let mut finished = 0;
    for t in tasks {
        finished += i64::from(t.await.unwrap());
    }
    assert_eq!(finished, 160);
    assert_eq!(account_count(&store).await, 160);
    let (answered,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM idempotency WHERE status_code IS NOT NULL").fetch_one(store.pool()).await.unwrap();
    assert_eq!(answered, 160);
}
on_both_backends!(multi_thread group_commit_keeps_every_finished_unit_and_nothing_else);

/// Rows of `table` (for counting what a write-set left).
async fn rows(store: &Store, table: &str) -> i64 {
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(store.pool()).await.unwrap();
    n
}

fn attempt_for(a: &BindAttempt) -> AttemptRow {
    AttemptRow {
        id: new_id("att"),
        account_id: a.binding.account_id.clone(),
        kind: "bind".into(),
        binding_id: Some(a.id().into()),
        issuer: Some("ICBC".into()),
        bin: None,
        last4: None,
        code: None,
        created_at: t0(),
        card_fp: None,
        device_id: None,
        client_ip: None,
        phone_masked: None,
        client: None,
    }
}

/// Stages `a` (and its attempt) in a deciding unit under `key` and
/// finishes it with an answer.
async fn bind_as_write_set(store: &Store, a: &BindAttempt, key: &str) -> Result<bangka_store::AfterCommit, StoreError> {
    let unit = store.deciding_unit(Some(claim(&a.binding.account_id, key, "h")));
    assert!(unit.defers().await, "a deciding unit defers until it opens");
    let new = NewPendingBinding {
        binding: &a.binding,
        sealed: &a.sealed,
        challenge: &a.challenge,
        message: &a.message,
        limit: 5,
        cause: Cause::api("key_test"),
        now: t0(),
    };
    unit.stage_pending_binding(new, ("zh-CN", None)).await?;
    unit.stage_attempt(&attempt_for(a)).await?;
    // Staged, not written: the flow has not taken the writer.
    assert!(!unit.holds_open_unit());
    assert!(store.get_binding(&a.binding.account_id, a.id()).await.unwrap().is_none());
    unit.finish_unit(Some(StoredAnswer::lasting(202, r#"{"status":"pending_verification"}"#))).await
}

/// A write-set is applied whole with its claim and answer, or refused
/// whole when what it was decided on has moved: the second attempt of one
/// card was decided on "no binding of this card" and finds one at its
/// apply, so nothing of it stands (no claim, no binding, no attempt, no
/// message, its card key forgotten) and its caller decides again.
async fn a_write_set_is_applied_whole_or_refused_whole(store: Store) {
    let vault = Vault::ephemeral();
    store.attach_vault(&vault);
    let acc = account(&store, 1).await;
    let (attempts, messages, audit) = (rows(&store, "attempts").await, rows(&store, "outbox").await, rows(&store, "audit_log").await);
    let first = BindAttempt::new(&vault, &acc, &pan(1), "e1", t0());
    let after = bind_as_write_set(&store, &first, "k1").await.expect("applied");
    assert_eq!(after.messages.len(), 1, "the code's SMS is delivered after the commit");
    assert_eq!(binding_status(&store, &first).await, BindingStatus::PendingVerification);
    assert!(store.get_sealed(first.vault_id()).await.unwrap().is_some(), "the card opens");
    assert_eq!(store.get_challenge(&first.challenge.id).await.unwrap().map(|c| c.sends), Some(1));
    assert_eq!(rows(&store, "attempts").await, attempts + 1);
    assert_eq!(rows(&store, "outbox").await, messages + 1);
    assert_eq!(rows(&store, "audit_log").await, audit + 1);
    assert!(matches!(store.idem_peek(&acc.id, "k1", "h").await.unwrap(), Some(IdemState::Answered { status: 202, .. })));

    let second = BindAttempt::new(&vault, &acc, &pan(1), "e2", t0());
    let refused = bind_as_write_set(&store, &second, "k2").await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert!(store.get_binding(&acc.id, second.id()).await.unwrap().is_none());
    assert!(store.get_sealed(second.vault_id()).await.unwrap().is_none());
    assert!(!store.card_key_exists(second.vault_id()).await.unwrap(), "the refused card's key is forgotten");
    assert_eq!(store.idem_peek(&acc.id, "k2", "h").await.unwrap(), None, "a retry runs for the first time");
    assert_eq!(rows(&store, "attempts").await, attempts + 1);
    assert_eq!(rows(&store, "outbox").await, messages + 1);
    assert_eq!(rows(&store, "audit_log").await, audit + 1);

    // A key already claimed refuses the write-set as taken.
    let third = BindAttempt::new(&vault, &acc, &pan(2), "e3", t0());
    assert!(matches!(bind_as_write_set(&store, &third, "k1").await, Err(StoreError::ClaimTaken)));
    assert!(store.get_binding(&acc.id, third.id()).await.unwrap().is_none());
}
on_both_backends!(a_write_set_is_applied_whole_or_refused_whole);

/// Past its checkpoint, a deciding unit does not decide again: its intent
/// (here a pending autopay agreement) is committed with the resume note,
/// and a later write-set decided on that intent (pending → active, after
/// the bank) that finds it moved (the holder cancelled it meanwhile) is
/// refused whole, leaving the intent and the note for the request to be
/// finished by, as after a crash at that point.
async fn past_its_checkpoint_a_refused_write_set_leaves_the_intent_and_its_resume_note(store: Store) {
    let vault = Vault::ephemeral();
    store.attach_vault(&vault);
    let acc = account(&store, 7).await;
    let a = BindAttempt::new(&vault, &acc, &pan(7), "e", t0());
    let _ = bind_as_write_set(&store, &a, "k0").await.expect("applied");
    let unit = store.deciding_unit(Some(claim(&acc.id, "k", "h")));
    let new = bangka_store::NewMandate {
        id: "mdt_1",
        account_id: &acc.id,
        binding_id: a.id(),
        merchant_id: "m_1",
        kind: bangka_core::mandate::MandateKind::Subscription,
        max_amount: 100,
        currency: "CNY",
    };
    assert!(unit.create_mandate(&new, Cause::api("key_test"), t0()).await.unwrap(), "staged");
    assert!(store.get_mandate(&acc.id, "mdt_1").await.unwrap().is_none(), "staged, not written");
    unit.checkpoint(r#"{"resume":"mandate"}"#, t0()).await.unwrap();
    assert!(!unit.is_deciding(), "past the checkpoint it does not decide again");
    let pending = store.get_mandate(&acc.id, "mdt_1").await.unwrap().expect("the intent is committed");
    assert!(matches!(store.idem_peek(&acc.id, "k", "h").await.unwrap(), Some(IdemState::Running { resume: Some(_), .. })));

    use bangka_core::mandate::MandateStatus;
    assert!(store.move_mandate(&pending, MandateStatus::Revoked, None, None, Cause::api("key_holder"), t0()).await.unwrap());
    let audit = rows(&store, "audit_log").await;
    assert!(unit.move_mandate(&pending, MandateStatus::Active, None, None, Cause::api("key_test"), t0()).await.unwrap(), "staged");
    let refused = unit.finish_unit(Some(StoredAnswer::lasting(201, "{}"))).await;
    assert!(matches!(refused, Err(StoreError::Conflict(_))), "{refused:?}");
    assert_eq!(unit.resume_note().await.as_deref(), Some(r#"{"resume":"mandate"}"#));
    assert_eq!(store.get_mandate(&acc.id, "mdt_1").await.unwrap().map(|m| m.status), Some(MandateStatus::Revoked));
    assert_eq!(rows(&store, "audit_log").await, audit, "nothing of the refused set");
    assert!(
        matches!(store.idem_peek(&acc.id, "k", "h").await.unwrap(), Some(IdemState::Running { resume: Some(_), .. })),
        "no answer stored: the note finishes the request"
    );
}
on_both_backends!(past_its_checkpoint_a_refused_write_set_leaves_the_intent_and_its_resume_note);

/// Write-sets and units of the unit path run side by side on many tasks:
/// SQLite's writer thread and the unit path take the one writer in turn,
/// write-sets queued together share a commit, and every one of them is
/// there afterwards.
async fn write_sets_and_units_share_the_writer(store: Store) {
    let vault = Vault::ephemeral();
    store.attach_vault(&vault);
    let mut tasks = Vec::new();
    for n in 0..40u32 {
        let store = store.clone();
        let vault = vault.clone();
        tasks.push(tokio::spawn(async move {
            let acc = account(&store, n + 10).await;
            let a = BindAttempt::new(&vault, &acc, &pan(u64::from(n) + 10), "e", t0());
            if n % 2 == 0 {
                let _ = bind_as_write_set(&store, &a, "k").await.expect("applied");
            } else {
                let unit = store.unit(Some(claim(&acc.id, "k", "h")));
                assert!(matches!(a.submit(&unit, 5, t0()).await, PendingOutcome::Created));
                unit.record_attempt(&attempt_for(&a)).await.unwrap();
                let _ = unit.finish_unit(Some(StoredAnswer::lasting(202, "{}"))).await.unwrap();
            }
            a
        }));
    }
    for t in tasks {
        let a = t.await.unwrap();
        assert_eq!(binding_status(&store, &a).await, BindingStatus::PendingVerification);
        assert!(store.idem_peek(&a.binding.account_id, "k", "h").await.unwrap().is_some());
    }
    assert_eq!(rows(&store, "attempts").await, 40);
}
on_both_backends!(multi_thread write_sets_and_units_share_the_writer);

// ======================================================================
// 7. Outbox and demo inbox
// ======================================================================

/// A bind writes one SMS (in the account's language); an attempt claims it
/// once, the demo sink puts it in the inbox (once, even if repeated), and
/// delivery erases the outbox copy of the body (it holds the code).
async fn outbox_delivery(store: Store) {
    let (acc, a) = challenge_for(&store, 1).await;
    let pending = store.due_messages(t0(), t0(), 10).await.unwrap();
    assert_eq!(pending.len(), 1);
    let m = &pending[0];
    assert_eq!((m.channel.as_str(), m.recipient.as_str(), m.body.as_str()), ("sms", acc.phone.as_str(), a.message.zh.as_str()));
    assert!(m.body.contains(OTP));

    let at = t0() + Duration::seconds(2);
    assert!(store.claim_message(&m.id, at, at + Duration::seconds(30)).await.unwrap());
    assert!(!store.claim_message(&m.id, at, at + Duration::seconds(30)).await.unwrap(), "claimed once");
    assert!(store.due_messages(at, at, 10).await.unwrap().is_empty(), "a claimed message is not due for others");
    store.put_in_demo_inbox(m, at).await.unwrap();
    store.put_in_demo_inbox(m, at).await.unwrap();
    assert!(store.mark_delivered(&m.id, at).await.unwrap());
    assert!(!store.mark_delivered(&m.id, at).await.unwrap());
    let inbox = store.inbox(&acc.phone).await.unwrap();
    assert_eq!(inbox.len(), 1, "a repeated delivery lands once");
    assert_eq!(inbox[0].body, a.message.zh);
    assert_eq!(to_ms(inbox[0].received_at), to_ms(at));
    assert!(store.inbox(&phone(99)).await.unwrap().is_empty());
    assert!(store.due_messages(at + Duration::minutes(1), at + Duration::minutes(1), 10).await.unwrap().is_empty());
    let bodies: Vec<(Option<String>,)> = sqlx::query_as("SELECT body FROM outbox").fetch_all(store.pool()).await.unwrap();
    assert_eq!(bodies, vec![(None,)], "delivered body erased from the outbox");
}
on_both_backends!(outbox_delivery);

/// A failed attempt waits for its backoff; giving up erases the body.
async fn outbox_retries_and_gives_up(store: Store) {
    let (acc, _) = challenge_for(&store, 1).await;
    let m = store.due_messages(t0(), t0(), 10).await.unwrap().pop().expect("message");
    assert!(store.claim_message(&m.id, t0(), t0() + Duration::seconds(30)).await.unwrap());
    store.retry_message(&m.id, "webhook answered 503", t0() + Duration::seconds(2)).await.unwrap();
    assert!(
        store.due_messages(t0() + Duration::seconds(1), t0() + Duration::seconds(1), 10).await.unwrap().is_empty(),
        "waits for its backoff"
    );
    let again = store.due_messages(t0() + Duration::seconds(2), t0() + Duration::seconds(2), 10).await.unwrap().pop().expect("due again");
    assert_eq!(again.tries, 1);
    store.give_up_message(&m.id, bangka_store::GiveUp::Exhausted, Some("webhook answered 503"), t0()).await.unwrap();
    assert!(store.due_messages(t0() + Duration::hours(1), t0() + Duration::hours(1), 10).await.unwrap().is_empty());
    let status = store.outbox_status(&acc.id).await.unwrap();
    assert_eq!(status.len(), 1);
    assert_eq!((status[0].tries, status[0].body_kept, status[0].delivered), (2, false, false));
    assert_eq!(status[0].end_reason.as_deref(), Some("retries_exhausted"));
    assert_eq!(status[0].last_error.as_deref(), Some("webhook answered 503"));
}
on_both_backends!(outbox_retries_and_gives_up);

/// The inbox lists newest arrival first, even when arrival times tie.
async fn inbox_orders_by_arrival(store: Store) {
    let vault = Vault::ephemeral();
    let acc = account(&store, 1).await;
    for n in 0..3 {
        let a = BindAttempt::new(&vault, &acc, &pan(10 + n), "e", t0());
        assert!(matches!(a.submit(&store, 5, t0()).await, PendingOutcome::Created));
    }
    let messages = store.due_messages(t0(), t0(), 10).await.unwrap();
    assert_eq!(messages.len(), 3);
    // Deliver in reverse of outbox order, all at the same instant.
    for m in messages.iter().rev() {
        store.put_in_demo_inbox(m, t0()).await.unwrap();
    }
    let inbox: Vec<String> = store.inbox(&acc.phone).await.unwrap().into_iter().map(|m| m.id).collect();
    let expected: Vec<String> = messages.iter().map(|m| m.id.clone()).collect();
    assert_eq!(inbox, expected, "newest arrival (last delivered) first");

    // A live account's message never lands in the demo inbox (issue 24).
    let live = account_in(&store, 2, bangka_core::mode::Mode::Live).await;
    assert!(!live.id.starts_with("acc_test_") && acc.id.starts_with("acc_test_"));
    let a = BindAttempt::new(&vault, &live, &pan(20), "e", t0());
    assert!(matches!(a.submit(&store, 5, t0()).await, PendingOutcome::Created));
    let m = store.due_messages(t0(), t0(), 10).await.unwrap().into_iter().find(|m| m.recipient == live.phone).unwrap();
    store.put_in_demo_inbox(&m, t0()).await.unwrap();
    store.deliver_to_demo_inbox(std::slice::from_ref(&m.id), t0()).await.unwrap();
    assert!(store.inbox(&live.phone).await.unwrap().is_empty(), "a live code is never shown");
}
on_both_backends!(inbox_orders_by_arrival);

/// 10 workers claim the same message at once: exactly one gets it.
async fn concurrent_delivery_claims_once(store: Store) {
    let (_, _) = challenge_for(&store, 1).await;
    let m = store.due_messages(t0(), t0(), 10).await.unwrap().pop().expect("message");
    let tasks: Vec<_> = (0..10)
        .map(|_| {
            let (store, id) = (store.clone(), m.id.clone());
            tokio::spawn(async move { store.claim_message(&id, t0(), t0() + Duration::seconds(30)).await.unwrap() })
        })
        .collect();
    let mut claimed = 0;
    for t in tasks {
        claimed += usize::from(t.await.unwrap());
    }
    assert_eq!(claimed, 1);
}
on_both_backends!(multi_thread concurrent_delivery_claims_once);

// ======================================================================
// 8. Attempts
// ======================================================================

/// `count_failures` counts only the listed codes, of this account, inside
/// the window.
async fn attempts(store: Store) {
    let now = t0();
    let record = |account: &str, code: Option<&str>, at: OffsetDateTime| AttemptRow {
        id: new_id("att"),
        account_id: account.to_owned(),
        kind: "bind".into(),
        binding_id: None,
        issuer: Some("ICBC".into()),
        bin: Some("622202".into()),
        last4: Some("1234".into()),
        code: code.map(str::to_owned),
        created_at: at,
        card_fp: None,
        device_id: None,
        client_ip: None,
        phone_masked: None,
        client: None,
    };
    let rows = [
        record("acc_1", Some("OTP_WRONG"), now - Duration::minutes(5)),
        record("acc_1", Some("OTP_WRONG"), now - Duration::minutes(1)),
        record("acc_1", Some("CARD_ELEMENTS_MISMATCH"), now - Duration::minutes(2)),
        record("acc_1", Some("ISSUER_UNAVAILABLE"), now - Duration::minutes(3)),
        record("acc_1", None, now - Duration::minutes(4)),
        record("acc_1", Some("OTP_WRONG"), now - Duration::hours(2)),
        record("acc_2", Some("OTP_WRONG"), now - Duration::minutes(1)),
    ];
    for r in &rows {
        store.record_attempt(r).await.unwrap();
    }
    let since = now - Duration::hours(1);
    let failures = ["OTP_WRONG", "CARD_ELEMENTS_MISMATCH"];
    assert_eq!(store.count_failures("acc_1", &failures, since).await.unwrap(), 3);
    assert_eq!(store.count_failures("acc_1", &["OTP_WRONG"], since).await.unwrap(), 2);
    assert_eq!(store.count_failures("acc_1", &["OTP_WRONG"], now - Duration::days(1)).await.unwrap(), 3);
    assert_eq!(store.count_failures("acc_1", &failures, now).await.unwrap(), 0);
    assert_eq!(store.count_failures("acc_2", &failures, since).await.unwrap(), 1);
    assert_eq!(store.count_failures("acc_3", &failures, since).await.unwrap(), 0);
    // The window edge is inclusive.
    assert_eq!(store.count_failures("acc_1", &["OTP_WRONG"], now - Duration::minutes(1)).await.unwrap(), 1);

    let listed = store.list_attempts("acc_1").await.unwrap();
    assert_eq!(listed.len(), 6);
    assert_eq!(listed[0].id, rows[1].id, "newest first");
    assert_eq!(listed[5].id, rows[5].id);
    assert_eq!(listed[0].code.as_deref(), Some("OTP_WRONG"));
    assert_eq!(to_ms(listed[0].created_at), to_ms(rows[1].created_at));
    assert!(listed.iter().any(|a| a.code.is_none()));
}
on_both_backends!(attempts);

// ---------------------------------------------------------------- audit chain

/// The receipt every test activation is given.
fn receipt_draft(account_id: &str) -> bangka_store::ReceiptDraft<'_> {
    static SIGNER: std::sync::OnceLock<bangka_store::ReceiptSigner> = std::sync::OnceLock::new();
    bangka_store::ReceiptDraft {
        signer: SIGNER.get_or_init(bangka_store::ReceiptSigner::ephemeral),
        operation: "bind",
        account_id,
        binding_id: "bnd_test",
        card: serde_json::json!({ "masked": "622202*********0000" }),
        details: serde_json::json!({}),
    }
}

/// Forty concurrent appends (ten connections on PostgreSQL) make one
/// unbroken chain: numbered 1..=40, each linked to the one before.
async fn concurrent_audit_appends_keep_one_chain(store: Store) {
    let now = OffsetDateTime::now_utc();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let s = store.clone();
        tasks.push(tokio::spawn(async move {
            let subject = format!("subject-{}", i % 4);
            let change = bangka_store::Change { action: "test.append", subject: &subject, before: Some("a"), after: Some("b") };
            s.audit(bangka_store::Cause::api("key_test"), change, now).await.unwrap()
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, None);
    assert_eq!(verdict.entries, 40);
    assert_eq!(store.audit_entries("subject-1").await.unwrap().len(), 10);
}
on_both_backends!(multi_thread concurrent_audit_appends_keep_one_chain);

/// Sealing (issue 25): entries are chained after their commit, in the order
/// they were written, by any number of sealers taking turns; a receipt's
/// anchor (the leaf hash) is known at once; removing an entry's seal, or
/// editing an entry before or after it is sealed, is found.
async fn the_audit_chain_is_sealed_in_batches(store: Store) {
    let now = OffsetDateTime::now_utc();
    let write = |i: usize| {
        let s = store.clone();
        async move {
            let subject = format!("sealed-{i}");
            let change = bangka_store::Change { action: "test.seal", subject: &subject, before: None, after: Some("x") };
            s.audit(bangka_store::Cause::api("key_test"), change, now).await.unwrap()
        }
    };
    for i in 0..5 {
        write(i).await;
    }
    let pending = store.audit_entries("sealed-0").await.unwrap().remove(0);
    assert!(pending.seq.is_none() && pending.hash.is_empty(), "written, not sealed yet: {pending:?}");
    assert_eq!(pending.leaf_hash.as_deref(), Some(pending.expected_leaf_hash().as_str()));
    // Sealers on many instances, and writers, at once: still one chain.
    let mut tasks = Vec::new();
    for i in 5..45 {
        let (s, w) = (store.clone(), write(i));
        tasks.push(tokio::spawn(async move {
            w.await;
            s.seal_audit().await.unwrap()
        }));
    }
    let mut sealed = 0;
    for t in tasks {
        sealed += t.await.unwrap();
    }
    assert!(sealed <= 45, "no entry sealed twice: {sealed}");
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!((verdict.problem, verdict.entries), (None, 45));
    let first = store.audit_entries("sealed-0").await.unwrap().remove(0);
    assert_eq!((first.seq, first.leaf_hash.clone()), (Some(1), pending.leaf_hash.clone()), "sealed in the order written");
    assert_eq!(store.seal_audit().await.unwrap(), 0, "nothing left to seal");

    // An entry edited after it was written but before it was sealed: its
    // leaf hash no longer matches, so sealing it does not hide the edit.
    write(99).await;
    sqlx::query("UPDATE audit_log SET reason = 'nothing to see' WHERE subject = 'sealed-99'").execute(store.pool()).await.unwrap();
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problem, Some((46, "entry 46 was altered after it was written".to_owned())));
    // A removed seal leaves a gap in the numbers (the entry is sealed again at the end).
    sqlx::query("UPDATE audit_log SET seq = NULL, prev_hash = NULL, hash = NULL WHERE seq = 7").execute(store.pool()).await.unwrap();
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!(verdict.problem.map(|p| p.0), Some(7), "a removed seal is found");
}
on_both_backends!(multi_thread the_audit_chain_is_sealed_in_batches);

/// An entry from before the chain existed (no origin, no hashes) is sealed
/// like any other: its origin defaulted, its leaf hash computed.
async fn entries_from_before_the_chain_are_sealed(store: Store) {
    let change = bangka_store::Change { action: "test.legacy", subject: "legacy", before: None, after: None };
    store.audit(bangka_store::Cause::api("key_old"), change, OffsetDateTime::now_utc()).await.unwrap();
    sqlx::query("UPDATE audit_log SET origin = NULL, leaf_hash = NULL WHERE subject = 'legacy'").execute(store.pool()).await.unwrap();
    let verdict = store.verify_audit().await.unwrap();
    assert_eq!((verdict.problem, verdict.entries), (None, 1));
    let e = store.audit_entries("legacy").await.unwrap().remove(0);
    assert_eq!((e.origin.as_str(), e.seq), ("api", Some(1)));
    assert_eq!(e.leaf_hash, Some(e.expected_leaf_hash()));
}
on_both_backends!(entries_from_before_the_chain_are_sealed);

/// PostgreSQL (issue 25): an audited write never waits on the chain's head.
/// With the head row locked by another transaction (a sealer mid-batch, or
/// any other instance), audited writes still commit at once; before
/// sealing, every audited unit of every instance queued on that row lock.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audited_writes_never_wait_on_the_chain_head() {
    run_on_postgres("audited_writes_never_wait_on_the_chain_head", head_held_elsewhere).await;
}

async fn head_held_elsewhere(store: Store) {
    let mut holder = store.pool().begin().await.unwrap();
    sqlx::query("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE").execute(&mut *holder).await.unwrap();
    let change = bangka_store::Change { action: "test.no_wait", subject: "head-held", before: None, after: None };
    let wrote = tokio::time::timeout(
        StdDuration::from_secs(5),
        store.audit(bangka_store::Cause::api("key_test"), change, OffsetDateTime::now_utc()),
    )
    .await;
    assert!(wrote.is_ok_and(|r| r.is_ok()), "an audited write waited on the head row");
    holder.rollback().await.unwrap();
    assert_eq!(store.verify_audit().await.unwrap().problem, None);
}

/// A database from before the card key store kept each wrapped data key in
/// its vault row: opening it moves every key to the key store and clears
/// it from the row, and the card still opens.
#[tokio::test]
async fn legacy_card_keys_move_to_the_key_store() {
    let store = sqlite_store().await;
    let file = sqlite_file(&store).await;
    let dir = file.parent().unwrap().to_owned();
    let vault = Vault::ephemeral();
    let pan = Pan::parse("6222021234567890128").unwrap();
    let sealed = vault.seal_pan("vc_legacy", &pan);
    sqlx::query(
        "INSERT INTO vault_cards (id, fingerprint, key_version, wrapped_dek, dek_nonce, pan_ct, pan_nonce, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0)",
    )
    .bind(&sealed.id)
    .bind(&sealed.fingerprint)
    .bind(sealed.key_version)
    .bind(&sealed.wrapped_dek)
    .bind(&sealed.dek_nonce)
    .bind(&sealed.pan_ct)
    .bind(&sealed.pan_nonce)
    .execute(store.pool())
    .await
    .unwrap();
    assert!(store.get_sealed("vc_legacy").await.unwrap().is_none(), "without its key in the key store the row does not open");
    store.close().await;
    let url = format!("sqlite://{}", file.display());
    let store = Store::connect(&url, None).await.unwrap();
    let reopened = store.get_sealed("vc_legacy").await.unwrap().expect("the key moved to the key store");
    assert_eq!(vault.open_pan(&reopened).unwrap().expose(), pan.expose());
    let (left,): (Option<Vec<u8>>,) =
        sqlx::query_as("SELECT wrapped_dek FROM vault_cards WHERE id = 'vc_legacy'").fetch_one(store.pool()).await.unwrap();
    assert!(left.is_none(), "the key stays in the database row");
    store.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
