//! Master key rotation: every sealed value (card data keys, KYC details,
//! token keys, held message bodies, stored answers) re-wrapped under the
//! new key, resumable, without downtime.

use time::OffsetDateTime;

use crate::WriteOn;
use crate::card_keys::WrappedKey;
use crate::outbox::message_context;
use crate::{SealedCard, Store, StoreError, to_ms};

/// What a fingerprint key rotation changed.
#[derive(Debug, Default)]
pub struct RekeyReport {
    pub cards: u64,
    pub accounts: u64,
    pub pending_binds: u64,
    pub expired_challenges: u64,
}

/// The context (associated data) a sealed KYC field is bound to.
pub fn kyc_context(account_id: &str, field: &str) -> String {
    format!("{account_id}/kyc-{field}")
}

impl Store {
    /// One pass of re-wrapping data keys under the vault's current master
    /// key: card data keys, then sealed KYC fields, then token keys. Card data is never
    /// re-encrypted. Each row is updated only if it is still as read, so
    /// passes on several machines never clobber each other. Returns how many
    /// rows were re-wrapped; repeat until a pass returns 0.
    pub async fn rewrap_pass(&self, vault: &crate::Vault) -> Result<u64, StoreError> {
        let current = vault.current_version();
        let mut done = 0;
        for (id, k) in self.keys.not_under(current, 500).await? {
            let rewrapped =
                vault.rewrap_dek(&id, k.key_version, &k.wrapped_dek, &k.dek_nonce).map_err(|_| StoreError::Rewrap(id.clone()))?;
            if let Some((key_version, wrapped_dek, dek_nonce)) = rewrapped {
                done += self.keys.replace(&id, k.key_version, &WrappedKey { key_version, wrapped_dek, dek_nonce }).await?;
            }
        }
        let accounts: Vec<(String, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT id, kyc_name_enc, kyc_id_enc FROM accounts WHERE kyc_name_enc IS NOT NULL AND kyc_id_enc IS NOT NULL")
                .fetch_all(&mut *self.read().await?)
                .await?;
        for (id, name, idn) in accounts {
            let new_name = vault.rewrap_value(&kyc_context(&id, "name"), &name).map_err(|_| StoreError::Rewrap(id.clone()))?;
            let new_id = vault.rewrap_value(&kyc_context(&id, "id"), &idn).map_err(|_| StoreError::Rewrap(id.clone()))?;
            if new_name.is_none() && new_id.is_none() {
                continue;
            }
            let res = sqlx::query(
                "UPDATE accounts SET kyc_name_enc = $1, kyc_id_enc = $2 WHERE id = $3 AND kyc_name_enc = $4 AND kyc_id_enc = $5",
            )
            .bind(new_name.as_deref().unwrap_or(&name))
            .bind(new_id.as_deref().unwrap_or(&idn))
            .bind(&id)
            .bind(&name)
            .bind(&idn)
            .write_on(self)
            .await?;
            done += res.rows_affected();
        }
        // Real-name changes waiting for review hold sealed values too.
        let reviews: Vec<(String, String, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT id, account_id, name_enc, id_enc FROM reviews WHERE name_enc IS NOT NULL AND id_enc IS NOT NULL")
                .fetch_all(&mut *self.read().await?)
                .await?;
        for (rid, account, name, idn) in reviews {
            let new_name = vault.rewrap_value(&kyc_context(&account, "name"), &name).map_err(|_| StoreError::Rewrap(rid.clone()))?;
            let new_id = vault.rewrap_value(&kyc_context(&account, "id"), &idn).map_err(|_| StoreError::Rewrap(rid.clone()))?;
            if new_name.is_none() && new_id.is_none() {
                continue;
            }
            let res = sqlx::query("UPDATE reviews SET name_enc = $1, id_enc = $2 WHERE id = $3 AND name_enc = $4 AND id_enc = $5")
                .bind(new_name.as_deref().unwrap_or(&name))
                .bind(new_id.as_deref().unwrap_or(&idn))
                .bind(&rid)
                .bind(&name)
                .bind(&idn)
                .write_on(self)
                .await?;
            done += res.rows_affected();
        }
        let tokens: Vec<(String, Vec<u8>)> =
            sqlx::query_as("SELECT id, key_sealed FROM tokens WHERE key_sealed IS NOT NULL").fetch_all(&mut *self.read().await?).await?;
        for (id, sealed) in tokens {
            let Some(new) = vault.rewrap_value(&crate::token_key_context(&id), &sealed).map_err(|_| StoreError::Rewrap(id.clone()))? else {
                continue;
            };
            let res = sqlx::query("UPDATE tokens SET key_sealed = $1 WHERE id = $2 AND key_sealed = $3")
                .bind(&new)
                .bind(&id)
                .bind(&sealed)
                .write_on(self)
                .await?;
            done += res.rows_affected();
        }
        for (version, sealed) in self.all_webhook_secrets().await? {
            let context = crate::webhook::secret_context(version);
            let Some(new) = vault.rewrap_value(&context, &sealed).map_err(|_| StoreError::Rewrap(context.clone()))? else { continue };
            done += self.replace_webhook_secret(version, &sealed, &new).await?;
        }
        done += self.rewrap_texts(vault).await?;
        Ok(done)
    }

    /// Re-wraps the sealed values kept in text: message bodies (outbox and
    /// demo inbox) and the secrets in stored idempotent answers.
    async fn rewrap_texts(&self, vault: &crate::Vault) -> Result<u64, StoreError> {
        let mut done = 0;
        for table in ["outbox", "demo_inbox"] {
            let rows: Vec<(String, String)> = sqlx::query_as(&format!("SELECT id, body FROM {table} WHERE body LIKE 'sealed:%'"))
                .fetch_all(&mut *self.read().await?)
                .await?;
            for (id, body) in rows {
                let Some(new) = rewrap_text(vault, &message_context(&id), &body)? else { continue };
                let res = sqlx::query(&format!("UPDATE {table} SET body = $1 WHERE id = $2 AND body = $3"))
                    .bind(&new)
                    .bind(&id)
                    .bind(&body)
                    .write_on(self)
                    .await?;
                done += res.rows_affected();
            }
        }
        let answers: Vec<(String, String, String)> =
            sqlx::query_as("SELECT scope, idem_key, response FROM idempotency WHERE response LIKE '%\"sealed\"%'")
                .fetch_all(&mut *self.read().await?)
                .await?;
        for (scope, key, response) in answers {
            let Some(new) = rewrap_sealed_json(vault, &format!("idempotency:{scope}:{key}"), &response)? else { continue };
            let res = sqlx::query("UPDATE idempotency SET response = $1 WHERE scope = $2 AND idem_key = $3 AND response = $4")
                .bind(&new)
                .bind(&scope)
                .bind(&key)
                .bind(&response)
                .write_on(self)
                .await?;
            done += res.rows_affected();
        }
        Ok(done)
    }

    /// How many card data keys are still wrapped under another key than `version`.
    pub async fn cards_not_under(&self, version: i64) -> Result<i64, StoreError> {
        self.keys.count_not_under(version).await
    }

    /// The fingerprint key version the database's hashes are under.
    pub async fn fingerprint_key_version(&self) -> Result<i64, StoreError> {
        let (v,): (i64,) =
            sqlx::query_as("SELECT version FROM key_state WHERE name = 'fingerprint'").fetch_one(&mut *self.read().await?).await?;
        Ok(v)
    }

    /// Re-keys every long-lived keyed hash under `new`'s fingerprint key, in
    /// one transaction with the switch of the recorded version (from
    /// `old_version`; refused if another rotation moved it). Card
    /// fingerprints are recomputed from the vaulted PANs, the KYC hashes from
    /// the sealed KYC fields. What cannot be recomputed is ended: pending
    /// binds lose their reuse hash (a repeat asks the issuer again) and open
    /// OTP challenges expire (the holder asks for a new code).
    pub async fn rekey_fingerprints(&self, old_version: i64, new: &crate::Vault, now: OffsetDateTime) -> Result<RekeyReport, StoreError> {
        let mut tx = self.begin().await?;
        let res = sqlx::query("UPDATE key_state SET version = $1 WHERE name = 'fingerprint' AND version = $2")
            .bind(new.fingerprint_version())
            .bind(old_version)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Err(StoreError::Keys(format!("the fingerprint key is no longer v{old_version}: another rotation ran")));
        }
        let mut report = RekeyReport::default();
        // The vault rows are read inside the transaction (SQLite has one
        // connection); their keys come from the card key store.
        let cards: Vec<(String, String, Vec<u8>, Vec<u8>)> = sqlx::query_as(
            "SELECT id, fingerprint, pan_ct, pan_nonce FROM vault_cards WHERE pan_ct IS NOT NULL AND pan_nonce IS NOT NULL AND shredded_at IS NULL",
        )
        .fetch_all(&mut *tx)
        .await?;
        for (id, fingerprint, pan_ct, pan_nonce) in cards {
            let Some(k) = self.keys.get(&id).await? else { continue };
            let sealed = SealedCard {
                id,
                fingerprint,
                key_version: k.key_version,
                wrapped_dek: k.wrapped_dek,
                dek_nonce: k.dek_nonce,
                pan_ct,
                pan_nonce,
            };
            let fingerprint = new.fingerprint(&new.open_pan(&sealed)?);
            sqlx::query("UPDATE vault_cards SET fingerprint = $1 WHERE id = $2")
                .bind(&fingerprint)
                .bind(&sealed.id)
                .execute(&mut *tx)
                .await?;
            sqlx::query("UPDATE bindings SET fingerprint = $1 WHERE vault_id = $2")
                .bind(&fingerprint)
                .bind(&sealed.id)
                .execute(&mut *tx)
                .await?;
            report.cards += 1;
        }
        let accounts: Vec<(String, Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT id, kyc_name_enc, kyc_id_enc FROM accounts WHERE kyc_name_enc IS NOT NULL AND kyc_id_enc IS NOT NULL")
                .fetch_all(&mut *tx)
                .await?;
        for (id, name, idn) in accounts {
            let name = new.open_value(&kyc_context(&id, "name"), &name)?;
            let idn = new.open_value(&kyc_context(&id, "id"), &idn)?;
            sqlx::query("UPDATE accounts SET kyc_name_mac = $1, kyc_id_mac = $2 WHERE id = $3")
                .bind(new.kyc_name_mac(name.as_str()))
                .bind(new.kyc_id_mac(idn.as_str()))
                .bind(&id)
                .execute(&mut *tx)
                .await?;
            report.accounts += 1;
        }
        report.pending_binds = sqlx::query("UPDATE bindings SET elements_mac = '' WHERE status = 'pending_verification'")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        report.expired_challenges = sqlx::query("UPDATE challenges SET expires_at = $1 WHERE passed_at IS NULL AND expires_at > $1")
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?
            .rows_affected();
        tx.commit().await?;
        Ok(report)
    }

    /// How many sealed values (KYC fields, token keys) are still wrapped
    /// under another key than `version`. With [`Store::cards_not_under`],
    /// what must be 0 before an old master key file may go.
    pub async fn values_not_under(&self, version: i64) -> Result<i64, StoreError> {
        let mut blobs: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT key_sealed FROM tokens WHERE key_sealed IS NOT NULL").fetch_all(&mut *self.read().await?).await?;
        let kyc: Vec<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT kyc_name_enc, kyc_id_enc FROM accounts WHERE kyc_name_enc IS NOT NULL AND kyc_id_enc IS NOT NULL")
                .fetch_all(&mut *self.read().await?)
                .await?;
        blobs.extend(kyc.into_iter().flat_map(|(a, b)| [(a,), (b,)]));
        let reviews: Vec<(Vec<u8>, Vec<u8>)> =
            sqlx::query_as("SELECT name_enc, id_enc FROM reviews WHERE name_enc IS NOT NULL AND id_enc IS NOT NULL")
                .fetch_all(&mut *self.read().await?)
                .await?;
        blobs.extend(reviews.into_iter().flat_map(|(a, b)| [(a,), (b,)]));
        blobs.extend(self.all_webhook_secrets().await?.into_iter().map(|(_, b)| (b,)));
        for table in ["outbox", "demo_inbox"] {
            let bodies: Vec<(String,)> =
                sqlx::query_as(&format!("SELECT body FROM {table} WHERE body LIKE 'sealed:%'")).fetch_all(&mut *self.read().await?).await?;
            for (b,) in bodies {
                blobs.push((sealed_text_blob(&b)?,));
            }
        }
        let answers: Vec<(String,)> = sqlx::query_as("SELECT response FROM idempotency WHERE response LIKE '%\"sealed\"%'")
            .fetch_all(&mut *self.read().await?)
            .await?;
        for (a,) in answers {
            let v: serde_json::Value = serde_json::from_str(&a).map_err(|e| StoreError::Corrupt(e.to_string()))?;
            blobs.extend(sealed_in_json(&v)?.into_iter().map(|b| (b,)));
        }
        let mut n = 0;
        for (b,) in blobs {
            if crate::sealed_value_version(&b)? != version {
                n += 1;
            }
        }
        Ok(n)
    }
}

/// The blob of a `sealed:<hex>` text.
fn sealed_text_blob(text: &str) -> Result<Vec<u8>, StoreError> {
    hex::decode(text.trim_start_matches("sealed:")).map_err(|_| StoreError::Corrupt("sealed text".into()))
}

/// A `sealed:<hex>` text re-wrapped under the current master key, if it
/// was under another.
fn rewrap_text(vault: &crate::Vault, context: &str, text: &str) -> Result<Option<String>, StoreError> {
    let blob = sealed_text_blob(text)?;
    let new = vault.rewrap_value(context, &blob).map_err(|_| StoreError::Rewrap(context.to_owned()))?;
    Ok(new.map(|b| format!("sealed:{}", hex::encode(b))))
}

/// The blobs of every `{"sealed": hex}` in a JSON document.
fn sealed_in_json(v: &serde_json::Value) -> Result<Vec<Vec<u8>>, StoreError> {
    let mut out = Vec::new();
    match v {
        serde_json::Value::Object(m) => {
            if let (1, Some(serde_json::Value::String(h))) = (m.len(), m.get("sealed")) {
                out.push(hex::decode(h).map_err(|_| StoreError::Corrupt("sealed answer field".into()))?);
            } else {
                for c in m.values() {
                    out.extend(sealed_in_json(c)?);
                }
            }
        }
        serde_json::Value::Array(a) => {
            for c in a {
                out.extend(sealed_in_json(c)?);
            }
        }
        _ => {}
    }
    Ok(out)
}

/// A stored answer with each `{"sealed": hex}` re-wrapped, if any was
/// under another master key.
fn rewrap_sealed_json(vault: &crate::Vault, context: &str, text: &str) -> Result<Option<String>, StoreError> {
    fn walk(vault: &crate::Vault, context: &str, v: &mut serde_json::Value, changed: &mut bool) -> Result<(), StoreError> {
        match v {
            serde_json::Value::Object(m) => {
                if let (1, Some(serde_json::Value::String(h))) = (m.len(), m.get("sealed")) {
                    let blob = hex::decode(h).map_err(|_| StoreError::Corrupt("sealed answer field".into()))?;
                    if let Some(new) = vault.rewrap_value(context, &blob).map_err(|_| StoreError::Rewrap(context.to_owned()))? {
                        m.insert("sealed".into(), serde_json::Value::String(hex::encode(new)));
                        *changed = true;
                    }
                } else {
                    for c in m.values_mut() {
                        walk(vault, context, c, changed)?;
                    }
                }
            }
            serde_json::Value::Array(a) => {
                for c in a {
                    walk(vault, context, c, changed)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
    let mut v: serde_json::Value = serde_json::from_str(text).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    let mut changed = false;
    walk(vault, context, &mut v, &mut changed)?;
    Ok(changed.then(|| v.to_string()))
}
