//! The card vault: the only place a PAN exists in the clear outside a request.
//!
//! Envelope encryption: each card gets a fresh 256-bit data key (DEK); the PAN
//! is sealed with AES-256-GCM under the DEK, and the DEK is wrapped with
//! AES-256-GCM under the master key (KEK). Both seals bind the record id as
//! associated data, so ciphertexts cannot be swapped between rows. Destroying
//! a record's wrapped DEK makes its PAN unrecoverable (crypto-shredding).
//! Fingerprints are HMAC-SHA256 under a separate key, so equal cards can be
//! found without decrypting anything.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use bangka_core::card::Pan;
use bangka_core::secret::Secret;
use hmac::{Hmac, Mac};
use rand::RngCore;
use rand::rngs::OsRng;
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::StoreError;

type HmacSha256 = Hmac<Sha256>;

/// A 256-bit key that cannot print.
#[derive(Clone)]
pub struct Key(Secret<Vec<u8>>);

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(***)")
    }
}

impl Key {
    pub fn generate() -> Key {
        let mut k = vec![0u8; 32];
        OsRng.fill_bytes(&mut k);
        Key(Secret::new(k))
    }

    fn from_hex(s: &str) -> Result<Key, StoreError> {
        let bytes = hex::decode(s.trim()).map_err(|_| StoreError::Keys("key file is not hex".into()))?;
        if bytes.len() != 32 {
            return Err(StoreError::Keys("key file must hold 32 bytes".into()));
        }
        Ok(Key(Secret::new(bytes)))
    }

    fn bytes(&self) -> &[u8] {
        self.0.expose()
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new_from_slice(self.bytes()).expect("32-byte key")
    }

    fn hmac(&self, parts: &[&[u8]]) -> [u8; 32] {
        let mut m = <HmacSha256 as Mac>::new_from_slice(self.bytes()).expect("hmac takes any key length");
        for p in parts {
            m.update(&(p.len() as u64).to_be_bytes());
            m.update(p);
        }
        m.finalize().into_bytes().into()
    }
}

/// A sealed PAN as stored in `vault_cards`.
#[derive(Debug, Clone)]
pub struct SealedCard {
    pub id: String,
    pub fingerprint: String,
    pub key_version: i64,
    pub wrapped_dek: Vec<u8>,
    pub dek_nonce: Vec<u8>,
    pub pan_ct: Vec<u8>,
    pub pan_nonce: Vec<u8>,
}

/// The master keys by version; the highest is current (new seals use it),
/// older ones still open what they wrapped until rotation re-wraps it.
struct Keyring {
    masters: BTreeMap<i64, Key>,
    checked: Instant,
}

impl Keyring {
    fn current(&self) -> (i64, Key) {
        let (v, k) = self.masters.iter().next_back().expect("a keyring always holds a key");
        (*v, k.clone())
    }
}

/// The vault's keys and operations. Cheap to clone.
#[derive(Clone)]
pub struct Vault {
    ring: Arc<RwLock<Keyring>>,
    /// The fingerprint key in effect (the database records its version; see
    /// [`Vault::open`]). Every keyed hash — card fingerprints, holder-data
    /// MACs, OTPs, lookups — is computed under it.
    fingerprint_key: Key,
    fingerprint_version: i64,
    /// The key payment passwords are MACed under (`payment-password.key`).
    payment_password_key: Key,
    /// Where the key files live; `None` for an ephemeral vault.
    dir: Option<PathBuf>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Vault(***)")
    }
}

/// Version 1 of the master key (the first start's file).
const MASTER_FILE: &str = "master.key";
const FINGERPRINT_FILE: &str = "fingerprint.key";
/// The payment-password key: a six-digit secret is checked the way card
/// PINs are, as a keyed MAC under a key kept outside the database, so a
/// copy of the database alone gives an attacker nothing to guess against.
const PAYMENT_PASSWORD_FILE: &str = "payment-password.key";
/// The prefix of a payment password's stored MAC (version 1).
const PAYMENT_PASSWORD_MAC: &str = "pmac1$";
/// How often a running vault looks for a newer master key (after
/// `bangka keys rotate-master` wrote one).
const REFRESH_EVERY: Duration = Duration::from_secs(2);

