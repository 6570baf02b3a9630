//! API keys, holder sessions and roles. Keys and session tokens are random
//! 256-bit strings shown once; only their SHA-256 is stored (a value with
//! full entropy gains nothing from a slow hash).
//!
//! Who may touch an account's data is decided here, once, for every
//! `/v1/accounts/{id}/...` route ([`AccountAuth`]): the wallet backend's key
//! reaches any account; a holder session only its own, and another
//! account's path answers exactly like an account that does not exist.

use axum::extract::FromRequestParts;
use axum::http::header;
use axum::http::request::Parts;
use bangka_core::ErrorCode;
use bangka_core::mode::Mode;
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
    /// A holder session (never a key role): one account's paths only.
    Holder,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Wallet => "wallet",
            Role::Merchant => "merchant",
            Role::Support => "support",
            Role::Risk => "risk",
            Role::Admin => "admin",
            Role::Holder => "holder",
        }
    }

    /// A key's role. `holder` is not one: holders act through sessions.
    pub fn parse(s: &str) -> Option<Role> {
        [Role::Wallet, Role::Merchant, Role::Support, Role::Risk, Role::Admin].into_iter().find(|r| r.as_str() == s)
    }
}

/// A new key: `bk_<mode>_<role>_<64 hex>` (`bk_live_wallet_…`), so a
/// person (and a secret scanner) tells a live key from a test key at once.
pub fn generate_key(role: Role, mode: Mode) -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("bk_{}_{}_{}", mode.as_str(), role.as_str(), hex::encode(bytes))
}

/// Session tokens look like keys but say what they are: `bk_hs_<64 hex>`.
pub const SESSION_TOKEN_PREFIX: &str = "bk_hs_";

/// A new holder session token.
pub fn generate_session_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("{SESSION_TOKEN_PREFIX}{}", hex::encode(bytes))
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
    /// Set for a holder session (role [`Role::Holder`]); `key_id` is then
    /// the wallet key that opened it (the token domain of what it binds).
    pub session: Option<HolderSession>,
    /// Test or live: a caller finds only the accounts (and all under them)
    /// of its own mode. A holder session's is its account's.
    pub mode: Mode,
}

impl Principal {
    /// `NOT_FOUND` for an account of the other mode: it is answered exactly
    /// as one that does not exist (and so is everything under it).
    pub fn check_mode(&self, account_id: &str) -> Result<(), ApiError> {
        if Mode::of_account(account_id) == self.mode { Ok(()) } else { Err(ErrorCode::NotFound.into()) }
    }
}

/// The holder session a request came with.
#[derive(Debug, Clone)]
pub struct HolderSession {
    pub id: String,
    pub account_id: String,
    pub device_id: String,
    pub client_ip: Option<String>,
}

impl Principal {
    /// Who acted, for the audit trail: the session for a holder, else the key.
    pub fn actor(&self) -> &str {
        self.session.as_ref().map_or(&self.key_id, |s| &s.id)
    }

    /// Whose `Idempotency-Key`s these are: a key's own, or, for holder
    /// sessions, the account's under the wallet that opened them (a retry
    /// from a fresh session after the first expired still replays instead
    /// of running twice; another wallet's sessions never see it).
    pub fn idempotency_scope(&self) -> String {
        match &self.session {
            Some(s) => format!("holder:{}:{}", self.key_id, s.account_id),
            None => self.key_id.clone(),
        }
    }
}

/// The wallet backend's own key: creating accounts, opening holder
/// sessions, the demo endpoints. Account data is reached through
/// [`AccountAuth`], which also takes a holder session.
#[derive(Debug, Clone)]
pub struct WalletAuth(pub Principal);

/// Where a request came from: a holder session's device and client IP.
/// Attempts record it (per-device and per-IP risk rules) without every
/// flow passing it along: [`with_origin`] opens a slot around each request
/// and authentication fills it.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub device_id: Option<String>,
    pub client_ip: Option<String>,
    /// What the client said it is (support context: "which app version?").
    pub client: Option<Client>,
}

/// The app, OS and device model a request names in the headers
/// `Bangka-App-Version`, `Bangka-OS` and `Bangka-Device-Model`, and its
/// `User-Agent`. Informational only (nothing is decided on it), so a value
/// that is not printable ASCII up to 200 characters is left out.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Client {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub app_version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device_model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
}

