//! Signing webhook deliveries, so the wallet backend can tell a message came
//! from Bangka and was not replayed from long ago. The scheme is Stripe's:
//! a header `Bangka-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>` over
//! `"<t>.<body>"`, keyed with the secret string itself (`whsec_…`). The
//! secret lives in the data directory (`webhook-signing.key`, 0600), made
//! on first start; `bangka keys webhook-secret` prints it for the receiver.

use std::path::Path;

use bangka_core::secret::Secret;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;

use crate::StoreError;

const FILE: &str = "webhook-signing.key";
const PREFIX: &str = "whsec_";

/// The webhook signing secrets. Cheap to clone (clones share the live
/// set); never printed by accident. The file's secret signs until the first
/// rotation; then the live secrets from the database do
/// ([`WebhookSigner::set_live`]), every one of them during an overlap.
#[derive(Clone)]
pub struct WebhookSigner {
    secret: std::sync::Arc<Secret<String>>,
    /// Newest first; empty: the file's secret alone.
    live: std::sync::Arc<std::sync::RwLock<Vec<std::sync::Arc<Secret<String>>>>>,
}

impl WebhookSigner {
    /// Loads the secret from `dir`, or makes one there (0600).
    pub fn load_or_create(dir: &Path) -> Result<WebhookSigner, StoreError> {
        let path = dir.join(FILE);
        let secret = match std::fs::read_to_string(&path) {
            Ok(s) => {
                let s = s.trim().to_owned();
                let ok = s.strip_prefix(PREFIX).is_some_and(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()));
                if !ok {
                    return Err(StoreError::Keys(format!("{} is not a webhook secret (whsec_ and 64 hex digits)", path.display())));
                }
                s
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut bytes = [0u8; 32];
                OsRng.fill_bytes(&mut bytes);
                let s = format!("{PREFIX}{}", hex::encode(bytes));
                crate::vault::write_private(&path, &s)?;
                s
            }
            Err(e) => return Err(StoreError::Keys(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(WebhookSigner { secret: std::sync::Arc::new(Secret::new(secret)), live: Default::default() })
    }

    /// The `Bangka-Signature` header value for `body` sent at `t` (unix
    /// seconds): one `v1=` per live secret, newest first (a receiver accepts
    /// the delivery if any one verifies under the secret it holds).
    pub fn header(&self, t: i64, body: &[u8]) -> String {
        let live = self.live.read().expect("webhook secrets lock");
        let mut out = format!("t={t}");
        if live.is_empty() {
            out.push_str(&format!(",v1={}", hex::encode(sign(self.secret.expose().as_bytes(), t, body))));
        }
        for s in live.iter() {
            out.push_str(&format!(",v1={}", hex::encode(sign(s.expose().as_bytes(), t, body))));
        }
        out
    }

    /// The live secrets (newest first), as the database holds them now.
    pub fn set_live(&self, secrets: Vec<Secret<String>>) {
        *self.live.write().expect("webhook secrets lock") = secrets.into_iter().map(std::sync::Arc::new).collect();
    }

    /// The secret new deliveries are signed with first (the newest live one).
    pub fn current(&self) -> Secret<String> {
        let live = self.live.read().expect("webhook secrets lock");
        Secret::new(live.first().map_or_else(|| self.secret.expose().clone(), |s| s.expose().clone()))
    }

    /// A new secret, as the file holds one (`whsec_` and 64 hex digits).
    pub fn generate() -> Secret<String> {
        let mut bytes = [0u8; 32];
        OsRng.fill_bytes(&mut bytes);
        Secret::new(format!("{PREFIX}{}", hex::encode(bytes)))
    }

    /// A value that tells whether two instances hold the same secret
    /// without revealing it (the start-up key check compares it).
    pub fn check_value(&self) -> String {
        hex::encode(sign(self.secret.expose().as_bytes(), 0, b"bangka/key-check/v1"))
    }

    /// The file's secret, for `bangka keys webhook-secret` before any
    /// rotation only.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose()
    }
}

/// The context webhook secrets are sealed under.
pub fn secret_context(version: i64) -> String {
    format!("webhook-secret:{version}")
}

impl crate::Store {
    /// The sealed webhook secrets live at `now` (not retired), newest first.
    pub async fn live_webhook_secrets(&self, now: time::OffsetDateTime) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as("SELECT version, sealed FROM webhook_secrets WHERE retires_at IS NULL OR retires_at > $1 ORDER BY version DESC")
            .bind(crate::to_ms(now))
            .fetch_all(&mut *self.read().await?)
            .await?)
    }

    /// Every sealed webhook secret (for re-wrapping under a new master key).
    pub(crate) async fn all_webhook_secrets(&self) -> Result<Vec<(i64, Vec<u8>)>, StoreError> {
        Ok(sqlx::query_as("SELECT version, sealed FROM webhook_secrets").fetch_all(&mut *self.read().await?).await?)
    }

    /// Rotates the webhook secret: the live ones retire after `overlap`
    /// (each keeps its earlier end), and `seal(version)` seals the new one,
    /// live until the next rotation. The first rotation also records the
    /// file's secret (`seal_first(1)`), retiring. Audited. Returns the new
    /// secret's version.
    pub async fn rotate_webhook_secret(
        &self,
        seal_first: impl FnOnce(i64) -> Vec<u8>,
        seal: impl FnOnce(i64) -> Vec<u8>,
        overlap: time::Duration,
        cause: crate::Cause<'_>,
        now: time::OffsetDateTime,
    ) -> Result<i64, StoreError> {
        use crate::to_ms;
        let mut tx = self.begin().await?;
        let (max,): (Option<i64>,) = sqlx::query_as("SELECT MAX(version) FROM webhook_secrets").fetch_one(&mut *tx).await?;
        let retires = to_ms(now + overlap);
        let mut version = max.unwrap_or(0);
        if max.is_none() {
            version = 1;
            sqlx::query("INSERT INTO webhook_secrets (version, sealed, created_at, retires_at) VALUES (1, $1, $2, $3)")
                .bind(seal_first(1))
                .bind(to_ms(now))
                .bind(retires)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query("UPDATE webhook_secrets SET retires_at = $1 WHERE retires_at IS NULL OR retires_at > $1")
                .bind(retires)
                .execute(&mut *tx)
                .await?;
        }
        let new = version + 1;
        sqlx::query("INSERT INTO webhook_secrets (version, sealed, created_at) VALUES ($1, $2, $3)")
            .bind(new)
            .bind(seal(new))
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        let after = format!("v{new}; earlier secrets retire after the overlap");
        let change = crate::audit::Change { action: "webhook_secret.rotate", subject: "webhook", before: None, after: Some(&after) };
        crate::audit::append(&mut tx, cause, change, now).await?;
        tx.commit().await?;
        Ok(new)
    }

    /// Re-wraps one sealed webhook secret (a master key rotation).
    pub(crate) async fn replace_webhook_secret(&self, version: i64, old: &[u8], new: &[u8]) -> Result<u64, StoreError> {
        use crate::WriteOn;
        let res = sqlx::query("UPDATE webhook_secrets SET sealed = $1 WHERE version = $2 AND sealed = $3")
            .bind(new)
            .bind(version)
            .bind(old)
            .write_on(self)
            .await?;
        Ok(res.rows_affected())
    }
}