fn fingerprint_file(version: i64) -> String {
    if version == 1 { FINGERPRINT_FILE.to_owned() } else { format!("fingerprint-v{version}.key") }
}

/// A fingerprint key written by a rotation that has not committed yet.
fn pending_fingerprint_file(version: i64) -> String {
    format!("{}.pending", fingerprint_file(version))
}

/// The fingerprint key files in `dir`: (version, pending?).
fn list_fingerprint_files(dir: &Path) -> Result<Vec<(i64, bool)>, StoreError> {
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StoreError::Keys(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let name = entry.map_err(|e| StoreError::Keys(e.to_string()))?.file_name();
        let name = name.to_string_lossy();
        let (base, pending) = match name.strip_suffix(".pending") {
            Some(b) => (b, true),
            None => (&*name, false),
        };
        let version = if base == FINGERPRINT_FILE {
            Some(1)
        } else {
            base.strip_prefix("fingerprint-v").and_then(|r| r.strip_suffix(".key")).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 1)
        };
        if let Some(v) = version {
            out.push((v, pending));
        }
    }
    Ok(out)
}

fn master_file(version: i64) -> String {
    if version == 1 { MASTER_FILE.to_owned() } else { format!("master-v{version}.key") }
}

fn read_masters(dir: &Path) -> Result<BTreeMap<i64, Key>, StoreError> {
    let mut masters = BTreeMap::new();
    let entries = std::fs::read_dir(dir).map_err(|e| StoreError::Keys(format!("cannot list {}: {e}", dir.display())))?;
    for entry in entries {
        let name = entry.map_err(|e| StoreError::Keys(e.to_string()))?.file_name();
        let name = name.to_string_lossy();
        let version = if name == MASTER_FILE {
            Some(1)
        } else {
            name.strip_prefix("master-v").and_then(|r| r.strip_suffix(".key")).and_then(|v| v.parse::<i64>().ok()).filter(|v| *v > 1)
        };
        if let Some(v) = version {
            let text = std::fs::read_to_string(dir.join(&*name)).map_err(|e| StoreError::Keys(format!("cannot read {name}: {e}")))?;
            masters.insert(v, Key::from_hex(&text)?);
        }
    }
    Ok(masters)
}