impl Client {
    pub fn from_headers(h: &axum::http::HeaderMap) -> Option<Client> {
        let get = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::trim)
                .filter(|v| !v.is_empty() && v.len() <= 200 && v.bytes().all(|b| (0x20..0x7f).contains(&b)))
                .map(str::to_owned)
        };
        let c = Client {
            app_version: get("bangka-app-version"),
            os: get("bangka-os"),
            device_model: get("bangka-device-model"),
            user_agent: get("user-agent"),
        };
        (c != Client::default()).then_some(c)
    }
}

tokio::task_local! {
    static ORIGIN: std::cell::RefCell<Origin>;
}

/// Runs one request with an empty origin slot (middleware).
pub async fn with_origin(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    let origin = Origin { client: Client::from_headers(req.headers()), ..Origin::default() };
    ORIGIN.scope(std::cell::RefCell::new(origin), next.run(req)).await
}

/// The current request's origin (empty outside a request or without a session).
pub fn current_origin() -> Origin {
    ORIGIN.try_with(|o| o.borrow().clone()).unwrap_or_default()
}

pub use crate::key_cache::KeyCache;

/// Authenticates the request, then takes it from its rate limits (issue
/// 24): the key's (or session's) bucket, the account's (`{id}` in the path,
/// or the session's account) and, for a holder session, its client
/// address's. A failed authentication is taken from the connection's
/// address instead, so guessing keys is bounded too.
async fn authenticate(parts: &mut Parts, state: &AppState) -> Result<Principal, ApiError> {
    use crate::rate_limit::Scope;
    let caller = parts.extensions.get::<crate::telemetry::Caller>().cloned();
    let peer = parts.extensions.get::<crate::http::conn::PeerAddr>().map(|p| crate::rate_limit::address_key(p.0.ip()));
    let now = state.clock.now();
    let p = match authenticate_key(parts, state).await {
        Ok(p) => p,
        Err(e) => {
            if matches!(e.code(), ErrorCode::Unauthenticated | ErrorCode::SessionExpired)
                && let Some(peer) = &peer
            {
                state.limiter.check(Scope::Address, peer, now)?;
            }
            return Err(e);
        }
    };
    let who = match &p.session {
        Some(s) => format!("session:{}", s.id),
        None => p.key_id.clone(),
    };
    let account = match path_account_id(parts, state).await {
        Ok(Some(id)) => Some(id),
        _ => p.session.as_ref().map(|s| s.account_id.clone()),
    };
    let address = p.session.as_ref().and_then(|s| s.client_ip.clone()).or(peer);
    let mut takes = vec![(Scope::Key, who.clone())];
    takes.extend(account.map(|a| (Scope::Account, a)));
    takes.extend(address.filter(|_| p.session.is_some()).map(|a| (Scope::Address, a)));
    let mut tightest: Option<crate::rate_limit::Standing> = None;
    for (scope, id) in takes {
        match state.limiter.check(scope, &id, now) {
            Ok(s) => {
                if tightest.is_none_or(|t| s.remaining < t.remaining) {
                    tightest = Some(s);
                }
            }
            Err(f) => {
                if let Some(c) = &caller {
                    c.set(who);
                    let wait = f.retry_after.map_or(1, |at| (at - now).whole_seconds().max(1) as u64);
                    let limit = f.details.as_ref().and_then(|d| d["burst"].as_u64()).unwrap_or(0) as u32;
                    c.set_standing(crate::rate_limit::Standing { limit, remaining: 0, reset_secs: wait });
                }
                tracing::warn!(limit = scope.as_str(), "rate limited");
                return Err(f.into());
            }
        }
    }
    if let Some(c) = &caller {
        c.set(who);
        if let Some(s) = tightest {
            c.set_standing(s);
        }
    }
    Ok(p)
}

/// Middleware: a `/v1/` request with no credentials is taken from its
/// connection address's rate limit (minting demo keys, reading the status,
/// probing), before anything runs.
pub async fn limit_anonymous(
    axum::extract::State(state): axum::extract::State<AppState>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    if req.uri().path().starts_with("/v1/")
        && !req.headers().contains_key(header::AUTHORIZATION)
        && let Some(peer) = req.extensions().get::<crate::http::conn::PeerAddr>()
    {
        let key = crate::rate_limit::address_key(peer.0.ip());
        match state.limiter.check(crate::rate_limit::Scope::Address, &key, state.clock.now()) {
            Ok(s) => {
                if let Some(c) = req.extensions().get::<crate::telemetry::Caller>() {
                    c.set_standing(s);
                }
            }
            Err(f) => return ApiError::from(f).into_response(),
        }
    }
    next.run(req).await
}

