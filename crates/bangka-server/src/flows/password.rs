//! The payment password's hash and check (a leaf: accounts, risk and the
//! flows that confirm with the password all use it).

use bangka_core::holder::PaymentPassword;
use bangka_store::Vault;

use crate::error::ApiResult;
use crate::state::AppState;

/// How a payment password is stored: a MAC under the payment-password key
/// (`Vault::payment_password_mac`). A six-digit secret has a million
/// values, so a slow hash makes every payment slow (argon2id took ~30 ms of
/// CPU and 19 MiB) without stopping anyone who has the database; a key kept
/// outside the database does, and the online lockouts stop guessing.
pub fn hash_password(app: &AppState, account_id: &str, pw: &PaymentPassword) -> String {
    app.vault.payment_password_mac(account_id, pw.expose())
}

/// Checks a payment password. An argon2id hash from before the MAC is
/// checked the slow way once and, when it matches, replaced by the MAC.
pub async fn verify_password(app: &AppState, account_id: &str, pw: PaymentPassword, stored: String) -> ApiResult<bool> {
    if Vault::is_payment_password_mac(&stored) {
        return Ok(app.vault.payment_password_matches(account_id, pw.expose(), &stored));
    }
    let mac = hash_password(app, account_id, &pw);
    let checked = stored.clone();
    let ok = tokio::task::spawn_blocking(move || {
        use argon2::password_hash::{PasswordHash, PasswordVerifier};
        PasswordHash::new(&checked).map(|h| argon2::Argon2::default().verify_password(pw.expose().as_bytes(), &h).is_ok())
    })
    .await
    .map_err(anyhow::Error::from)?
    .map_err(|e| anyhow::anyhow!("stored payment password hash: {e}"))?;
    if ok {
        app.store.upgrade_payment_password_hash(account_id, &stored, &mac).await?;
    }
    Ok(ok)
}
