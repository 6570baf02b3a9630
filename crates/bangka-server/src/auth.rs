//! API keys and roles. Keys are random 256-bit strings shown once; only their
//! SHA-256 is stored (a key has full entropy, so a slow hash adds nothing).

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use bangka_core::ErrorCode;
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Wallet,
    /// A merchant (or its acquirer) presenting tokens for payment.
    Merchant,
    Support,
    Risk,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Wallet => "wallet",
            Role::Merchant => "merchant",
            Role::Support => "support",
            Role::Risk => "risk",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::Wallet, Role::Merchant, Role::Support, Role::Risk, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// A new key: `bk_<role>_<64 hex>`.
pub fn generate_key(role: Role) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("bk_{}_{}", role.as_str(), hex::encode(bytes))
}

pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Principal {
    pub key_id: String,
    pub role: Role,
    /// The merchant a merchant key speaks for (`bangka keys create --role
    /// merchant --merchant-id M`): its payments must name that merchant,
    /// and only such a key charges that merchant's autopay agreements.
    pub merchant_id: Option<String>,
}

/// A caller with the wallet role (the `/v1/accounts/...` API).
#[derive(Debug, Clone)]
pub struct WalletAuth(pub Principal);

async fn authenticate(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ErrorCode::Unauthenticated)?;
    let key = value.strip_prefix("Bearer ").map(str::trim).filter(|k| !k.is_empty() && k.len() <= 200).ok_or(ErrorCode::Unauthenticated)?;
    let found = state.store.find_api_key(&hash_key(key)).await?.ok_or(ErrorCode::Unauthenticated)?;
    let role = Role::parse(&found.role).ok_or(ErrorCode::Unauthenticated)?;
    Ok(Principal { key_id: found.id, role, merchant_id: found.merchant_id })
}

impl FromRequestParts<AppState> for WalletAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.role != Role::Wallet {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(WalletAuth(p))
    }
}

/// A caller that may present tokens for payment: a merchant, or a wallet
/// acting as the merchant gateway for its own in-app purchases.
#[derive(Debug, Clone)]
pub struct PaymentsAuth(pub Principal);

impl FromRequestParts<AppState> for PaymentsAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if !matches!(p.role, Role::Merchant | Role::Wallet) {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(PaymentsAuth(p))
    }
}

/// A merchant key (autopay charges: the key is the merchant's only proof
/// of who it is, so it must be bound to a merchant id).
#[derive(Debug, Clone)]
pub struct MerchantAuth(pub Principal);

impl FromRequestParts<AppState> for MerchantAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.role != Role::Merchant {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(MerchantAuth(p))
    }
}

/// An operator (support, risk, admin): the `/v1/ops/...` API. Each handler
/// narrows the roles further with [`OpsAuth::require`].
#[derive(Debug, Clone)]
pub struct OpsAuth(pub Principal);

impl OpsAuth {
    pub fn require(&self, roles: &[Role]) -> Result<&Principal, ApiError> {
        if roles.contains(&self.0.role) { Ok(&self.0) } else { Err(ErrorCode::Forbidden.into()) }
    }
}

impl FromRequestParts<AppState> for OpsAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if !matches!(p.role, Role::Support | Role::Risk | Role::Admin) {
            return Err(ErrorCode::Forbidden.into());
        }
        Ok(OpsAuth(p))
    }
}
