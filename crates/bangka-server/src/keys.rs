//! Master key rotation (`bangka keys rotate-master`).
//!
//! No downtime: a new master key file is written next to the old one;
//! running instances pick it up within seconds (and at once when they meet a
//! row wrapped under a version they have not loaded). Every data key is then
//! re-wrapped under the new key — the card data itself is never re-encrypted
//! — in passes until none is left under an old key, and only then are the
//! old key files removed. With several machines, copy the new key file to
//! every instance's data directory before the re-wrap (`--keep-old` keeps
//! the old files until you have).

use bangka_store::{Store, StoreError, Vault};

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