impl Vault {
    /// Loads the keys from `dir`, creating them (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Vault, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Keys(format!("cannot create {}: {e}", dir.display())))?;
        let mut masters = read_masters(dir)?;
        if masters.is_empty() {
            masters.insert(1, load_or_create_key(&dir.join(MASTER_FILE))?);
        }
        let finals: Vec<i64> = list_fingerprint_files(dir)?.into_iter().filter(|(_, p)| !p).map(|(v, _)| v).collect();
        let fingerprint_version = finals.into_iter().max().unwrap_or(1);
        let fingerprint_key = load_or_create_key(&dir.join(fingerprint_file(fingerprint_version)))?;
        let payment_password_key = load_or_create_key(&dir.join(PAYMENT_PASSWORD_FILE))?;
        let ring = Keyring { masters, checked: Instant::now() };
        Ok(Vault {
            ring: Arc::new(RwLock::new(ring)),
            fingerprint_key,
            fingerprint_version,
            payment_password_key,
            dir: Some(dir.to_owned()),
        })
    }

    /// Loads the keys from `dir` with the fingerprint key version the
    /// database records as in effect. Finishes a fingerprint rotation that
    /// committed in the database but crashed before its key file was made
    /// final, and discards the key of one that never committed.
    pub fn open(dir: &Path, fingerprint_version: i64) -> Result<Vault, StoreError> {
        let mut vault = Vault::load_or_create(dir)?;
        for (v, pending) in list_fingerprint_files(dir)? {
            if !pending {
                continue;
            }
            let path = dir.join(pending_fingerprint_file(v));
            if v == fingerprint_version {
                std::fs::rename(&path, dir.join(fingerprint_file(v)))
                    .map_err(|e| StoreError::Keys(format!("cannot finish key v{v}: {e}")))?;
            } else {
                std::fs::remove_file(&path).map_err(|e| StoreError::Keys(format!("cannot discard key v{v}: {e}")))?;
            }
        }
        let path = dir.join(fingerprint_file(fingerprint_version));
        let text = std::fs::read_to_string(&path).map_err(|_| {
            StoreError::Keys(format!(
                "the database uses fingerprint key v{fingerprint_version}, but {} is missing: copy it from the machine that rotated it",
                path.display()
            ))
        })?;
        vault.fingerprint_key = Key::from_hex(&text)?;
        vault.fingerprint_version = fingerprint_version;
        Ok(vault)
    }

    /// A check value per key (an HMAC of a fixed text under it, which
    /// reveals nothing of the key): instances sharing a database compare
    /// them at start (`Store::check_keys`).
    pub fn key_checks(&self) -> Vec<(String, String)> {
        const TEXT: &[u8] = b"bangka/key-check/v1";
        let mut out: Vec<(String, String)> = self
            .ring
            .read()
            .expect("keyring lock")
            .masters
            .iter()
            .map(|(v, k)| (format!("master-v{v}"), hex::encode(k.hmac(&[TEXT]))))
            .collect();
        out.push((format!("fingerprint-v{}", self.fingerprint_version), hex::encode(self.fingerprint_key.hmac(&[TEXT]))));
        out.push(("payment-password".into(), hex::encode(self.payment_password_key.hmac(&[TEXT]))));
        out
    }

    /// The version of the fingerprint key in use.
    pub fn fingerprint_version(&self) -> i64 {
        self.fingerprint_version
    }

    /// Writes the next fingerprint key as a pending file (mode 0600) and
    /// returns a vault computing under it. The caller re-keys the database
    /// with it and then calls [`Vault::commit_fingerprint_key`] on it.
    pub fn stage_fingerprint_key(&self) -> Result<Vault, StoreError> {
        let dir = self.dir.as_ref().ok_or_else(|| StoreError::Keys("an ephemeral vault has no key directory".into()))?;
        let next = self.fingerprint_version + 1;
        let key = Key::generate();
        let path = dir.join(pending_fingerprint_file(next));
        // A leftover from a rotation that never committed.
        let _ = std::fs::remove_file(&path);
        write_private(&path, &hex::encode(key.bytes()))?;
        Ok(Vault { fingerprint_key: key, fingerprint_version: next, ..self.clone() })
    }

    /// Makes this vault's staged fingerprint key final.
    pub fn commit_fingerprint_key(&self) -> Result<(), StoreError> {
        let dir = self.dir.as_ref().ok_or_else(|| StoreError::Keys("an ephemeral vault has no key directory".into()))?;
        let v = self.fingerprint_version;
        std::fs::rename(dir.join(pending_fingerprint_file(v)), dir.join(fingerprint_file(v)))
            .map_err(|e| StoreError::Keys(format!("cannot finish fingerprint key v{v}: {e}")))
    }

    /// Removes the files of older fingerprint keys (destroying them: hashes
    /// left under them, e.g. of shredded cards, can no longer be matched).
    pub fn remove_old_fingerprint_files(&self) -> Result<Vec<i64>, StoreError> {
        let dir = self.dir.as_ref().ok_or_else(|| StoreError::Keys("an ephemeral vault has no key directory".into()))?;
        let mut removed = Vec::new();
        for (v, pending) in list_fingerprint_files(dir)? {
            if !pending && v < self.fingerprint_version {
                std::fs::remove_file(dir.join(fingerprint_file(v)))
                    .map_err(|e| StoreError::Keys(format!("cannot remove fingerprint key v{v}: {e}")))?;
                removed.push(v);
            }
        }
        removed.sort_unstable();
        Ok(removed)
    }

    /// A vault with fresh random keys (tests).
    pub fn ephemeral() -> Vault {
        let ring = Keyring { masters: BTreeMap::from([(1, Key::generate())]), checked: Instant::now() };
        Vault {
            ring: Arc::new(RwLock::new(ring)),
            fingerprint_key: Key::generate(),
            fingerprint_version: 1,
            payment_password_key: Key::generate(),
            dir: None,
        }
    }

    /// Re-reads the key directory (new master keys appear there on rotation).
    fn refresh(&self, force: bool) {
        let Some(dir) = &self.dir else { return };
        if !force && self.ring.read().expect("keyring lock").checked.elapsed() < REFRESH_EVERY {
            return;
        }
        match read_masters(dir) {
            Ok(found) if !found.is_empty() => {
                let mut ring = self.ring.write().expect("keyring lock");
                // Keys already loaded stay (a retired file may be gone while
                // rows wrapped under it are being re-wrapped elsewhere).
                for (v, k) in found {
                    ring.masters.entry(v).or_insert(k);
                }
                ring.checked = Instant::now();
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "could not re-read the key directory; the loaded keys stay in use"),
        }
    }

    fn current_master(&self) -> (i64, Key) {
        self.refresh(false);
        self.ring.read().expect("keyring lock").current()
    }

    fn master(&self, version: i64) -> Result<Key, StoreError> {
        if let Some(k) = self.ring.read().expect("keyring lock").masters.get(&version) {
            return Ok(k.clone());
        }
        self.refresh(true);
        self.ring.read().expect("keyring lock").masters.get(&version).cloned().ok_or(StoreError::Crypto)
    }

    /// The version new seals are wrapped under.
    pub fn current_version(&self) -> i64 {
        self.current_master().0
    }

    /// Writes a new master key file (the next version, mode 0600) and makes
    /// it current for this vault. Other instances pick it up within seconds.
    pub fn create_next_master(&self) -> Result<i64, StoreError> {
        let dir = self.dir.as_ref().ok_or_else(|| StoreError::Keys("an ephemeral vault has no key directory".into()))?;
        self.refresh(true);
        let next = self.ring.read().expect("keyring lock").current().0 + 1;
        let key = Key::generate();
        write_private(&dir.join(master_file(next)), &hex::encode(key.bytes()))?;
        self.ring.write().expect("keyring lock").masters.insert(next, key);
        Ok(next)
    }

    /// Removes the files of master keys older than the current one (call
    /// only when no row is wrapped under them any more).
    pub fn remove_old_master_files(&self) -> Result<Vec<i64>, StoreError> {
        let dir = self.dir.as_ref().ok_or_else(|| StoreError::Keys("an ephemeral vault has no key directory".into()))?;
        let current = self.current_version();
        let mut removed = Vec::new();
        for v in read_masters(dir)?.keys().copied().filter(|v| *v < current) {
            std::fs::remove_file(dir.join(master_file(v))).map_err(|e| StoreError::Keys(format!("cannot remove key v{v}: {e}")))?;
            removed.push(v);
        }
        Ok(removed)
    }

    /// The card's fingerprint: a keyed hash, equal for equal PANs.
    pub fn fingerprint(&self, pan: &Pan) -> String {
        hex::encode(self.fingerprint_key.hmac(&[b"bangka/pan-fingerprint/v1", pan.expose().as_bytes()]))
    }

    /// A keyed hash of holder data (name, ID, phone), for equality checks
    /// without keeping the value readable.
    pub fn mac(&self, label: &str, parts: &[&str]) -> String {
        let mut all: Vec<&[u8]> = vec![b"bangka/mac/v1", label.as_bytes()];
        all.extend(parts.iter().map(|p| p.as_bytes()));
        hex::encode(self.fingerprint_key.hmac(&all))
    }

    /// How an account's payment password is stored: a MAC under the
    /// payment-password key, bound to the account (equal passwords on two
    /// accounts store differently).
    pub fn payment_password_mac(&self, account_id: &str, password: &str) -> String {
        let mac = self.payment_password_key.hmac(&[b"bangka/payment-password/v1", account_id.as_bytes(), password.as_bytes()]);
        format!("{PAYMENT_PASSWORD_MAC}{}", hex::encode(mac))
    }

    /// Whether `stored` is a payment-password MAC (not an older argon2 hash).
    pub fn is_payment_password_mac(stored: &str) -> bool {
        stored.starts_with(PAYMENT_PASSWORD_MAC)
    }

    /// Checks a payment password against its stored MAC, in constant time.
    pub fn payment_password_matches(&self, account_id: &str, password: &str, stored: &str) -> bool {
        use subtle::ConstantTimeEq;
        let expected = self.payment_password_mac(account_id, password);
        expected.as_bytes().ct_eq(stored.as_bytes()).into()
    }

    /// The keyed hash of a KYC real name, compared to what a bind types.
    pub fn kyc_name_mac(&self, name: &str) -> String {
        self.mac("kyc-name", &[name])
    }

    /// The keyed hash of a KYC resident ID number.
    pub fn kyc_id_mac(&self, id_number: &str) -> String {
        self.mac("kyc-id", &[id_number])
    }

    /// A keyed hash of raw bytes (request bodies for idempotency: they may
    /// hold a card number, so a plain hash would be guessable).
    pub fn mac_bytes(&self, label: &str, parts: &[&[u8]]) -> String {
        let mut all: Vec<&[u8]> = vec![b"bangka/mac-bytes/v1", label.as_bytes()];
        all.extend_from_slice(parts);
        hex::encode(self.fingerprint_key.hmac(&all))
    }

    /// The keyed hash an OTP is stored as, bound to its challenge. (Under the
    /// fingerprint key, not the master key, so a rotation never invalidates
    /// a code in flight.)
    pub fn otp_mac(&self, challenge_id: &str, code: &str) -> Vec<u8> {
        self.fingerprint_key.hmac(&[b"bangka/otp/v1", challenge_id.as_bytes(), code.as_bytes()]).to_vec()
    }

    pub fn seal_pan(&self, id: &str, pan: &Pan) -> SealedCard {
        let (version, master) = self.current_master();
        let (pan_ct, pan_nonce, dek) = seal_with_fresh_dek(id, pan.expose().as_bytes());
        let (wrapped_dek, dek_nonce) = wrap(&master, version, id, dek.bytes());
        SealedCard {
            id: id.to_owned(),
            fingerprint: self.fingerprint(pan),
            key_version: version,
            wrapped_dek,
            dek_nonce,
            pan_ct,
            pan_nonce,
        }
    }

    pub fn open_pan(&self, card: &SealedCard) -> Result<Pan, StoreError> {
        let dek = unwrap(&self.master(card.key_version)?, card.key_version, &card.id, &card.wrapped_dek, &card.dek_nonce)?;
        let clear = open_with(&dek, &card.id, &card.pan_ct, &card.pan_nonce)?;
        let s = std::str::from_utf8(&clear).map_err(|_| StoreError::Crypto)?;
        Pan::parse(s).map_err(|_| StoreError::Crypto)
    }

    /// Re-wraps a card's data key under the current master key. `None` when
    /// it already is; the card data itself is not re-encrypted.
    pub fn rewrap_dek(&self, id: &str, version: i64, wrapped: &[u8], nonce: &[u8]) -> Result<Option<Rewrapped>, StoreError> {
        let (current, master) = self.current_master();
        if version == current {
            return Ok(None);
        }
        let dek = unwrap(&self.master(version)?, version, id, wrapped, nonce)?;
        let (w, n) = wrap(&master, current, id, &dek);
        Ok(Some((current, w, n)))
    }

    /// Seals a small holder value (name, ID number) into one blob:
    /// `version(8, big-endian) || dek_nonce(12) || wrapped_dek(48) || nonce(12) || ciphertext`.
    pub fn seal_value(&self, context: &str, value: &str) -> Vec<u8> {
        let (version, master) = self.current_master();
        let (ct, n, dek) = seal_with_fresh_dek(context, value.as_bytes());
        let (wrapped, dn) = wrap(&master, version, context, dek.bytes());
        [&version.to_be_bytes()[..], &dn, &wrapped, &n, &ct].concat()
    }

    pub fn open_value(&self, context: &str, blob: &[u8]) -> Result<Zeroizing<String>, StoreError> {
        let (version, dn, wrapped, n, ct) = split_blob(blob)?;
        let dek = unwrap(&self.master(version)?, version, context, wrapped, dn)?;
        let clear = open_with(&dek, context, ct, n)?;
        String::from_utf8(clear.to_vec()).map(Zeroizing::new).map_err(|_| StoreError::Crypto)
    }

    /// Re-wraps a sealed value's data key under the current master key;
    /// `None` when it already is.
    pub fn rewrap_value(&self, context: &str, blob: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let (version, dn, wrapped, n, ct) = split_blob(blob)?;
        let (current, master) = self.current_master();
        if version == current {
            return Ok(None);
        }
        let dek = unwrap(&self.master(version)?, version, context, wrapped, dn)?;
        let (w2, n2) = wrap(&master, current, context, &dek);
        Ok(Some([&current.to_be_bytes()[..], &n2, &w2, n, ct].concat()))
    }
}

