//! Signed receipts (SPEC "Receipt"): a proof of an operation the holder can
//! keep and anyone can verify offline with the service's public key.
//!
//! A receipt is one self-contained JSON document:
//!
//! ```json
//! {"receipt": {"version": 1, "id": "rcp_…", "operation": "bind", "account_id": "acc_…",
//!              "binding_id": "bnd_…", "card": {"masked": "622202*********0178", "issuer": "ICBC"},
//!              "at": "2026-11-23T11:17:51.474Z", "details": {…}, "audit_hash": "…"},
//!  "signature": {"alg": "Ed25519", "key_id": "…", "public_key": "…", "value": "…"}}
//! ```
//!
//! The signature covers the canonical form of `receipt` (object keys sorted,
//! no whitespace), so a verifier re-serializes what it parsed and checks.
//! `audit_hash` is the hash of the audit entry written with the operation
//! (its content hash, which its seal in the chain covers), anchoring the
//! entry outside the database. Receipts are written
//! in the same transaction as the operation: no operation without its
//! receipt.

use std::path::Path;

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::{Store, StoreError, new_id, to_ms};

const SIGNING_FILE: &str = "receipt-signing.key";

/// The service's receipt signing key (Ed25519), kept in the data directory.
#[derive(Clone)]
pub struct ReceiptSigner {
    key: SigningKey,
}

impl std::fmt::Debug for ReceiptSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReceiptSigner(key_id={})", self.key_id())
    }
}

impl ReceiptSigner {
    /// Loads the key from `dir`, creating it (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> Result<ReceiptSigner, StoreError> {
        let path = dir.join(SIGNING_FILE);
        let bytes: [u8; 32] = match std::fs::read_to_string(&path) {
            Ok(text) => hex::decode(text.trim())
                .ok()
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| StoreError::Keys(format!("{} is not a key", path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut b = [0u8; 32];
                rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
                crate::vault::write_private(&path, &hex::encode(b))?;
                b
            }
            Err(e) => return Err(StoreError::Keys(format!("cannot read {}: {e}", path.display()))),
        };
        Ok(ReceiptSigner { key: SigningKey::from_bytes(&bytes) })
    }

    /// A signer with a fresh key (tests).
    pub fn ephemeral() -> ReceiptSigner {
        let mut b = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
        ReceiptSigner { key: SigningKey::from_bytes(&b) }
    }

    pub fn public_key_hex(&self) -> String {
        hex::encode(self.key.verifying_key().as_bytes())
    }

    /// A short name for the key: the first 16 hex digits of its SHA-256.
    pub fn key_id(&self) -> String {
        key_id(self.key.verifying_key().as_bytes())
    }

    /// Signs a receipt body into the self-contained document.
    pub fn sign(&self, receipt: Value) -> Value {
        let sig = self.key.sign(canonical(&receipt).as_bytes());
        json!({
            "receipt": receipt,
            "signature": {
                "alg": "Ed25519",
                "key_id": self.key_id(),
                "public_key": self.public_key_hex(),
                "value": hex::encode(sig.to_bytes()),
            }
        })
    }
}

fn key_id(public: &[u8]) -> String {
    hex::encode(&Sha256::digest(public)[..8])
}

/// The bytes a receipt's signature covers: the RFC 8785 JSON
/// Canonicalization Scheme (keys sorted by UTF-16 code units, ECMAScript
/// number forms, minimal string escapes), which any party can reproduce with
/// a JCS library to verify a receipt.
pub fn canonical(v: &Value) -> String {
    // A `Value` holds no NaN or infinity, the only inputs JCS refuses.
    serde_json_canonicalizer::to_string(v).unwrap_or_else(|_| legacy_canonical(v))
}