async fn authenticate_key(parts: &Parts, state: &AppState) -> Result<Principal, ApiError> {
    let value = parts.headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).ok_or(ErrorCode::Unauthenticated)?;
    let key = value.strip_prefix("Bearer ").map(str::trim).filter(|k| !k.is_empty() && k.len() <= 200).ok_or(ErrorCode::Unauthenticated)?;
    if key.starts_with(SESSION_TOKEN_PREFIX) {
        let s = state.store.find_session(&hash_key(key)).await?.ok_or(ErrorCode::Unauthenticated)?;
        if !s.is_live(state.clock.now()) {
            return Err(ErrorCode::SessionExpired.into());
        }
        let _ = ORIGIN.try_with(|o| {
            let mut o = o.borrow_mut();
            o.device_id = Some(s.device_id.clone());
            o.client_ip = s.client_ip.clone();
        });
        // The holder's app speaks the version of the wallet that opened the
        // session (its key's, read with the session), unless the request
        // asks for one itself.
        if let Some(v) = parts.extensions.get::<crate::versioning::RequestVersion>() {
            v.pin(s.api_version);
        }
        let mode = Mode::of_account(&s.account_id);
        let session = HolderSession { id: s.id, account_id: s.account_id, device_id: s.device_id, client_ip: s.client_ip };
        return Ok(Principal { key_id: s.wallet_key_id, role: Role::Holder, merchant_id: None, session: Some(session), mode });
    }
    let hash = hash_key(key);
    let now = state.clock.now();
    let found = match state.api_keys.get(&hash, now) {
        Some(k) => k,
        None => {
            let k = state.store.find_api_key(&hash, now).await?.ok_or(ErrorCode::Unauthenticated)?;
            state.api_keys.put(hash.clone(), k.clone());
            k
        }
    };
    // A live server serves no test key: test data never reaches its bank.
    if found.mode == Mode::Test && state.mode == Mode::Live {
        let why = "a test key on a live-mode server: use it with a test-mode server (bangka serve --mode test)";
        return Err(bangka_core::Failure::new(ErrorCode::Unauthenticated).with_details(serde_json::json!({ "reason": why })).into());
    }
    if found.last_used_at.is_none_or(|at| now - at > time::Duration::minutes(1)) {
        // Noted in the background, at most once a minute per instance.
        state.api_keys.put(hash, bangka_store::ApiKeyRow { last_used_at: Some(now), ..found.clone() });
        let (store, id) = (state.store.clone(), found.id.clone());
        tokio::spawn(async move {
            if let Err(e) = store.touch_api_key(&id, now).await {
                tracing::warn!(key_id = %id, error = %e, "noting a key's last use failed");
            }
        });
    }
    let role = Role::parse(&found.role).ok_or(ErrorCode::Unauthenticated)?;
    // The answers this key's wallet was built against, unless the request
    // asks for a version itself.
    if let Some(v) = parts.extensions.get::<crate::versioning::RequestVersion>() {
        v.pin(found.api_version);
    }
    Ok(Principal { key_id: found.id, role, merchant_id: found.merchant_id, session: None, mode: found.mode })
}

/// The `{id}` of an `/v1/accounts/{id}/…` path: `Ok(None)` when the route
/// has none, `Err` when the path does not decode (the handler's own `Path`
/// then refuses the request as malformed, before it runs).
async fn path_account_id(parts: &mut Parts, state: &AppState) -> Result<Option<String>, ()> {
    let axum::extract::Path(params) =
        axum::extract::Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state).await.map_err(|_| ())?;
    Ok(params.get("id").cloned())
}

impl FromRequestParts<AppState> for WalletAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        if p.role != Role::Wallet {
            return Err(ErrorCode::Forbidden.into());
        }
        if let Ok(Some(id)) = path_account_id(parts, state).await {
            p.check_mode(&id)?;
        }
        Ok(WalletAuth(p))
    }
}

/// A caller acting on one account (`/v1/accounts/{id}/...`): the wallet
/// backend's key, or a holder session for that very account. A session on
/// another account's path gets `NOT_FOUND`, the answer an account that does
/// not exist gets, so it cannot even learn whether the account exists.
#[derive(Debug, Clone)]
pub struct AccountAuth(pub Principal);