/// The context (associated data) a token's sealed key is bound to.
pub fn token_key_context(token_id: &str) -> String {
    format!("token-key/{token_id}")
}

/// The master key version a sealed value is wrapped under.
pub fn sealed_value_version(blob: &[u8]) -> Result<i64, StoreError> {
    split_blob(blob).map(|(v, ..)| v)
}

/// What a payment cryptogram covers: one token, one counter value, one
/// amount to one merchant, until one time.
#[derive(Debug, Clone, Copy)]
pub struct CryptogramInput<'a> {
    pub token_number: &'a str,
    pub atc: i64,
    pub amount_minor: i64,
    pub currency: &'a str,
    pub merchant_id: &'a str,
    pub expires_at_ms: i64,
}

impl Vault {
    /// A fresh 256-bit per-token key, sealed for storage like any value.
    pub fn new_token_key(&self, token_id: &str) -> Vec<u8> {
        let key = Key::generate();
        self.seal_value(&token_key_context(token_id), &hex::encode(key.bytes()))
    }

    /// The one-time cryptogram: HMAC-SHA256 under the token's key over every
    /// field (length-prefixed), truncated to 8 bytes (16 hex digits) as EMV
    /// application cryptograms are.
    pub fn cryptogram(&self, token_id: &str, sealed_key: &[u8], c: &CryptogramInput<'_>) -> Result<String, StoreError> {
        let key_hex = self.open_value(&token_key_context(token_id), sealed_key)?;
        let key = Key::from_hex(&key_hex)?;
        let mac = key.hmac(&[
            b"bangka/cryptogram/v1",
            c.token_number.as_bytes(),
            &c.atc.to_be_bytes(),
            &c.amount_minor.to_be_bytes(),
            c.currency.as_bytes(),
            c.merchant_id.as_bytes(),
            &c.expires_at_ms.to_be_bytes(),
        ]);
        Ok(hex::encode(&mac[..8]))
    }

