//! Holder sessions and known devices (issue 6; seed 003 "login alerts").
//!
//! The wallet backend signs its user in its own way, then opens a Bangka
//! session for that user's account with its wallet key. The token it gets
//! back can be handed to the app: it acts on that one account only
//! ([`crate::auth::AccountAuth`]) and lasts `--session-ttl`. The first
//! login from a device the account has not used is announced by SMS, push
//! and email; later logins from a known device by push and email.
//!
//! The token is shown once. With an `Idempotency-Key`, a repeat opens no
//! second session and replays the answer without the token (it is never
//! stored, only its hash): `idempotency::run` with `shown_once`.

use bangka_core::session::{DeviceId, DeviceName, mask_ip, parse_client_ip};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Cause, MessageKind, NewMessage, NewSession, new_id};
use serde::Deserialize;
use serde_json::json;
use utoipa::ToSchema;

use super::standing::load_account;
use crate::auth::{Principal, generate_session_token, hash_key};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::Answer;
use crate::views::Timestamp;

#[derive(Deserialize, ToSchema)]
pub struct SessionBody {
    /// The wallet app's id for this installation (1–128 of `A–Z a–z 0–9 . _ : -`).
    pub device_id: String,
    /// What the holder calls the device, shown in login alerts (1–64 characters).
    pub device_name: Option<String>,
    /// The client's IP address as the wallet backend saw it.
    pub client_ip: Option<String>,
}

/// A short tag for a device, safe in a message: the first 8 hex digits of
/// the id's SHA-256. The id and the name come from the app, so neither goes
/// into a message Bangka signs (someone could name a device "reply with your
/// code to …"); the holder matches the tag in the device list.
pub fn device_tag(id: &DeviceId) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(id.as_str().as_bytes()).iter().take(4).map(|b| format!("{b:02x}")).collect()
}

fn bad_device(field: &str) -> Failure {
    Failure::new(ErrorCode::DeviceInfoFormat).with_details(json!({ "field": field }))
}

/// `POST /v1/accounts/{id}/sessions` (wallet key): a holder session.
pub async fn open(app: &AppState, who: &Principal, account_id: &str, body: SessionBody) -> ApiResult<Answer<crate::views::SessionView>> {
    let account = load_account(app, account_id).await?;
    let device = DeviceId::parse(&body.device_id).map_err(|_| bad_device("device_id"))?;
    let name = body
        .device_name
        .as_deref()
        .map(|n| DeviceName::parse(&super::text::mask_free_text(n)))
        .transpose()
        .map_err(|_| bad_device("device_name"))?;
    let ip = body.client_ip.as_deref().map(parse_client_ip).transpose().map_err(|_| bad_device("client_ip"))?;
    let now = app.clock.now();
    let token = generate_session_token();
    let id = new_id("hs");
    let expires_at = now + app.session_ttl;
    let ip_text = ip.map(|i| i.to_string());
    let session = NewSession {
        id: &id,
        account_id,
        token_hash: &hash_key(&token),
        wallet_key_id: &who.key_id,
        device_id: device.as_str(),
        device_name: name.as_ref().map(DeviceName::as_str),
        client_ip: ip_text.as_deref(),
        expires_at,
    };
    let label = device_tag(&device);
    let place = ip.map(|i| mask_ip(&i)).unwrap_or_else(|| "-".into());
    let (when_zh, when_en) = crate::views::holder_time(now);
    let new_device = NewMessage {
        kind: MessageKind::Notice,
        account_id: account_id.into(),
        phone: account.phone.clone(),
        zh: format!(
            "【Bangka】您的账户于 {when_zh} 在新设备（设备标识 {label}）上登录（IP {place}）。如非本人操作，请立即冻结账户并联系客服。"
        ),
        en: format!(
            "Bangka: your account signed in on a new device (device tag {label}) at {when_en} (IP {place}). If this was not you, freeze the account now and contact support."
        ),
    };
    let known_device = NewMessage {
        kind: MessageKind::Alert,
        account_id: account_id.into(),
        phone: account.phone.clone(),
        zh: format!("【Bangka】登录提醒：您的账户于 {when_zh} 在设备（设备标识 {label}）上登录（IP {place}）。"),
        en: format!("Bangka sign-in alert: your account signed in on device tag {label} at {when_en} (IP {place})."),
    };
    let is_new = app.store.open_session(&session, &new_device, Some(&known_device), Cause::api(who.actor()), now).await?;
    tracing::info!(account_id, session_id = %id, new_device = is_new, "holder session opened");
    Ok(Answer::created(crate::views::SessionView {
        token: Some(token.to_string()),
        session_id: id.to_string(),
        expires_at: Timestamp(expires_at),
        device: crate::views::SessionDeviceView { device_id: device.as_str().into(), device_tag: label.to_string(), new_device: is_new },
    }))
}

/// `POST /v1/accounts/{id}/sessions/{sid}/end`: sign-out. A holder ends
/// sessions of its own account only (the path is checked by the extractor;
/// the session must belong to the account).
pub async fn end(app: &AppState, account_id: &str, session_id: &str) -> ApiResult<Answer<crate::views::SessionEndedView>> {
    let ended = app.store.end_account_session(account_id, session_id, app.clock.now()).await?.ok_or(ErrorCode::NotFound)?;
    Ok(Answer::ok(crate::views::SessionEndedView { session_id: session_id.into(), ended: true, already_ended: !ended }))
}

/// `GET /v1/accounts/{id}/devices`: where the account has been used.
pub async fn devices(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<crate::views::DeviceList> {
    load_account(app, account_id).await?;
    let page = app.store.device_page(account_id, page).await?.map(|d| {
        let ip = d.last_ip.as_deref().and_then(|i| parse_client_ip(i).ok()).map(|i| mask_ip(&i));
        let tag = DeviceId::parse(&d.device_id).map(|id| device_tag(&id)).ok();
        crate::views::DeviceView {
            device_id: d.device_id,
            device_tag: tag,
            name: d.name,
            last_ip_masked: ip,
            first_seen_at: Timestamp(d.first_seen_at),
            last_seen_at: Timestamp(d.last_seen_at),
        }
    });
    Ok(crate::views::DeviceList::new(page))
}

/// `POST /v1/accounts/{id}/devices/{did}/remove`: "that was not me" — the
/// device is forgotten and every session opened on it ends at once.
pub async fn remove_device(
    app: &AppState,
    who: &Principal,
    account_id: &str,
    device_id: &str,
) -> ApiResult<Answer<crate::views::DeviceRemovedView>> {
    load_account(app, account_id).await?;
    if !app.store.remove_device(account_id, device_id, Cause::api(who.actor()), app.clock.now()).await? {
        return Err(ErrorCode::NotFound.into());
    }
    tracing::warn!(account_id, "device removed; its sessions ended");
    Ok(Answer::ok(crate::views::DeviceRemovedView { device_id: device_id.into(), removed: true, sessions_ended: true }))
}
