//! Operator actions that read card data: detokenization and the full view of
//! a payment. Each is limited by role, and detokenization is audited (with
//! its stated reason) before the card number is handed out.

use bangka_core::ErrorCode;
use bangka_core::token::TokenNumber;
use bangka_store::{Cause, Change};
use serde::Deserialize;
use utoipa::ToSchema;

use super::payments;
use super::tokens::ops_reason;
use crate::auth::{Duty, OpsAuth};
use crate::error::ApiResult;
use crate::state::AppState;
use crate::views::Answer;

/// `POST /v1/ops/detokenize`.
#[derive(Deserialize, ToSchema)]
pub struct DetokenizeBody {
    pub token_number: String,
    /// Why the full card number is needed (5–500 characters); kept in the audit log.
    pub reason: String,
}

/// The full card number behind a token, for an administrator, with the
/// reason recorded first: if the audit entry cannot be written, the number
/// is not returned.
pub async fn detokenize(app: &AppState, who: &OpsAuth, body: DetokenizeBody) -> ApiResult<Answer<crate::views::DetokenizedView>> {
    let p = who.require(Duty::Detokenize)?;
    let number = TokenNumber::parse(&body.token_number)?;
    let reason = ops_reason(&body.reason)?;
    let t = app.store.token_by_number(number.as_str()).await?.ok_or(ErrorCode::TokenNotFound)?;
    let b = app.store.binding_by_id(&t.binding_id).await?.ok_or(ErrorCode::TokenNotFound)?;
    // A deleted card's data key is gone (crypto-shredding): nothing to show.
    let vault_id = b.vault_id.clone().ok_or(ErrorCode::TokenDeleted)?;
    let sealed = app.store.get_sealed(&vault_id).await?.ok_or(ErrorCode::TokenDeleted)?;
    let change = Change { action: "token.detokenize", subject: &t.id, before: None, after: None };
    let audit_id = app.store.audit(Cause::api(&p.key_id).with_note(&reason), change, app.clock.now()).await?;
    let pan = app.vault.open_pan(&sealed)?;
    tracing::warn!(token_id = %t.id, audit_id, operator = %p.key_id, "detokenized by an operator");
    Ok(Answer::ok(crate::views::DetokenizedView {
        token_number: t.number,
        card_number: pan.expose().to_owned(),
        binding_id: b.id,
        account_id: b.account_id,
        audit_id,
    }))
}

/// `GET /v1/ops/payments/{pid}`: a payment with the issuer's precise reason.
pub async fn payment(app: &AppState, who: &OpsAuth, payment_id: &str) -> ApiResult<Answer<crate::views::PaymentView>> {
    who.require(Duty::ReadOps)?;
    let p = app.store.get_payment(payment_id).await?.ok_or(ErrorCode::NotFound)?;
    Ok(Answer::ok(payments::view(app, &p, true).await?))
}

/// `GET /v1/ops/stats/binds?hours=H` (1–168, 24 by default).
#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct StatsQuery {
    /// How far back, in hours (1–168).
    pub hours: Option<i64>,
}

/// Bind attempts over time, per issuer, with their failures by code: what
/// the console charts. Read from the database, so every instance answers
/// the same.
pub async fn bind_stats(app: &AppState, who: &OpsAuth, q: StatsQuery) -> ApiResult<Answer<crate::views::BindStatsView>> {
    use crate::views::{BindBucketView, BindStatsView, CodeCountView};
    who.require(Duty::ReadOps)?;
    let hours = q.hours.unwrap_or(24);
    if !(1..=168).contains(&hours) {
        return Err(crate::error::malformed("hours", "a whole number of hours from 1 to 168").into());
    }
    // About 24 points whatever the span: an hour's buckets for a day, ten minutes' for four hours.
    let bucket = time::Duration::minutes((hours * 60 / 24).max(5));
    let since = app.clock.now() - time::Duration::hours(hours);
    let series = app.store.bind_series(since, bucket).await?;
    let mut totals: std::collections::BTreeMap<String, i64> = Default::default();
    let series: Vec<BindBucketView> = series
        .into_iter()
        .map(|b| {
            let failed: i64 = b.stats.failures.iter().map(|(_, n)| n).sum();
            for (code, n) in &b.stats.failures {
                *totals.entry(code.clone()).or_default() += n;
            }
            BindBucketView {
                start: crate::error::rfc3339(b.start),
                issuer: b.stats.issuer,
                attempts: b.stats.attempts,
                succeeded: b.stats.attempts - failed,
                failures: b.stats.failures.into_iter().map(|(code, count)| CodeCountView { code, count }).collect(),
            }
        })
        .collect();
    let mut by_code: Vec<CodeCountView> = totals.into_iter().map(|(code, count)| CodeCountView { code, count }).collect();
    by_code.sort_by(|a, b| b.count.cmp(&a.count).then(a.code.cmp(&b.code)));
    let view =
        BindStatsView { since: crate::error::rfc3339(since), bucket_seconds: bucket.whole_seconds(), series, failures_by_code: by_code };
    Ok(Answer::ok(view))
}

