//! The card vault: the only place a PAN exists in the clear outside a request.
//!
//! Envelope encryption: each card gets a fresh 256-bit data key (DEK); the PAN
//! is sealed with AES-256-GCM under the DEK, and the DEK is wrapped with
//! AES-256-GCM under the master key (KEK). Both seals bind the record id as
//! associated data, so ciphertexts cannot be swapped between rows. Destroying
//! a record's wrapped DEK makes its PAN unrecoverable (crypto-shredding).
//! Fingerprints are HMAC-SHA256 under a separate key, so equal cards can be
//! found without decrypting anything.

use std::path::Path;

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

/// The vault's keys and operations. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Vault {
    master: Key,
    master_version: i64,
    fingerprint_key: Key,
}

const MASTER_FILE: &str = "master.key";
const FINGERPRINT_FILE: &str = "fingerprint.key";

impl Vault {
    /// Loads the keys from `dir`, creating them (mode 0600) on first start.
    pub fn load_or_create(dir: &Path) -> Result<Vault, StoreError> {
        std::fs::create_dir_all(dir).map_err(|e| StoreError::Keys(format!("cannot create {}: {e}", dir.display())))?;
        let master = load_or_create_key(&dir.join(MASTER_FILE))?;
        let fingerprint_key = load_or_create_key(&dir.join(FINGERPRINT_FILE))?;
        Ok(Vault { master, master_version: 1, fingerprint_key })
    }

    /// A vault with fresh random keys (tests).
    pub fn ephemeral() -> Vault {
        Vault { master: Key::generate(), master_version: 1, fingerprint_key: Key::generate() }
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

    /// A keyed hash of raw bytes (request bodies for idempotency: they may
    /// hold a card number, so a plain hash would be guessable).
    pub fn mac_bytes(&self, label: &str, parts: &[&[u8]]) -> String {
        let mut all: Vec<&[u8]> = vec![b"bangka/mac-bytes/v1", label.as_bytes()];
        all.extend_from_slice(parts);
        hex::encode(self.fingerprint_key.hmac(&all))
    }

    /// The keyed hash an OTP is stored as, bound to its challenge.
    pub fn otp_mac(&self, challenge_id: &str, code: &str) -> Vec<u8> {
        self.master.hmac(&[b"bangka/otp/v1", challenge_id.as_bytes(), code.as_bytes()]).to_vec()
    }

    pub fn seal_pan(&self, id: &str, pan: &Pan) -> SealedCard {
        let (wrapped_dek, dek_nonce, pan_ct, pan_nonce) = self.seal(id, pan.expose().as_bytes());
        SealedCard {
            id: id.to_owned(),
            fingerprint: self.fingerprint(pan),
            key_version: self.master_version,
            wrapped_dek,
            dek_nonce,
            pan_ct,
            pan_nonce,
        }
    }

    pub fn open_pan(&self, card: &SealedCard) -> Result<Pan, StoreError> {
        let clear = self.open(&card.id, &card.wrapped_dek, &card.dek_nonce, &card.pan_ct, &card.pan_nonce)?;
        let s = std::str::from_utf8(&clear).map_err(|_| StoreError::Crypto)?;
        Pan::parse(s).map_err(|_| StoreError::Crypto)
    }

    /// Seals a small holder value (name, ID number) into one blob:
    /// `dek_nonce(12) || wrapped_dek(48) || nonce(12) || ciphertext`.
    pub fn seal_value(&self, context: &str, value: &str) -> Vec<u8> {
        let (wrapped, dn, ct, n) = self.seal(context, value.as_bytes());
        [dn, wrapped, n, ct].concat()
    }

    pub fn open_value(&self, context: &str, blob: &[u8]) -> Result<Zeroizing<String>, StoreError> {
        if blob.len() < 12 + 48 + 12 {
            return Err(StoreError::Crypto);
        }
        let (dn, rest) = blob.split_at(12);
        let (wrapped, rest) = rest.split_at(48);
        let (n, ct) = rest.split_at(12);
        let clear = self.open(context, wrapped, dn, ct, n)?;
        String::from_utf8(clear.to_vec()).map(Zeroizing::new).map_err(|_| StoreError::Crypto)
    }

    fn seal(&self, aad: &str, clear: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>, Vec<u8>) {
        let dek = Key::generate();
        let pan_nonce = random_nonce();
        let ct = dek
            .cipher()
            .encrypt(Nonce::from_slice(&pan_nonce), Payload { msg: clear, aad: aad.as_bytes() })
            .expect("AES-GCM encryption does not fail for small inputs");
        let dek_nonce = random_nonce();
        let wrap_aad = format!("{aad}|v{}", self.master_version);
        let wrapped = self
            .master
            .cipher()
            .encrypt(Nonce::from_slice(&dek_nonce), Payload { msg: dek.bytes(), aad: wrap_aad.as_bytes() })
            .expect("AES-GCM encryption does not fail for small inputs");
        (wrapped, dek_nonce.to_vec(), ct, pan_nonce.to_vec())
    }

    fn open(&self, aad: &str, wrapped: &[u8], dek_nonce: &[u8], ct: &[u8], nonce: &[u8]) -> Result<Zeroizing<Vec<u8>>, StoreError> {
        if dek_nonce.len() != 12 || nonce.len() != 12 {
            return Err(StoreError::Crypto);
        }
        let wrap_aad = format!("{aad}|v{}", self.master_version);
        let dek = Zeroizing::new(
            self.master
                .cipher()
                .decrypt(Nonce::from_slice(dek_nonce), Payload { msg: wrapped, aad: wrap_aad.as_bytes() })
                .map_err(|_| StoreError::Crypto)?,
        );
        let cipher = Aes256Gcm::new_from_slice(&dek).map_err(|_| StoreError::Crypto)?;
        let clear = cipher.decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad: aad.as_bytes() }).map_err(|_| StoreError::Crypto)?;
        Ok(Zeroizing::new(clear))
    }
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
fn write_private(path: &Path, contents: &str) -> Result<(), StoreError> {
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
