//! Key rotation: the master key (`bangka keys rotate-master`, online) and
//! the fingerprint key (`bangka keys rotate-fingerprint`, offline).
//!
//! Master key rotation.
//!
//! No downtime: a new master key file is written next to the old one;
//! running instances pick it up within seconds (and at once when they meet a
//! row wrapped under a version they have not loaded). Every data key is then
//! re-wrapped under the new key — the card data itself is never re-encrypted
//! — in passes until none is left under an old key, and only then are the
//! old key files removed. With several machines, copy the new key file to
//! every instance's data directory before the re-wrap (`--keep-old` keeps
//! the old files until you have).

use bangka_store::{RekeyReport, Store, StoreError, Vault};

#[derive(Debug)]
pub struct RotationReport {
    pub new_version: i64,
    pub rewrapped: u64,
    pub removed_versions: Vec<i64>,
}

pub async fn rotate_master(store: &Store, vault: &Vault, keep_old: bool) -> Result<RotationReport, StoreError> {
    let new_version = vault.create_next_master()?;
    let mut rewrapped = 0;
    // Instances that have not seen the new key yet may still seal under the
    // old one for up to their refresh interval: pass again after it.
    for _ in 0..2 {
        loop {
            let n = store.rewrap_pass(vault).await?;
            rewrapped += n;
            if n == 0 {
                break;
            }
        }
        tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    }
    let left = store.cards_not_under(new_version).await? + store.values_not_under(new_version).await?;
    let removed_versions = if keep_old || left > 0 { Vec::new() } else { vault.remove_old_master_files()? };
    Ok(RotationReport { new_version, rewrapped, removed_versions })
}

#[derive(Debug)]
pub struct FingerprintRotationReport {
    pub new_version: i64,
    pub rekeyed: RekeyReport,
    pub removed_versions: Vec<i64>,
}

/// Fingerprint key rotation (`bangka keys rotate-fingerprint`), offline: stop
/// every instance first (they keep the old key in memory), rotate, start them
/// with the new key file in their data directories.
///
/// Crash-safe in any step: the new key is written as a `.pending` file, the
/// database's hashes and its recorded key version change in one
/// transaction, and only then is the file made final. An instance starting
/// after a crash uses the version the database names ([`Vault::open`]),
/// finishing or discarding the pending file accordingly.
///
/// Short-lived hashes cannot be recomputed and end: open SMS codes expire
/// (a new code can be asked for), outstanding cryptograms stop being found,
/// and a request retried with an `Idempotency-Key` from before the rotation
/// is refused as `IDEMPOTENCY_KEY_REUSED` instead of replayed (never run twice).
pub async fn rotate_fingerprint(
    store: &Store,
    vault: &Vault,
    keep_old: bool,
    now: time::OffsetDateTime,
) -> Result<FingerprintRotationReport, StoreError> {
    let old = store.fingerprint_key_version().await?;
    if vault.fingerprint_version() != old {
        return Err(StoreError::Keys(format!(
            "this vault holds fingerprint key v{}, the database is under v{old}",
            vault.fingerprint_version()
        )));
    }
    let staged = vault.stage_fingerprint_key()?;
    let rekeyed = store.rekey_fingerprints(old, &staged, now).await?;
    staged.commit_fingerprint_key()?;
    let removed_versions = if keep_old { Vec::new() } else { staged.remove_old_fingerprint_files()? };
    Ok(FingerprintRotationReport { new_version: staged.fingerprint_version(), rekeyed, removed_versions })
}

/// Webhook secret rotation (issue 24): a new secret is sealed into the
/// database and every running instance signs with it (and, during the
/// overlap, with the secrets it replaces) within two seconds, without a
/// restart. Returns the new secret, to be shown once.
pub async fn rotate_webhook_secret(
    store: &Store,
    vault: &Vault,
    signer: &bangka_store::WebhookSigner,
    overlap: time::Duration,
    now: time::OffsetDateTime,
) -> Result<bangka_core::secret::Secret<String>, StoreError> {
    use bangka_store::webhook::secret_context;
    let first = signer.current();
    let new = bangka_store::WebhookSigner::generate();
    store
        .rotate_webhook_secret(
            |v| vault.seal_value(&secret_context(v), first.expose()),
            |v| vault.seal_value(&secret_context(v), new.expose()),
            overlap,
            bangka_store::Cause::api("cli"),
            now,
        )
        .await?;
    refresh_webhook_secrets(store, vault, signer, now).await?;
    Ok(new)
}

/// Loads the live webhook secrets from the database into `signer` (at
/// start, and every two seconds from the background loop).
pub async fn refresh_webhook_secrets(
    store: &Store,
    vault: &Vault,
    signer: &bangka_store::WebhookSigner,
    now: time::OffsetDateTime,
) -> Result<(), StoreError> {
    let mut live = Vec::new();
    for (version, sealed) in store.live_webhook_secrets(now).await? {
        let clear = vault.open_value(&bangka_store::webhook::secret_context(version), &sealed)?;
        live.push(bangka_core::secret::Secret::new(clear.to_string()));
    }
    signer.set_live(live);
    Ok(())
}

/// Prints a secret the operator must see once (a new webhook secret) as
/// the last line on stdout, where `bangka keys …` prints what it made.
pub fn print_once(secret: &bangka_core::secret::Secret<String>) {
    println!("{}", secret.expose());
}