    /// Recomputes and compares in constant time.
    pub fn verify_cryptogram(
        &self,
        token_id: &str,
        sealed_key: &[u8],
        c: &CryptogramInput<'_>,
        presented: &str,
    ) -> Result<bool, StoreError> {
        use subtle::ConstantTimeEq;
        let want = self.cryptogram(token_id, sealed_key, c)?;
        Ok(want.len() == presented.len() && bool::from(want.as_bytes().ct_eq(presented.as_bytes())))
    }
}

/// A re-wrapped data key: (key version, wrapped key, nonce).
pub type Rewrapped = (i64, Vec<u8>, Vec<u8>);

type BlobParts<'a> = (i64, &'a [u8], &'a [u8], &'a [u8], &'a [u8]);

fn split_blob(blob: &[u8]) -> Result<BlobParts<'_>, StoreError> {
    if blob.len() < 8 + 12 + 48 + 12 {
        return Err(StoreError::Crypto);
    }
    let (v, rest) = blob.split_at(8);
    let version = i64::from_be_bytes(v.try_into().map_err(|_| StoreError::Crypto)?);
    let (dn, rest) = rest.split_at(12);
    let (wrapped, rest) = rest.split_at(48);
    let (n, ct) = rest.split_at(12);
    Ok((version, dn, wrapped, n, ct))
}