impl FromRequestParts<AppState> for AccountAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let p = authenticate(parts, state).await?;
        match (&p.role, &p.session) {
            (Role::Wallet, _) => match path_account_id(parts, state).await {
                Ok(Some(id)) => {
                    p.check_mode(&id)?;
                    Ok(AccountAuth(p))
                }
                Ok(None) => Err(ErrorCode::Forbidden.into()),
                Err(()) => Ok(AccountAuth(p)),
            },
            (Role::Holder, Some(s)) => {
                let axum::extract::Path(params) =
                    axum::extract::Path::<std::collections::HashMap<String, String>>::from_request_parts(parts, state)
                        .await
                        .map_err(|_| ErrorCode::Forbidden)?;
                match params.get("id") {
                    Some(id) if *id == s.account_id => {
                        check_origin_locks(parts, state, s).await?;
                        Ok(AccountAuth(p))
                    }
                    Some(_) => Err(ErrorCode::NotFound.into()),
                    None => Err(ErrorCode::Forbidden.into()),
                }
            }
            _ => Err(ErrorCode::Forbidden.into()),
        }
    }
}

/// A device or IP the risk rules locked acts on no account until the lock
/// ends: nothing that changes state, except asking for help (tickets,
/// reviews). Reading stays open.
async fn check_origin_locks(parts: &Parts, state: &AppState, s: &HolderSession) -> Result<(), ApiError> {
    use bangka_core::risk::Subject;
    let path = parts.uri.path();
    if parts.method == axum::http::Method::GET || path.contains("/tickets") || path.contains("/reviews") {
        return Ok(());
    }
    let mut subjects = vec![(Subject::Device, s.device_id.as_str())];
    if let Some(ip) = s.client_ip.as_deref() {
        subjects.push((Subject::Ip, ip));
    }
    match state.store.active_subject_locks(&subjects, state.clock.now()).await?.first() {
        Some(l) => Err(bangka_core::risk::locked(&s.account_id, l.per, l.locked_until).into()),
        None => Ok(()),
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

/// What an operator may do. Every operator endpoint requires one duty, and
/// `GET /v1/ops/me` lists a key's duties, so the console offers a person
/// only what their role may do: one table for both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty {
    /// See tickets, reviews, accounts, attempts, payments, maintenance.
    ReadOps,
    /// Comment on, resolve and close tickets; export their evidence.
    HandleTickets,
    /// Lift risk locks on an account.
    Unlock,
    /// Approve or reject reviews.
    DecideReviews,
    /// Suspend and resume tokens.
    SuspendTokens,
    /// Schedule and cancel maintenance windows.
    Maintenance,
    /// Reveal a card number behind a token (audited, with a reason).
    Detokenize,
    /// List, create, revoke and rotate API keys (of the key's own mode).
    ManageKeys,
}

impl Duty {
    pub const ALL: [Duty; 8] = [
        Duty::ReadOps,
        Duty::HandleTickets,
        Duty::Unlock,
        Duty::DecideReviews,
        Duty::SuspendTokens,
        Duty::Maintenance,
        Duty::Detokenize,
        Duty::ManageKeys,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Duty::ReadOps => "read_ops",
            Duty::HandleTickets => "handle_tickets",
            Duty::Unlock => "unlock",
            Duty::DecideReviews => "decide_reviews",
            Duty::SuspendTokens => "suspend_tokens",
            Duty::Maintenance => "maintenance",
            Duty::Detokenize => "detokenize",
            Duty::ManageKeys => "manage_keys",
        }
    }

    /// The roles that carry this duty.
    pub fn roles(self) -> &'static [Role] {
        match self {
            Duty::ReadOps => &[Role::Support, Role::Risk, Role::Admin],
            Duty::HandleTickets | Duty::Unlock => &[Role::Support, Role::Admin],
            Duty::DecideReviews | Duty::SuspendTokens => &[Role::Risk, Role::Admin],
            Duty::Maintenance | Duty::Detokenize | Duty::ManageKeys => &[Role::Admin],
        }
    }

    /// A role's duties.
    pub fn of(role: Role) -> Vec<Duty> {
        Duty::ALL.into_iter().filter(|d| d.roles().contains(&role)).collect()
    }
}

impl OpsAuth {
    pub fn require(&self, duty: Duty) -> Result<&Principal, ApiError> {
        if duty.roles().contains(&self.0.role) { Ok(&self.0) } else { Err(ErrorCode::Forbidden.into()) }
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