/// The form receipts were signed in before RFC 8785 (keys sorted by UTF-8
/// bytes, serde_json's number forms). It equals JCS for every receipt
/// Bangka writes (ASCII keys, whole numbers), and is kept so that a receipt
/// signed the old way still verifies whatever it holds.
fn legacy_canonical(v: &Value) -> String {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let parts: Vec<String> = keys.iter().map(|k| format!("{}:{}", Value::String((*k).clone()), legacy_canonical(&m[*k]))).collect();
            format!("{{{}}}", parts.join(","))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(legacy_canonical).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

/// Why a receipt does not verify.
#[derive(Debug, PartialEq, Eq)]
pub enum ReceiptProblem {
    /// Not a receipt document (missing fields, bad hex).
    Malformed(&'static str),
    /// Signed by another key than the trusted one.
    UntrustedKey { key_id: String },
    /// The signature does not match the content: it was changed.
    BadSignature,
}

/// Verifies a receipt document offline. With `trusted_public_key` (hex), the
/// receipt must be signed by exactly that key; without, only the embedded
/// key is checked (which proves integrity, not origin). Returns the key id.
pub fn verify_receipt(doc: &Value, trusted_public_key: Option<&str>) -> Result<String, ReceiptProblem> {
    let receipt = doc.get("receipt").filter(|r| r.is_object()).ok_or(ReceiptProblem::Malformed("no receipt object"))?;
    let sig = doc.get("signature").ok_or(ReceiptProblem::Malformed("no signature"))?;
    if sig.get("alg").and_then(Value::as_str) != Some("Ed25519") {
        return Err(ReceiptProblem::Malformed("signature alg is not Ed25519"));
    }
    let public_hex = sig.get("public_key").and_then(Value::as_str).ok_or(ReceiptProblem::Malformed("no public key"))?;
    let public: [u8; 32] = hex::decode(public_hex)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or(ReceiptProblem::Malformed("public key is not 32 bytes of hex"))?;
    if let Some(trusted) = trusted_public_key
        && !trusted.eq_ignore_ascii_case(public_hex)
    {
        return Err(ReceiptProblem::UntrustedKey { key_id: key_id(&public) });
    }
    let value: [u8; 64] = sig
        .get("value")
        .and_then(Value::as_str)
        .and_then(|v| hex::decode(v).ok())
        .and_then(|b| b.try_into().ok())
        .ok_or(ReceiptProblem::Malformed("signature is not 64 bytes of hex"))?;
    let key = VerifyingKey::from_bytes(&public).map_err(|_| ReceiptProblem::Malformed("public key is not a curve point"))?;
    let signature = Signature::from_bytes(&value);
    let jcs = key.verify(canonical(receipt).as_bytes(), &signature);
    jcs.or_else(|_| key.verify(legacy_canonical(receipt).as_bytes(), &signature)).map_err(|_| ReceiptProblem::BadSignature)?;
    Ok(key_id(&public))
}

/// What a receipt says about its operation; the store adds id, time and the
/// audit hash, and signs.
pub struct ReceiptDraft<'a> {
    pub signer: &'a ReceiptSigner,
    /// `bind`, `freeze`, `unfreeze`, …
    pub operation: &'a str,
    pub account_id: &'a str,
    pub binding_id: &'a str,
    /// Masked card facts only.
    pub card: Value,
    pub details: Value,
}

/// Signs and stores a receipt inside the caller's transaction.
pub(crate) async fn issue(
    conn: &mut sqlx::AnyConnection,
    d: &ReceiptDraft<'_>,
    audit: &crate::audit::AuditRef,
    now: OffsetDateTime,
) -> Result<String, StoreError> {
    let (id, doc) = signed(d, &audit.leaf_hash, now);
    sqlx::query(
        "INSERT INTO receipts (id, account_id, binding_id, operation, document, audit_seq, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(d.account_id)
    .bind(d.binding_id)
    .bind(d.operation)
    .bind(doc.to_string())
    .bind(audit.pos)
    .bind(to_ms(now))
    .execute(&mut *conn)
    .await?;
    Ok(id)
}

/// A receipt for a write-set: it points at the audit entry `audit_id`
/// written earlier in the same write-set (its position is the database's).
pub(crate) fn issue_write(d: &ReceiptDraft<'_>, audit_id: &str, leaf_hash: &str, now: OffsetDateTime) -> crate::WriteSet {
    let (id, doc) = signed(d, leaf_hash, now);
    let mut set = crate::WriteSet::new();
    set.push(
        "receipt",
        "INSERT INTO receipts (id, account_id, binding_id, operation, document, audit_seq, created_at)
         VALUES ($1, $2, $3, $4, $5, (SELECT pos FROM audit_log WHERE id = $6), $7)",
        vec![
            id.into(),
            d.account_id.into(),
            d.binding_id.into(),
            d.operation.into(),
            doc.to_string().into(),
            audit_id.into(),
            to_ms(now).into(),
        ],
        crate::writeset::Expect::Any,
    );
    set
}

fn signed(d: &ReceiptDraft<'_>, leaf_hash: &str, now: OffsetDateTime) -> (String, Value) {
    let id = new_id("rcp");
    let body = json!({
        "version": 1,
        "id": id,
        "operation": d.operation,
        "account_id": d.account_id,
        "binding_id": d.binding_id,
        "card": d.card,
        "at": crate::rfc3339(now),
        "details": d.details,
        "audit_hash": leaf_hash,
    });
    let doc = d.signer.sign(body);
    (id, doc)
}

impl Store {
    /// Every receipt of an account, newest first (for evidence bundles).
    pub async fn receipts(&self, account_id: &str) -> Result<Vec<Value>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as("SELECT document FROM receipts WHERE account_id = $1 ORDER BY audit_seq DESC")
            .bind(account_id)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.into_iter().map(|(d,)| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))).collect()
    }

    /// A page of an account's receipts, newest first (each the signed
    /// document).
    pub async fn receipt_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<Value>, StoreError> {
        let list = crate::page::Listing {
            table: "receipts",
            cols: "document",
            scope: "account_id = $1",
            owner: "account_id = $1",
            key: "audit_seq",
            id: "id",
            descending: true,
        };
        let row = |r: &sqlx::any::AnyRow| {
            let d: String = sqlx::Row::try_get(r, "document")?;
            serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))
        };
        self.page(&list, vec![account_id.into()], page, row).await
    }

    pub async fn receipt(&self, account_id: &str, id: &str) -> Result<Option<Value>, StoreError> {
        let row: Option<(String,)> = sqlx::query_as("SELECT document FROM receipts WHERE account_id = $1 AND id = $2")
            .bind(account_id)
            .bind(id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        row.map(|(d,)| serde_json::from_str(&d).map_err(|e| StoreError::Corrupt(format!("receipt: {e}")))).transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_receipts_verify_and_any_change_breaks_them() {
        let s = ReceiptSigner::ephemeral();
        let doc = s.sign(json!({ "operation": "bind", "card": { "masked": "622202*********0178" }, "n": 1 }));
        assert_eq!(verify_receipt(&doc, None), Ok(s.key_id()));
        assert_eq!(verify_receipt(&doc, Some(&s.public_key_hex())), Ok(s.key_id()));
        // Key order in the file does not matter; content does.
        let reparsed: Value = serde_json::from_str(&doc.to_string()).unwrap();
        assert!(verify_receipt(&reparsed, None).is_ok());
        let mut changed = doc.clone();
        changed["receipt"]["operation"] = json!("unbind");
        assert_eq!(verify_receipt(&changed, None), Err(ReceiptProblem::BadSignature));
        let other = ReceiptSigner::ephemeral();
        assert!(matches!(verify_receipt(&doc, Some(&other.public_key_hex())), Err(ReceiptProblem::UntrustedKey { .. })));
        // Re-signing with another key and swapping the embedded key is caught
        // by the trusted key, not by the signature.
        let forged = other.sign(changed["receipt"].clone());
        assert!(verify_receipt(&forged, None).is_ok());
        assert!(verify_receipt(&forged, Some(&s.public_key_hex())).is_err());
        assert!(matches!(verify_receipt(&json!({}), None), Err(ReceiptProblem::Malformed(_))));
    }

    #[test]
    fn canonical_sorts_keys() {
        assert_eq!(canonical(&json!({ "b": [1, { "d": "x", "c": null }], "a": "é" })), r#"{"a":"é","b":[1,{"c":null,"d":"x"}]}"#);
    }

    #[test]
    fn canonical_is_rfc_8785() {
        // RFC 8785 §3.2.2.3 number forms and §3.2.3 key order (UTF-16 code units).
        assert_eq!(canonical(&json!({ "n": 1e21, "m": 1e-7, "k": 4.5, "j": 0.002 })), r#"{"j":0.002,"k":4.5,"m":1e-7,"n":1e+21}"#);
        // UTF-8 byte order would put U+FB33 before U+1F600; UTF-16 puts the surrogate pair first.
        let keys = json!({ "\u{20ac}": 1, "\r": 2, "\u{1f600}": 3, "1": 4, "\u{fb33}": 5 });
        assert_eq!(canonical(&keys), "{\"\\r\":2,\"1\":4,\"\u{20ac}\":1,\"\u{1f600}\":3,\"\u{fb33}\":5}");
    }

    #[test]
    fn a_receipt_signed_the_old_way_still_verifies() {
        let dir = std::env::temp_dir().join(format!("bk-rcp-legacy-{}", rand::random::<u64>()));
        std::fs::create_dir_all(&dir).unwrap();
        let s = ReceiptSigner::load_or_create(&dir).unwrap();
        // Keys whose old order (UTF-8 bytes) differs from JCS's (UTF-16 code units).
        let receipt = json!({ "operation": "test", "\u{fb33}": 1, "\u{1f600}": 2 });
        assert_ne!(canonical(&receipt), legacy_canonical(&receipt));
        let old = s.key.sign(legacy_canonical(&receipt).as_bytes());
        let doc = json!({ "receipt": receipt, "signature": {
            "alg": "Ed25519", "key_id": s.key_id(), "public_key": s.public_key_hex(), "value": hex::encode(old.to_bytes()) } });
        assert!(verify_receipt(&doc, Some(&s.public_key_hex())).is_ok());
        std::fs::remove_dir_all(&dir).ok();
    }
}