fn sign(key: &[u8], t: i64, body: &[u8]) -> [u8; 32] {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("hmac takes any key length");
    m.update(t.to_string().as_bytes());
    m.update(b".");
    m.update(body);
    m.finalize().into_bytes().into()
}

/// Checks a `Bangka-Signature` header as a receiver does: the signature
/// matches and `t` is within `tolerance_secs` of `now`. (Bangka uses it in
/// tests; receivers write the same few lines, see docs/webhooks.md.)
pub fn verify(secret: &str, header: &str, body: &[u8], now: i64, tolerance_secs: i64) -> bool {
    use subtle::ConstantTimeEq;
    let mut t = None;
    let mut sigs = Vec::new();
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => sigs.extend(hex::decode(v).ok()),
            _ => {}
        }
    }
    let Some(t) = t else { return false };
    if (now - t).abs() > tolerance_secs {
        return false;
    }
    let expected = sign(secret.as_bytes(), t, body);
    sigs.iter().any(|s| bool::from(s.as_slice().ct_eq(&expected)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_verifies_and_an_edit_or_an_old_one_does_not() {
        let dir = std::env::temp_dir().join(format!("bangka-whsec-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = WebhookSigner::load_or_create(&dir).unwrap();
        assert_eq!(WebhookSigner::load_or_create(&dir).unwrap().expose_secret(), s.expose_secret(), "reloaded, not remade");
        let body = br#"{"id":"msg_1","channel":"sms"}"#;
        let h = s.header(1_800_000_000, body);
        assert!(verify(s.expose_secret(), &h, body, 1_800_000_010, 300));
        assert!(!verify(s.expose_secret(), &h, br#"{"id":"msg_2","channel":"sms"}"#, 1_800_000_010, 300), "an edited body");
        assert!(!verify(s.expose_secret(), &h, body, 1_800_001_000, 300), "too old");
        assert!(!verify("whsec_other", &h, body, 1_800_000_010, 300), "another secret");
        // The scheme by hand: HMAC-SHA256(secret, "t.body").
        let manual = hex::encode(sign(s.expose_secret().as_bytes(), 1_800_000_000, body));
        assert_eq!(h, format!("t=1800000000,v1={manual}"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
