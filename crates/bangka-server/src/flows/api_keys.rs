//! API keys for administrators (issue 24): the same lifecycle as `bangka
//! keys list|create|revoke|rotate`, over `/v1/ops/keys` and in the console.
//!
//! An admin key manages the keys of its own mode only: a test admin key
//! never sees, makes or ends a live key (the other mode's keys answer 404,
//! as for any object of the other mode). The key itself is shown once, in
//! the answer that made it, and never kept: the store holds its hash, and a
//! replayed answer (`Idempotency-Key`) leaves it out. Every change is
//! audited by the store in the change's transaction; a revocation reaches
//! every instance within a second (`crate::key_cache`).

use bangka_core::ErrorCode;
use bangka_core::api_version::ApiVersion;
use bangka_core::mode::Mode;
use bangka_store::{ApiKeyRow, Cause, KeyChange, NewApiKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::auth::{Duty, OpsAuth, Role, generate_key, hash_key};
use crate::error::{ApiResult, malformed};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::Timestamp;

/// How long both keys work after a rotation, unless the request says.
pub const DEFAULT_OVERLAP: Duration = Duration::hours(24);
/// The longest overlap (and expiry) a request may ask for.
pub const MAX_OVERLAP: Duration = Duration::days(30);
pub const MAX_EXPIRY: Duration = Duration::days(3650);

/// A key's name: up to 100 printable characters, blank for none. Shared
/// with `bangka keys create --name`.
pub fn parse_key_name(name: Option<&str>) -> Result<Option<String>, &'static str> {
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    match name {
        Some(n) if n.chars().count() > 100 || n.chars().any(char::is_control) => Err("up to 100 printable characters"),
        n => Ok(n.map(str::to_owned)),
    }
}

/// `POST /v1/ops/keys`.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKeyBody {
    /// `wallet`, `merchant`, `support`, `risk` or `admin`.
    pub role: String,
    /// `test` or `live`: the mode of the admin key asking (the default);
    /// an admin key makes keys of its own mode only.
    pub mode: Option<String>,
    /// What the key is for, e.g. `wallet-prod-1` (up to 100 characters).
    pub name: Option<String>,
    /// How long until it stops working, e.g. `90d` or `12h`; none: no expiry.
    pub expires_in: Option<String>,
    /// A merchant key only: the merchant it speaks for.
    pub merchant_id: Option<String>,
    /// The API version the key's requests get (the current one by default:
    /// `2026-12-01`); an older one for a wallet built against it.
    pub api_version: Option<String>,
}

/// `POST /v1/ops/keys/{kid}/rotate`.
#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct RotateBody {
    /// How long the old key keeps working beside the new one, e.g. `24h`
    /// (the default) or `10m`; at most 30 days.
    pub overlap: Option<String>,
}

/// An API key as administrators see it: never the key itself.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: String,
    pub name: Option<String>,
    /// `wallet`, `merchant`, `support`, `risk` or `admin`.
    pub role: String,
    /// `test` or `live`.
    pub mode: String,
    /// `active`, `expired` or `revoked`.
    #[schema(schema_with = crate::views::states::<KeyStatus>)]
    pub status: KeyStatus,
    pub merchant_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: crate::views::Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub last_used_at: Option<crate::views::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub expires_at: Option<crate::views::Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub revoked_at: Option<crate::views::Timestamp>,
    /// The key a rotation made in its place.
    pub replaced_by: Option<String>,
    /// The API version its requests get unless they send `Bangka-Version`.
    #[schema(schema_with = crate::views::states::<ApiVersion>)]
    pub api_version: ApiVersion,
}

/// Where a key stands: `active`, `expired` (past its `expires_at`) or
/// `revoked`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Expired, KeyStatus::Revoked];

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Expired => "expired",
            KeyStatus::Revoked => "revoked",
        }
    }
}

