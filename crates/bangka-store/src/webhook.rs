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

/// The webhook signing secret. Cheap to clone; never printed by accident.
#[derive(Clone)]
pub struct WebhookSigner {
    secret: std::sync::Arc<Secret<String>>,
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
        Ok(WebhookSigner { secret: std::sync::Arc::new(Secret::new(secret)) })
    }

    /// The `Bangka-Signature` header value for `body` sent at `t` (unix seconds).
    pub fn header(&self, t: i64, body: &[u8]) -> String {
        format!("t={t},v1={}", hex::encode(sign(self.secret.expose().as_bytes(), t, body)))
    }

    /// A value that tells whether two instances hold the same secret
    /// without revealing it (the start-up key check compares it).
    pub fn check_value(&self) -> String {
        hex::encode(sign(self.secret.expose().as_bytes(), 0, b"bangka/key-check/v1"))
    }

    /// The secret, for `bangka keys webhook-secret` only.
    pub fn expose_secret(&self) -> &str {
        self.secret.expose()
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