/// Encrypts under a fresh data key; returns (ciphertext, nonce, data key).
fn seal_with_fresh_dek(aad: &str, clear: &[u8]) -> (Vec<u8>, Vec<u8>, Key) {
    let dek = Key::generate();
    let nonce = random_nonce();
    let ct = dek
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: clear, aad: aad.as_bytes() })
        .expect("AES-GCM encryption does not fail for small inputs");
    (ct, nonce.to_vec(), dek)
}

fn open_with(dek: &[u8], aad: &str, ct: &[u8], nonce: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if nonce.len() != 12 {
        return Err(StoreError::Crypto);
    }
    let cipher = Aes256Gcm::new_from_slice(dek).map_err(|_| StoreError::Crypto)?;
    cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() }).map(Zeroizing::new).map_err(|_| StoreError::Crypto)
}

/// Wraps a data key under a master key; the associated data binds the row
/// and the key version, so a wrapped key cannot be moved or relabelled.
fn wrap(master: &Key, version: i64, aad: &str, dek: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let nonce = random_nonce();
    let wrap_aad = format!("{aad}|v{version}");
    let wrapped = master
        .cipher()
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: dek, aad: wrap_aad.as_bytes() })
        .expect("AES-GCM encryption does not fail for small inputs");
    (wrapped, nonce.to_vec())
}

