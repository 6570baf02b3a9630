//! The flows: what happens for each operation, step by step, between the
//! HTTP edge, the pure domain core, the store and the issuer.
//!
//! This file only declares them and holds the crash-resume dispatcher,
//! which sits above the flows it finishes; what flows share lives in leaf
//! modules beside them (`standing`, `attempts`, `codes`, `notices`, `text`,
//! `bank`), never here, so no flow refers back to this file.

pub mod accounts;
pub mod activation;
pub mod api_keys;
pub mod attempts;
pub mod bank;
pub mod bind;
pub mod codes;
pub mod diagnosis;
pub mod evidence;
pub mod freeze;
pub mod maintenance;
pub mod mandates;
pub mod notices;
pub mod ops;
pub mod outbox;
pub mod password;
pub mod payments;
pub mod reviews;
pub mod risk;
pub mod sessions;
pub mod settlements;
pub mod standing;
pub mod text;
pub mod tickets;
pub mod tokens;
pub mod unbind;

use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::Written;
use bank::Resume;

/// Finishes a request a crash interrupted after its [`bank::checkpoint`]: never
/// by running it again, but by taking its written-down intent to its end
/// (the same bank reference, so the bank acts once) and answering from
/// what it became.
pub async fn resume(app: &AppState, who: &crate::auth::Principal, note: &str) -> ApiResult<Written> {
    let r: Resume = serde_json::from_str(note).map_err(|e| anyhow::anyhow!("resume note {note}: {e}"))?;
    match r {
        Resume::Authorize { payment_id, op_id } => payments::resume_authorization(app, who, &payment_id, &op_id).await?.written(),
        Resume::PaymentOp { payment_id, op_id } => payments::resume_op(app, who, &payment_id, &op_id).await?.written(),
        Resume::Mandate { account_id, mandate_id } => mandates::resume(app, who, &account_id, &mandate_id).await?.written(),
        Resume::ReportLost { account_id, binding_id } => freeze::resume_report(app, who, &account_id, &binding_id).await?.written(),
        Resume::Activate { account_id, activation_id } => activation::resume(app, who, &account_id, &activation_id).await?.written(),
    }
}
