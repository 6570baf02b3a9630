//! The issuer protocol (docs/issuer-protocol.md): how Bangka talks to a bank
//! over the network, modelled on UnionPay's quick-pay protocol (ACP).
//!
//! Every request names a unique `order_id` and the time it was sent; the
//! body is signed (HMAC-SHA256 under an issuer key, named by `key_id`, so
//! keys rotate without downtime: sign with the newest, accept any listed),
//! the card's details travel sealed (AES-256-GCM under a key derived from
//! the same secret), and every answer is signed back. An answer is
//! `success`, `failed` with a reason code, or `unknown`; `query` by order id
//! returns the final outcome of an order the bank received, or `not_found`.
//!
//! [`connector`] is Bangka's side (an `IssuerConnector` over HTTP);
//! [`simulator`] is `bangka simulator serve`, the bank's side, wrapping the
//! in-process simulator with fault injection.

pub mod connector;
pub mod simulator;

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

/// The header carrying `<key_id>:<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "acp-signature";

/// The operations of the protocol, as they appear in the path
/// (`POST /acp/v1/{operation}`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    Verify,
    VerifyActivation,
    Activate,
    Authorize,
    Capture,
    Refund,
    Void,
    ReportLost,
    Status,
    Query,
    /// The bank's announced maintenance windows (current and upcoming).
    Maintenance,
}

impl Operation {
    pub const ALL: [Operation; 11] = [
        Operation::Verify,
        Operation::VerifyActivation,
        Operation::Activate,
        Operation::Authorize,
        Operation::Capture,
        Operation::Refund,
        Operation::Void,
        Operation::ReportLost,
        Operation::Status,
        Operation::Query,
        Operation::Maintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Verify => "verify",
            Operation::VerifyActivation => "verify_activation",
            Operation::Activate => "activate",
            Operation::Authorize => "authorize",
            Operation::Capture => "capture",
            Operation::Refund => "refund",
            Operation::Void => "void",
            Operation::ReportLost => "report_lost",
            Operation::Status => "status",
            Operation::Query => "query",
            Operation::Maintenance => "maintenance",
        }
    }

    pub fn parse(s: &str) -> Option<Operation> {
        Operation::ALL.into_iter().find(|o| o.as_str() == s)
    }

    /// Whether the bank acts on it (moves money or changes the card): a
    /// repeat of such an order must never act twice, so its outcome, when
    /// lost, is asked for with `query`, never sent blind again.
    pub fn acts(self) -> bool {
        !matches!(self, Operation::Verify | Operation::VerifyActivation | Operation::Status | Operation::Query | Operation::Maintenance)
    }
}

/// A request: the order, what it is about, and the card sealed.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Request {
    pub version: String,
    pub operation: Operation,
    /// Unique per order; a repeat with the same id is the same order.
    pub order_id: String,
    /// RFC 3339; the bank refuses orders older than five minutes.
    pub sent_at: String,
    /// The issuer the order is for (from the card's BIN), when known.
    pub issuer: Option<String>,
    /// Payments: Bangka's payment id, which the bank keys holds by.
    pub reference: Option<String>,
    pub refund_id: Option<String>,
    pub amount_fen: Option<i64>,
    pub stolen: Option<bool>,
    /// `query`: the order asked about (or, without it, the authorization
    /// under `reference`).
    pub query_order_id: Option<String>,
    /// The card details (`SealedCard`), AES-256-GCM, hex of nonce ‖ ciphertext.
    pub sealed_card: Option<String>,
}

/// The card's details inside `sealed_card`.
#[derive(Serialize, Deserialize)]
pub struct SealedCard {
    pub card_number: String,
    pub holder_name: Option<String>,
    pub id_number: Option<String>,
    pub phone: Option<String>,
    pub expiry: Option<String>,
    pub cvv: Option<String>,
}

