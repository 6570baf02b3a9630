//! Attempts as recorded for support, diagnosis and the risk rules (masked
//! card facts only).

use bangka_core::ErrorCode;
use bangka_core::bin::CardFacts;
use bangka_store::{AttemptRow, new_id};

use crate::error::ApiResult;
use crate::state::AppState;

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
