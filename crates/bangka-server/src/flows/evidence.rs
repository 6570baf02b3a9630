//! Evidence bundles: a card's or a ticket's receipts and audit excerpt as
//! one JSON document signed with the receipt key, for a complaint. Support
//! exports a ticket's (`tickets::evidence`); the holder exports their own
//! card's (`for_binding`), to hand to their bank or a consumer-protection
//! line. `bangka receipt verify FILE` checks either offline.

use bangka_store::AuditRecord;
use serde_json::{Value, json};

use super::standing::load_account;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::rfc3339;

/// Who sees an audit excerpt: support sees who acted and why; the holder
/// sees what happened and when, never key or session ids, origins or
/// operators' notes.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    Support,
    Holder,
}

/// The audit entries about `subjects`, oldest first.
pub async fn audit_excerpt(app: &AppState, subjects: &[String], reader: Reader) -> ApiResult<Vec<Value>> {
    // Sealed first, so every entry exported carries its place in the chain.
    while app.store.seal_audit().await? == bangka_store::audit::SEAL_BATCH {}
    let mut entries: Vec<AuditRecord> = Vec::new();
    for s in subjects {
        entries.extend(app.store.audit_entries(s).await?);
    }
    entries.sort_by_key(|e| e.pos);
    Ok(entries
        .into_iter()
        .map(|e| {
            let mut v = json!({
                "seq": e.seq, "id": e.id, "action": e.action, "subject": e.subject, "before": e.before, "after": e.after,
                "at": rfc3339(e.created_at), "hash": e.hash, "prev_hash": e.prev_hash, "leaf_hash": e.leaf_hash,
            });
            if reader == Reader::Support {
                v["actor"] = json!(e.actor);
                v["origin"] = json!(e.origin);
                v["reason"] = json!(e.reason);
            }
            v
        })
        .collect())
}

/// `GET /v1/accounts/{id}/bindings/{bid}/evidence`: the card as it is, its
/// receipts and what was recorded about it, signed.
pub async fn for_binding(app: &AppState, account_id: &str, binding_id: &str) -> ApiResult<Value> {
    load_account(app, account_id).await?;
    let b = app.store.get_binding(account_id, binding_id).await?.ok_or(bangka_core::ErrorCode::NotFound)?;
    let receipts: Vec<Value> =
        app.store.receipts(account_id).await?.into_iter().filter(|r| r["receipt"]["binding_id"].as_str() == Some(binding_id)).collect();
    let bundle = json!({
        "operation": "card_evidence",
        "id": format!("{binding_id}@{}", app.clock.now().unix_timestamp()),
        "at": rfc3339(app.clock.now()),
        "binding": super::bind::binding_view(app, &b).await?,
        "receipts": receipts,
        "audit_excerpt": audit_excerpt(app, std::slice::from_ref(&b.id), Reader::Holder).await?,
        // Both languages: the bundle is a document to hand to a complaint body.
        "complaint_routes": bangka_core::ticket::COMPLAINT_ROUTES.iter().map(|r| {
            let mut v = json!({ "name_zh": r.name.zh, "name_en": r.name.en });
            if let Some(how) = r.how {
                v["how_zh"] = json!(how.zh);
                v["how_en"] = json!(how.en);
            }
            if let Some(phone) = r.phone {
                v["phone"] = json!(phone);
            }
            v
        }).collect::<Vec<_>>(),
    });
    Ok(app.signer.sign(bundle))
}