impl Drop for SealedCard {
    fn drop(&mut self) {
        use zeroize::Zeroize;
        self.card_number.zeroize();
        self.cvv.zeroize();
        self.id_number.zeroize();
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Success,
    /// Definite: the bank refused, `code` says why.
    Failed,
    /// The bank does not know yet: ask again later with `query`.
    Unknown,
    /// `query` only: the bank never received that order.
    NotFound,
}

/// An answer to one order.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Answer {
    pub order_id: String,
    pub outcome: Outcome,
    /// A catalog code for `failed` (e.g. `CARD_FROZEN`).
    pub code: Option<String>,
    /// `authorize`: the bank's authorization code.
    pub auth_code: Option<String>,
    pub answered_at: String,
    /// `maintenance`: the windows the bank announces (for the issuer asked
    /// about, or every issuer it serves).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub windows: Option<Vec<AnnouncedWindow>>,
}

/// A maintenance window as the bank announces it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AnnouncedWindow {
    pub issuer: String,
    /// RFC 3339.
    pub starts_at: String,
    /// RFC 3339.
    pub ends_at: String,
    pub message_zh: String,
    pub message_en: String,
}

impl AnnouncedWindow {
    pub fn from_window(w: &bangka_issuer::MaintenanceWindow) -> AnnouncedWindow {
        AnnouncedWindow {
            issuer: w.issuer.clone(),
            starts_at: crate::error::rfc3339(w.starts_at),
            ends_at: crate::error::rfc3339(w.ends_at),
            message_zh: w.message_zh.clone(),
            message_en: w.message_en.clone(),
        }
    }

    /// `None` when a time is not RFC 3339.
    pub fn to_window(&self) -> Option<bangka_issuer::MaintenanceWindow> {
        let at = |s: &str| time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok();
        Some(bangka_issuer::MaintenanceWindow {
            issuer: self.issuer.clone(),
            starts_at: at(&self.starts_at)?,
            ends_at: at(&self.ends_at)?,
            message_zh: self.message_zh.clone(),
            message_en: self.message_en.clone(),
        })
    }
}

/// One issuer key: `issuer` absent means every issuer.
#[derive(Clone, Serialize, Deserialize)]
pub struct KeyEntry {
    pub id: String,
    pub issuer: Option<String>,
    /// 32 bytes, hex.
    pub secret: String,
}

/// The keys both sides hold (a JSON file: `{"keys":[…]}`). A new key is
/// added at the end; both sides sign with the newest that applies and
/// accept any listed, so a rotation needs no downtime.
#[derive(Clone, Serialize, Deserialize)]
pub struct Keys {
    pub keys: Vec<KeyEntry>,
}