fn unwrap(master: &Key, version: i64, aad: &str, wrapped: &[u8], nonce: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
    if nonce.len() != 12 {
        return Err(StoreError::Crypto);
    }
    let wrap_aad = format!("{aad}|v{version}");
    master
        .cipher()
        .decrypt(Nonce::from_slice(nonce), Payload { msg: wrapped, aad: wrap_aad.as_bytes() })
        .map(Zeroizing::new)
        .map_err(|_| StoreError::Crypto)
}

fn random_nonce() -> [u8; 12] {
    let mut n = [0u8; 12];
    OsRng.fill_bytes(&mut n);
    n
}

fn load_or_create_key(path: &Path) -> Result<Key, StoreError> {
    match std::fs::read_to_string(path) {
        Ok(s) => Key::from_hex(&s),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Key::generate();
            write_private(path, &hex::encode(key.bytes()))?;
            Ok(key)
        }
        Err(e) => Err(StoreError::Keys(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes a file readable by its owner only (0600), refusing to overwrite.
pub(crate) fn write_private(path: &Path, contents: &str) -> Result<(), StoreError> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).map_err(|e| StoreError::Keys(format!("cannot create {}: {e}", path.display())))?;
    f.write_all(contents.as_bytes())
        .and_then(|_| f.sync_all())
        .map_err(|e| StoreError::Keys(format!("cannot write {}: {e}", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bangka_core::card::luhn_check_digit;

    fn pan() -> Pan {
        let p = "622202000012345678";
        Pan::parse(&format!("{p}{}", luhn_check_digit(p))).unwrap()
    }

    #[test]
    fn seal_and_open_round_trip_and_ciphertext_hides_pan() {
        let v = Vault::ephemeral();
        let sealed = v.seal_pan("vc_1", &pan());
        assert_eq!(v.open_pan(&sealed).unwrap(), pan());
        assert!(!sealed.pan_ct.windows(4).any(|w| w == &pan().expose().as_bytes()[..4]));
    }

    #[test]
    fn swapped_rows_and_other_keys_fail() {
        let v = Vault::ephemeral();
        let mut sealed = v.seal_pan("vc_1", &pan());
        sealed.id = "vc_2".into();
        assert!(v.open_pan(&sealed).is_err());
        let sealed = v.seal_pan("vc_1", &pan());
        assert!(Vault::ephemeral().open_pan(&sealed).is_err());
    }

    #[test]
    fn fingerprints_are_stable_and_keyed() {
        let v = Vault::ephemeral();
        assert_eq!(v.fingerprint(&pan()), v.fingerprint(&pan()));
        assert_ne!(v.fingerprint(&pan()), Vault::ephemeral().fingerprint(&pan()));
        assert!(!v.fingerprint(&pan()).contains(pan().expose()));
    }

    #[test]
    fn values_round_trip() {
        let v = Vault::ephemeral();
        let blob = v.seal_value("acc_1/name", "张三");
        assert_eq!(v.open_value("acc_1/name", &blob).unwrap().as_str(), "张三");
        assert!(v.open_value("acc_2/name", &blob).is_err());
    }

    #[test]
    fn rotation_rewraps_keys_and_old_files_can_go() {
        let dir = std::env::temp_dir().join(format!("bangka-rot-{}", rand::random::<u64>()));
        let v = Vault::load_or_create(&dir).unwrap();
        let sealed = v.seal_pan("vc_1", &pan());
        let blob = v.seal_value("acc/name", "张三");
        assert_eq!(v.create_next_master().unwrap(), 2);
        assert_eq!(v.current_version(), 2);
        // Old seals still open; new seals use v2.
        assert_eq!(v.open_pan(&sealed).unwrap(), pan());
        assert_eq!(v.seal_pan("vc_2", &pan()).key_version, 2);
        let (ver, w, n) = v.rewrap_dek(&sealed.id, sealed.key_version, &sealed.wrapped_dek, &sealed.dek_nonce).unwrap().unwrap();
        let rewrapped = SealedCard { key_version: ver, wrapped_dek: w, dek_nonce: n, ..sealed.clone() };
        assert_eq!(rewrapped.pan_ct, sealed.pan_ct, "card data is not re-encrypted");
        let blob2 = v.rewrap_value("acc/name", &blob).unwrap().unwrap();
        assert!(v.rewrap_value("acc/name", &blob2).unwrap().is_none());
        assert_eq!(v.remove_old_master_files().unwrap(), vec![1]);
        // A fresh start (as after a restart) has only v2, and opens the re-wrapped rows.
        let restarted = Vault::load_or_create(&dir).unwrap();
        assert_eq!(restarted.current_version(), 2);
        assert_eq!(restarted.open_pan(&rewrapped).unwrap(), pan());
        assert_eq!(restarted.open_value("acc/name", &blob2).unwrap().as_str(), "张三");
        assert!(restarted.open_pan(&sealed).is_err(), "v1-wrapped key is gone with its file");
        // Relabelling a wrapped key's version is detected.
        let relabelled = SealedCard { key_version: 2, ..sealed };
        assert!(restarted.open_pan(&relabelled).is_err());
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn a_running_vault_sees_a_key_rotated_by_another_process() {
        let dir = std::env::temp_dir().join(format!("bangka-rot2-{}", rand::random::<u64>()));
        let server = Vault::load_or_create(&dir).unwrap();
        let cli = Vault::load_or_create(&dir).unwrap();
        cli.create_next_master().unwrap();
        let sealed = cli.seal_pan("vc_1", &pan());
        // An unknown version makes the running vault re-read the directory.
        assert_eq!(server.open_pan(&sealed).unwrap(), pan());
        assert_eq!(server.current_version(), 2);
        std::fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn cryptograms_bind_every_field() {
        let v = Vault::ephemeral();
        let key = v.new_token_key("tok_1");
        let base = CryptogramInput {
            token_number: "9900011234567890",
            atc: 7,
            amount_minor: 1234,
            currency: "CNY",
            merchant_id: "m_1",
            expires_at_ms: 1_000,
        };
        let c = v.cryptogram("tok_1", &key, &base).unwrap();
        assert_eq!(c.len(), 16);
        assert_eq!(c, v.cryptogram("tok_1", &key, &base).unwrap());
        assert!(v.verify_cryptogram("tok_1", &key, &base, &c).unwrap());
        let variants = [
            CryptogramInput { atc: 8, ..base },
            CryptogramInput { amount_minor: 1235, ..base },
            CryptogramInput { currency: "USD", ..base },
            CryptogramInput { merchant_id: "m_2", ..base },
            CryptogramInput { expires_at_ms: 1_001, ..base },
            CryptogramInput { token_number: "9900011234567891", ..base },
        ];
        for other in variants {
            assert!(!v.verify_cryptogram("tok_1", &key, &other, &c).unwrap(), "{other:?}");
        }
        // Another token's key, or the key under another token's id, does not verify.
        let key2 = v.new_token_key("tok_2");
        assert!(!v.verify_cryptogram("tok_2", &key2, &base, &c).unwrap());
        assert!(v.cryptogram("tok_2", &key, &base).is_err());
    }

    #[test]
    fn key_files_are_created_private_and_reloaded() {
        let dir = std::env::temp_dir().join(format!("bangka-vault-{}", rand::random::<u64>()));
        let v1 = Vault::load_or_create(&dir).unwrap();
        let v2 = Vault::load_or_create(&dir).unwrap();
        assert_eq!(v1.fingerprint(&pan()), v2.fingerprint(&pan()));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(MASTER_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}
