//! Attempts as recorded for support, diagnosis and the risk rules (masked
//! card facts only).

use bangka_core::ErrorCode;
use bangka_core::bin::CardFacts;
use bangka_store::{AttemptRow, new_id};

use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::{HolderAttemptList, HolderAttemptView, Link, Timestamp};

/// What the holder was told for an attempt: the precise code, or for a card
/// not yet shown to be theirs (a bind, an activation) its safe form.
pub fn shown_code(a: &AttemptRow) -> Option<ErrorCode> {
    let code = a.code.as_deref().and_then(ErrorCode::parse)?;
    Some(if matches!(a.kind.as_str(), "bind" | "activate") { code.for_new_card() } else { code })
}

/// `GET /v1/accounts/{id}/attempts`: the holder's own attempts, newest
/// first, each with what they were told and, when it failed, where to ask
/// about it (a diagnosis, a ticket). The bank's precise code, the device and
/// the address stay with support (`GET /v1/ops/accounts/{id}/attempts`).
pub async fn holder_list(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<HolderAttemptList> {
    super::standing::load_account(app, account_id).await?;
    let lang = crate::i18n::current();
    let page = app.store.attempt_page(account_id, page).await?.map(|a| {
        let shown = shown_code(&a);
        let failed = a.code.is_some();
        let card_masked = match (&a.bin, &a.last4) {
            (Some(b), Some(l)) => Some(crate::views::masked_card(b, l)),
            _ => None,
        };
        HolderAttemptView {
            diagnose: failed
                .then(|| Link { method: "GET".into(), path: format!("/v1/accounts/{account_id}/diagnosis?attempt_id={}", a.id) }),
            ask_support: failed.then(|| Link::post(format!("/v1/accounts/{account_id}/tickets"))),
            succeeded: !failed,
            code: shown.map(|c| c.as_str().to_owned()),
            message: shown.map(|c| c.entry().message.get(lang).to_owned()),
            card_masked,
            binding_id: a.binding_id,
            kind: a.kind,
            at: Timestamp(a.created_at),
            id: a.id,
        }
    });
    Ok(HolderAttemptList::new(page))
}

/// The card facts an attempt is recorded with (masked only).
#[derive(Default, Clone)]
pub struct AttemptFacts {
    pub issuer: Option<String>,
    pub bin: Option<String>,
    pub last4: Option<String>,
    pub binding_id: Option<String>,
    /// The card's keyed fingerprint, for per-card risk rules.
    pub card_fp: Option<String>,
    /// The phone the holder typed, masked (for support: "which number did I use?").
    pub phone_masked: Option<String>,
}

impl AttemptFacts {
    /// The facts of a bound (or pending) card.
    pub fn binding(b: &bangka_store::BindingRow) -> Self {
        AttemptFacts {
            issuer: Some(b.issuer.clone()),
            bin: Some(b.bin.clone()),
            last4: Some(b.last4.clone()),
            binding_id: Some(b.id.clone()),
            card_fp: Some(b.fingerprint.clone()),
            phone_masked: bangka_core::holder::Phone::parse(&b.phone).ok().map(|p| p.masked()),
        }
    }

    pub fn card(facts: &CardFacts, last4: &str, card_fp: String) -> Self {
        AttemptFacts {
            issuer: Some(facts.issuer.into()),
            bin: Some(facts.bin.into()),
            last4: Some(last4.into()),
            binding_id: None,
            card_fp: Some(card_fp),
            phone_masked: None,
        }
    }
}

pub async fn record_attempt(
    app: &AppState,
    account_id: &str,
    kind: &str,
    facts: &AttemptFacts,
    code: Option<ErrorCode>,
) -> ApiResult<String> {
    let row = attempt_row(app, account_id, kind, facts, code);
    app.store.record_attempt(&row).await?;
    Ok(row.id)
}

/// An attempt as recorded (and counted in the metrics): for a flow that
/// stages it in its write-set.
pub fn attempt_row(app: &AppState, account_id: &str, kind: &str, facts: &AttemptFacts, code: Option<ErrorCode>) -> AttemptRow {
    crate::metrics::attempt(kind, facts.issuer.as_deref(), code.map(|c| c.as_str()));
    // The holder session's device and IP, when the request came with one.
    let origin = crate::auth::current_origin();
    AttemptRow {
        id: new_id("att"),
        account_id: account_id.into(),
        kind: kind.into(),
        binding_id: facts.binding_id.clone(),
        issuer: facts.issuer.clone(),
        bin: facts.bin.clone(),
        last4: facts.last4.clone(),
        code: code.map(|c| c.as_str().into()),
        created_at: app.clock.now(),
        card_fp: facts.card_fp.clone(),
        device_id: origin.device_id,
        client_ip: origin.client_ip,
        phone_masked: facts.phone_masked.clone(),
        client: origin.client.map(|c| serde_json::json!(c)),
    }
}