impl crate::views::States for KeyStatus {
    const ALL: &'static [Self] = &KeyStatus::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}

impl ApiKeyView {
    fn new(k: &ApiKeyRow, now: OffsetDateTime) -> ApiKeyView {
        let status = if k.revoked_at.is_some() {
            KeyStatus::Revoked
        } else if k.is_usable(now) {
            KeyStatus::Active
        } else {
            KeyStatus::Expired
        };
        ApiKeyView {
            id: k.id.clone(),
            name: k.name.clone(),
            role: k.role.clone(),
            mode: k.mode.as_str().into(),
            status,
            merchant_id: k.merchant_id.clone(),
            created_at: Timestamp(k.created_at),
            last_used_at: k.last_used_at.map(Timestamp),
            expires_at: k.expires_at.map(Timestamp),
            revoked_at: k.revoked_at.map(Timestamp),
            replaced_by: k.replaced_by.clone(),
            api_version: k.api_version,
        }
    }
}

crate::views::list_view!(
    /// The keys of this admin key's mode, newest first.
    ApiKeyList of ApiKeyView
);

/// A key just made (created or rotated in): the key itself, shown this once.
#[derive(Serialize, ToSchema)]
pub struct NewApiKeyView {
    /// The key (`bk_<mode>_<role>_…`). Shown only in this answer: a replay
    /// of the request (same `Idempotency-Key`) has `key: null`, and Bangka
    /// keeps only its hash.
    pub key: Option<String>,
    pub api_key: ApiKeyView,
}

fn duration(field: &str, s: &str, max: Duration) -> ApiResult<Duration> {
    match bangka_core::clock::parse_duration(s) {
        Ok(d) if d.is_positive() && d <= max => Ok(d),
        _ => Err(malformed(field, "a positive duration such as 90d, 12h or 30m, within the limit").into()),
    }
}

/// The key `id`, if it is one of the caller's mode.
async fn own_mode_key(app: &AppState, mode: Mode, id: &str) -> ApiResult<ApiKeyRow> {
    match app.store.get_api_key(id).await? {
        Some(k) if k.mode == mode => Ok(k),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// `GET /v1/ops/keys` (admin): every key of the caller's mode, newest first.
pub async fn list(app: &AppState, who: &OpsAuth, page: &bangka_store::PageRequest) -> ApiResult<ApiKeyList> {
    let p = who.require(Duty::ManageKeys)?;
    let now = app.clock.now();
    Ok(ApiKeyList::new(app.store.api_key_page(p.mode, page).await?.map(|k| ApiKeyView::new(&k, now))))
}

/// `POST /v1/ops/keys` (admin).
pub async fn create(app: &AppState, who: &OpsAuth, body: NewKeyBody) -> ApiResult<Answer<NewApiKeyView>> {
    let p = who.require(Duty::ManageKeys)?;
    let role = Role::parse(&body.role).ok_or_else(|| malformed("role", "wallet, merchant, support, risk or admin"))?;
    if let Some(m) = body.mode.as_deref()
        && Mode::parse(m) != Some(p.mode)
    {
        let why = if p.mode == Mode::Live { "live: a live admin key makes live keys" } else { "test: a test admin key makes test keys" };
        return Err(malformed("mode", why).into());
    }
    let name = parse_key_name(body.name.as_deref()).map_err(|why| malformed("name", why))?;
    let merchant_id = match (role, body.merchant_id.as_deref()) {
        (_, None) => None,
        (Role::Merchant, Some(m)) => Some(bangka_core::payment::MerchantId::parse(m)?),
        (_, Some(_)) => return Err(malformed("merchant_id", "only for a merchant key").into()),
    };
    let expires = body.expires_in.as_deref().map(|d| duration("expires_in", d, MAX_EXPIRY)).transpose()?;
    let api_version = match body.api_version.as_deref() {
        None => ApiVersion::CURRENT,
        Some(v) => ApiVersion::parse(v).ok_or_else(|| malformed("api_version", "a version the API has, e.g. 2026-12-01"))?,
    };
    let now = app.clock.now();
    let key = generate_key(role, p.mode);
    let new = NewApiKey {
        role: role.as_str(),
        mode: p.mode,
        key_hash: &hash_key(&key),
        name: name.as_deref(),
        merchant_id: merchant_id.as_ref().map(|m| m.as_str()),
        expires_at: expires.map(|d| now + d),
        api_version,
    };
    let row = app.store.create_api_key(new, Cause::api(p.actor()), now).await?;
    tracing::info!(key_id = %row.id, role = role.as_str(), mode = p.mode.as_str(), "API key created");
    Ok(Answer::created(NewApiKeyView { key: Some(key), api_key: ApiKeyView::new(&row, now) }))
}

/// `POST /v1/ops/keys/{kid}/revoke` (admin): refused by every instance
/// within a second. Revoking one revoked already changes nothing.
pub async fn revoke(app: &AppState, who: &OpsAuth, id: &str) -> ApiResult<Answer<ApiKeyView>> {
    let p = who.require(Duty::ManageKeys)?;
    own_mode_key(app, p.mode, id).await?;
    let now = app.clock.now();
    let (change, row) = app.store.revoke_api_key(id, Cause::api(p.actor()), now).await?;
    match change {
        KeyChange::Done => tracing::info!(key_id = %id, "API key revoked"),
        KeyChange::Revoked => {}
        KeyChange::NotFound => return Err(ErrorCode::NotFound.into()),
    }
    let row = row.ok_or(ErrorCode::NotFound)?;
    Ok(Answer::ok(ApiKeyView::new(&row, now)))
}

/// `POST /v1/ops/keys/{kid}/rotate` (admin): a new key with the same role,
/// mode, name, merchant and expiry; the old one works until the overlap
/// ends, so the wallet moves over without a gap.
pub async fn rotate(app: &AppState, who: &OpsAuth, id: &str, body: RotateBody) -> ApiResult<Answer<NewApiKeyView>> {
    let p = who.require(Duty::ManageKeys)?;
    let old = own_mode_key(app, p.mode, id).await?;
    let overlap = body.overlap.as_deref().map(|d| duration("overlap", d, MAX_OVERLAP)).transpose()?.unwrap_or(DEFAULT_OVERLAP);
    let role = Role::parse(&old.role).ok_or_else(|| anyhow::anyhow!("key {id} has the unknown role {}", old.role))?;
    let now = app.clock.now();
    let key = generate_key(role, old.mode);
    let row = match app.store.rotate_api_key(id, &hash_key(&key), overlap, Cause::api(p.actor()), now).await? {
        Ok(row) => row,
        Err(KeyChange::NotFound) => return Err(ErrorCode::NotFound.into()),
        Err(_) => {
            let old = ApiKeyView::new(&app.store.get_api_key(id).await?.ok_or(ErrorCode::NotFound)?, now);
            let details = json!({ "status": old.status, "replaced_by": old.replaced_by });
            return Err(bangka_core::Failure::new(ErrorCode::ApiKeyNotActive).with_details(details).into());
        }
    };
    tracing::info!(old = %id, new = %row.id, "API key rotated");
    Ok(Answer::created(NewApiKeyView { key: Some(key), api_key: ApiKeyView::new(&row, now) }))
}