/// `GET /v1/ops/audit?subject=&action=&actor=`: which entries (each given
/// one must match exactly).
#[derive(Deserialize, utoipa::IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// What the entry is about: an account, binding, ticket, key… id.
    pub subject: Option<String>,
    /// What was done, e.g. `binding.freeze` or `api_key.revoke`.
    pub action: Option<String>,
    /// Who did it: a key id, a holder session id, or `system`.
    pub actor: Option<String>,
}

impl AuditQuery {
    fn filter(self) -> ApiResult<bangka_store::AuditFilter> {
        let check = |field: &str, v: Option<String>| -> ApiResult<Option<String>> {
            match v {
                Some(s) if s.is_empty() || s.len() > 200 || s.chars().any(char::is_control) => {
                    Err(crate::error::malformed(field, "1 to 200 characters, no control characters").into())
                }
                other => Ok(other),
            }
        };
        Ok(bangka_store::AuditFilter {
            subject: check("subject", self.subject)?,
            action: check("action", self.action)?,
            actor: check("actor", self.actor)?,
        })
    }
}

/// The latest audit entries, newest first, and whether the whole hash chain
/// is intact (the check `bangka audit verify` makes). Each entry names its
/// actor as the console shows it: a key by its name and role.
pub async fn audit(app: &AppState, who: &OpsAuth, q: AuditQuery, page: &bangka_store::PageRequest) -> ApiResult<crate::views::AuditView> {
    use crate::views::{AuditChainView, AuditEntryView, AuditView};
    who.require(Duty::ReadOps)?;
    let filter = q.filter()?;
    // Verifying seals what is pending first, so the entries shown are sealed.
    let verdict = app.store.verify_audit().await?;
    let page = app.store.audit_page(&filter, page).await?;
    let mut ids: Vec<&str> = page.items.iter().map(|e| e.actor.as_str()).filter(|a| a.starts_with("key_")).collect();
    ids.sort_unstable();
    ids.dedup();
    let keys: std::collections::HashMap<String, bangka_store::ApiKeyRow> =
        app.store.api_keys_by_id(&ids).await?.into_iter().map(|k| (k.id.clone(), k)).collect();
    let view = AuditView {
        has_more: page.has_more,
        data: page
            .items
            .into_iter()
            .map(|e| AuditEntryView {
                actor_name: keys.get(&e.actor).and_then(|k| k.name.clone()),
                actor_role: match keys.get(&e.actor) {
                    Some(k) => Some(k.role.clone()),
                    None if e.actor.starts_with("hs_") => Some("holder".into()),
                    None => None,
                },
                seq: e.seq,
                id: e.id,
                at: crate::views::Timestamp(e.created_at),
                actor: e.actor,
                origin: e.origin,
                action: e.action,
                subject: e.subject,
                before: e.before,
                after: e.after,
                reason: e.reason,
            })
            .collect(),
        chain: AuditChainView {
            intact: verdict.problem.is_none(),
            entries: verdict.entries,
            head: verdict.head,
            broken_entry: verdict.problem.as_ref().map(|(at, _)| *at),
            problem: verdict.problem.map(|(_, why)| why),
        },
    };
    Ok(view)
}
