//! Scale data: many bound cards written straight into the store (as a
//! migration from another vault would), to measure how the service behaves
//! with a million or ten million cards on file. `bangka fill` drives it.
//!
//! Each card is a whole, valid record: an account with sealed KYC fields,
//! the card number sealed in the vault (its data key in the card key store),
//! an active binding and its token with a sealed token key. No audit entry,
//! attempt or notice is written: nothing happened to these cards.

use time::OffsetDateTime;

use crate::card_keys::WrappedKey;
use crate::{SealedCard, Store, StoreError, to_ms};

/// One bound card to write.
pub struct FilledCard {
    pub account_id: String,
    pub phone: String,
    pub kyc_name_mac: String,
    pub kyc_id_mac: String,
    pub kyc_name_enc: Vec<u8>,
    pub kyc_id_enc: Vec<u8>,
    pub sealed: SealedCard,
    pub binding_id: String,
    pub bin: String,
    pub last4: String,
    pub brand: String,
    pub card_type: String,
    pub issuer: String,
    pub elements_mac: String,
    pub token_id: String,
    pub token_number: String,
    pub token_domain: String,
    pub token_key: Vec<u8>,
}

impl Store {
    /// Writes a batch of bound cards: their keys to the card key store
    /// first (as a bind does), then every row in one transaction.
    pub async fn fill(&self, batch: &[FilledCard], now: OffsetDateTime) -> Result<(), StoreError> {
        let keys: Vec<(String, WrappedKey)> = batch
            .iter()
            .map(|c| {
                let s = &c.sealed;
                (
                    s.id.clone(),
                    WrappedKey { key_version: s.key_version, wrapped_dek: s.wrapped_dek.clone(), dek_nonce: s.dek_nonce.clone() },
                )
            })
            .collect();
        self.keys.put_many(&keys, now).await?;
        let at = to_ms(now);
        let mut tx = self.begin().await?;
        // Many rows per statement (SQLite binds at most 32,766 values).
        for chunk in batch.chunks(200) {
            let rows = |cols: usize| -> String {
                (0..chunk.len())
                    .map(|r| format!("({})", (1..=cols).map(|c| format!("${}", r * cols + c)).collect::<Vec<_>>().join(", ")))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            let sql = format!(
                "INSERT INTO accounts (id, phone, kyc_status, kyc_name_mac, kyc_id_mac, kyc_name_enc, kyc_id_enc, status, created_at, phone_verified_at, phone_verified_by) VALUES {}",
                rows(11)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.account_id)
                    .bind(&c.phone)
                    .bind("verified")
                    .bind(&c.kyc_name_mac)
                    .bind(&c.kyc_id_mac)
                    .bind(&c.kyc_name_enc)
                    .bind(&c.kyc_id_enc)
                    .bind("active")
                    .bind(at)
                    .bind(at)
                    .bind("wallet");
            }
            q.execute(&mut *tx).await?;
            let sql = format!("INSERT INTO vault_cards (id, fingerprint, key_version, pan_ct, pan_nonce, created_at) VALUES {}", rows(6));
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.sealed.id)
                    .bind(&c.sealed.fingerprint)
                    .bind(c.sealed.key_version)
                    .bind(&c.sealed.pan_ct)
                    .bind(&c.sealed.pan_nonce)
                    .bind(at);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "INSERT INTO bindings (id, account_id, fingerprint, vault_id, bin, last4, brand, card_type, issuer, phone,
                                       elements_mac, status, created_at, updated_at, activated_at) VALUES {}",
                rows(15)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.binding_id)
                    .bind(&c.account_id)
                    .bind(&c.sealed.fingerprint)
                    .bind(&c.sealed.id)
                    .bind(&c.bin)
                    .bind(&c.last4)
                    .bind(&c.brand)
                    .bind(&c.card_type)
                    .bind(&c.issuer)
                    .bind(&c.phone)
                    .bind(&c.elements_mac)
                    .bind("active")
                    .bind(at)
                    .bind(at)
                    .bind(at);
            }
            q.execute(&mut *tx).await?;
            let sql = format!(
                "INSERT INTO tokens (id, binding_id, number, status, domain, atc, key_sealed, created_at, updated_at) VALUES {}",
                rows(9)
            );
            let mut q = sqlx::query(&sql);
            for c in chunk {
                q = q
                    .bind(&c.token_id)
                    .bind(&c.binding_id)
                    .bind(&c.token_number)
                    .bind("active")
                    .bind(&c.token_domain)
                    .bind(0_i64)
                    .bind(&c.token_key)
                    .bind(at)
                    .bind(at);
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await
    }

    /// Gives the writer a large page cache for a long fill (random ids make
    /// every index insert land anywhere in the B-tree; with the service's
    /// small cache the fill slows to a crawl past a million cards).
    pub async fn prepare_fill(&self) -> Result<(), StoreError> {
        if self.backend == crate::Backend::Sqlite {
            let mut tx = self.begin().await?;
            sqlx::query("PRAGMA cache_size=-1048576").execute(&mut *tx).await?;
            tx.commit().await?;
        }
        Ok(())
    }

    /// Which of `numbers` are already token numbers (a fill's deterministic
    /// numbers can meet one a live bind drew at random).
    pub async fn taken_token_numbers(&self, numbers: &[String]) -> Result<std::collections::HashSet<String>, StoreError> {
        let mut taken = std::collections::HashSet::new();
        let mut conn = self.read().await?;
        for chunk in numbers.chunks(500) {
            let sql = format!(
                "SELECT number FROM tokens WHERE number IN ({})",
                (1..=chunk.len()).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
            );
            let mut q = sqlx::query_as::<_, (String,)>(&sql);
            for n in chunk {
                q = q.bind(n);
            }
            taken.extend(q.fetch_all(&mut *conn).await?.into_iter().map(|(n,)| n));
        }
        Ok(taken)
    }

    /// How many cards are bound (scale checks).
    pub async fn live_binding_count(&self) -> Result<i64, StoreError> {
        let (n,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM bindings WHERE status = 'active'").fetch_one(&mut *self.read().await?).await?;
        Ok(n)
    }
}
