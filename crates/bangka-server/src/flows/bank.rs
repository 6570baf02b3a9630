//! What a flow needs around a bank call: the checkpoint that writes its
//! intent down first (and how a retry after a crash finishes it), the card
//! number the vault still keeps for it, and whether a refusal only says the
//! bank cannot answer now.

use bangka_core::ErrorCode;

use crate::error::ApiResult;
use crate::state::AppState;

/// How a request interrupted after it wrote down its intent is finished:
/// stored on its idempotency claim at [`checkpoint`], read back when a retry
/// finds the claim stale (`flows::resume`).
#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Resume {
    /// A payment or an autopay charge waiting for its authorization.
    Authorize { payment_id: String, op_id: String },
    /// A capture, refund or void waiting for the issuer's confirmation.
    PaymentOp { payment_id: String, op_id: String },
    /// An autopay agreement waiting for the bank's setup check.
    Mandate { account_id: String, mandate_id: String },
    /// A card frozen as lost or stolen, not yet reported to the bank.
    ReportLost { account_id: String, binding_id: String },
    /// An activation written down as being asked of the bank.
    Activate { account_id: String, activation_id: String },
}

impl Resume {
    /// The crash points around the bank call this intent precedes.
    fn points(&self) -> &'static str {
        match self {
            Resume::Authorize { .. } => "authorize",
            Resume::PaymentOp { .. } => "op",
            Resume::Mandate { .. } => "mandate",
            Resume::ReportLost { .. } => "freeze",
            Resume::Activate { .. } => "activate",
        }
    }
}

/// Commits what the request wrote so far (its intent) before a bank call,
/// noting how a retry after a crash finishes it. Afterwards the flow may
/// call the bank: no transaction is open.
pub async fn checkpoint(app: &AppState, resume: &Resume) -> ApiResult<()> {
    let note = serde_json::to_string(resume).map_err(anyhow::Error::from)?;
    app.store.checkpoint(&note, app.clock.now()).await?;
    app.failpoint(&format!("{}.after_intent", resume.points())).await
}

/// The card number a vault row still keeps; `None` once it is shredded (a
/// deleted card, an ended activation). A database error is an error, not
/// a missing card.
pub(super) async fn kept_card_number(app: &AppState, vault_id: Option<&str>) -> ApiResult<Option<bangka_core::card::Pan>> {
    let Some(vault_id) = vault_id else { return Ok(None) };
    let Some(sealed) = app.store.get_sealed(vault_id).await? else { return Ok(None) };
    Ok(Some(app.vault.open_pan(&sealed)?))
}

/// Whether a refusal only says the bank cannot answer now (unreachable, or
/// in maintenance), so a question about a card's state must be asked again.
pub(super) fn bank_not_answering(code: ErrorCode) -> bool {
    matches!(code, ErrorCode::IssuerUnavailable | ErrorCode::IssuerMaintenance | ErrorCode::PlatformMaintenance)
}