impl Keys {
    /// Reads the file, or creates it with one fresh key (mode 0600).
    pub fn load_or_create(path: &Path) -> anyhow::Result<Keys> {
        if path.exists() {
            let keys: Keys = serde_json::from_slice(&std::fs::read(path)?)?;
            anyhow::ensure!(!keys.keys.is_empty(), "{} lists no key", path.display());
            for k in &keys.keys {
                anyhow::ensure!(hex::decode(&k.secret).map(|s| s.len() == 32).unwrap_or(false), "key {} is not 32 bytes of hex", k.id);
            }
            return Ok(keys);
        }
        let keys = Keys { keys: vec![KeyEntry { id: "k1".into(), issuer: None, secret: hex::encode(rand::random::<[u8; 32]>()) }] };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, serde_json::to_vec_pretty(&keys)?)?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
        Ok(keys)
    }

    /// The key to sign with for `issuer`: the newest that applies.
    fn signing(&self, issuer: Option<&str>) -> &KeyEntry {
        self.keys
            .iter()
            .rev()
            .find(|k| k.issuer.is_none() || k.issuer.as_deref() == issuer)
            .unwrap_or_else(|| self.keys.last().expect("at least one key"))
    }

    fn secret(&self, id: &str) -> Option<Zeroizing<Vec<u8>>> {
        self.keys.iter().find(|k| k.id == id).and_then(|k| hex::decode(&k.secret).ok()).map(Zeroizing::new)
    }

    /// `<key_id>:<hex HMAC-SHA256(body)>` for the signature header.
    pub fn sign(&self, issuer: Option<&str>, body: &[u8]) -> String {
        let k = self.signing(issuer);
        let secret = self.secret(&k.id).expect("a listed key");
        format!("{}:{}", k.id, hex::encode(mac(&secret, body)))
    }

    /// Checks a signature header against the body, in constant time.
    pub fn verify(&self, header: &str, body: &[u8]) -> bool {
        let Some((id, sig)) = header.split_once(':') else { return false };
        let (Some(secret), Ok(sig)) = (self.secret(id), hex::decode(sig)) else { return false };
        let mut m = <Hmac<Sha256> as Mac>::new_from_slice(&secret).expect("any key length");
        m.update(body);
        m.verify_slice(&sig).is_ok()
    }

    fn seal_key(&self, id: &str) -> Option<Zeroizing<[u8; 32]>> {
        let secret = self.secret(id)?;
        let mut h = Sha256::new();
        h.update(b"bangka/acp/seal/v1");
        h.update(&secret[..]);
        Some(Zeroizing::new(h.finalize().into()))
    }

    /// Seals the card for the bank: `<key_id>:<hex nonce ‖ ciphertext>`.
    pub fn seal(&self, issuer: Option<&str>, card: &SealedCard) -> String {
        let k = self.signing(issuer);
        let key = self.seal_key(&k.id).expect("a listed key");
        let cipher = Aes256Gcm::new_from_slice(&key[..]).expect("32 bytes");
        let nonce: [u8; 12] = rand::random();
        let plain = Zeroizing::new(serde_json::to_vec(card).expect("serializable"));
        let sealed = cipher.encrypt(Nonce::from_slice(&nonce), plain.as_slice()).expect("encrypts");
        format!("{}:{}{}", k.id, hex::encode(nonce), hex::encode(sealed))
    }

    /// Opens a sealed card; `None` when it was not sealed under a listed key.
    pub fn open(&self, sealed: &str) -> Option<SealedCard> {
        let (id, hexed) = sealed.split_once(':')?;
        let bytes = hex::decode(hexed).ok()?;
        if bytes.len() < 12 {
            return None;
        }
        let key = self.seal_key(id)?;
        let cipher = Aes256Gcm::new_from_slice(&key[..]).ok()?;
        let plain = Zeroizing::new(cipher.decrypt(Nonce::from_slice(&bytes[..12]), &bytes[12..]).ok()?);
        serde_json::from_slice(&plain).ok()
    }
}

fn mac(secret: &[u8], body: &[u8]) -> Vec<u8> {
    let mut m = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("any key length");
    m.update(body);
    m.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> Keys {
        Keys { keys: vec![KeyEntry { id: "k1".into(), issuer: None, secret: "11".repeat(32) }] }
    }

    #[test]
    fn a_signature_covers_the_body_and_names_its_key() {
        let k = keys();
        let sig = k.sign(Some("ICBC"), b"{\"a\":1}");
        assert!(sig.starts_with("k1:"));
        assert!(k.verify(&sig, b"{\"a\":1}"));
        assert!(!k.verify(&sig, b"{\"a\":2}"));
        assert!(!k.verify("k9:00", b"{\"a\":1}"));
    }

    #[test]
    fn a_rotated_key_signs_and_the_old_one_still_verifies() {
        let old = keys();
        let mut new = keys();
        new.keys.push(KeyEntry { id: "k2".into(), issuer: None, secret: "22".repeat(32) });
        let before = old.sign(None, b"x");
        assert!(new.verify(&before, b"x"), "an order signed before the rotation is still accepted");
        assert!(new.sign(None, b"x").starts_with("k2:"));
    }

    #[test]
    fn a_sealed_card_opens_only_with_the_key() {
        let k = keys();
        // A number from the simulator's table of test cards.
        let number =
            bangka_issuer::Simulator::new(std::sync::Arc::new(bangka_core::clock::SystemClock)).test_cards()[0].card_number.clone();
        let card = SealedCard {
            card_number: number.clone(),
            holder_name: None,
            id_number: None,
            phone: None,
            expiry: None,
            cvv: Some("123".into()),
        };
        let sealed = k.seal(None, &card);
        assert!(!sealed.contains(&number) && !sealed.contains("123:"));
        assert_eq!(k.open(&sealed).unwrap().card_number, number);
        let other = Keys { keys: vec![KeyEntry { id: "k1".into(), issuer: None, secret: "33".repeat(32) }] };
        assert!(other.open(&sealed).is_none());
    }
}
