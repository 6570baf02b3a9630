//! Diagnosis (`GET /v1/accounts/{id}/diagnosis`): the seeds' triage
//! checklist evaluated on real state, item by item, so "why can't I bind
//! this card?" has an answer without a phone call, and a ticket carries it.
//!
//! The shape comes from `bangka_core::diagnosis::triage` (where the attempt
//! stopped); the state items (account standing and real name, risk locks,
//! binding limit, maintenance) are read live and fail on their own when
//! they would stop the holder now, whatever the attempt said.

use bangka_core::ErrorCode;
use bangka_core::bind::{AccountStatus, KycState};
use bangka_core::diagnosis::{Check, Verdict, triage};
use bangka_core::risk::Subject;
use bangka_store::{AccountRow, AttemptRow, BindingRow};
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::IntoParams;

use super::standing::load_account;
use crate::error::{ApiResult, malformed};
use crate::i18n::{Say, say};
use crate::state::AppState;
use crate::views::{DiagnosisItemView, DiagnosisView, PrepareForSupportView, masked_card, rfc3339};

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct DiagnosisQuery {
    /// A failed attempt (`attempt_id` from any error of a failed bind).
    pub attempt_id: Option<String>,
    /// A bound card that "cannot be used".
    pub binding_id: Option<String>,
}

/// What a diagnosis is about: the attempt (if any) and the card.
pub struct Subjects {
    pub attempt: Option<AttemptRow>,
    pub binding: Option<BindingRow>,
}

/// Finds the attempt or binding on this account; anything else is
/// `NOT_FOUND`, exactly as a made-up id.
pub async fn subjects(app: &AppState, account_id: &str, q: &DiagnosisQuery) -> ApiResult<Subjects> {
    match (q.attempt_id.as_deref(), q.binding_id.as_deref()) {
        (Some(_), Some(_)) => Err(malformed("attempt_id", "give attempt_id or binding_id, not both").into()),
        (Some(a), None) => {
            let attempt = app.store.get_attempt(account_id, a).await?.ok_or(ErrorCode::NotFound)?;
            let binding = match &attempt.binding_id {
                Some(b) => app.store.get_binding(account_id, b).await?,
                None => None,
            };
            Ok(Subjects { attempt: Some(attempt), binding })
        }
        (None, Some(b)) => {
            let binding = app.store.get_binding(account_id, b).await?.ok_or(ErrorCode::NotFound)?;
            // The card's latest failure, if it has one, is what "cannot be used" means.
            let attempt =
                app.store.list_attempts(account_id).await?.into_iter().find(|a| a.binding_id.as_deref() == Some(b) && a.code.is_some());
            Ok(Subjects { attempt, binding: Some(binding) })
        }
        (None, None) => Ok(Subjects { attempt: None, binding: None }),
    }
}

/// `GET /v1/accounts/{id}/diagnosis`: `{items, prepare_for_support}`.
pub async fn diagnose(app: &AppState, account_id: &str, q: &DiagnosisQuery) -> ApiResult<DiagnosisView> {
    let account = load_account(app, account_id).await?;
    let s = subjects(app, account_id, q).await?;
    evaluate(app, &account, &s).await
}

/// The checklist for an account and what it is about.
pub async fn evaluate(app: &AppState, account: &AccountRow, s: &Subjects) -> ApiResult<DiagnosisView> {
    let now = app.clock.now();
    let code = s.attempt.as_ref().and_then(|a| a.code.as_deref()).and_then(ErrorCode::parse);
    let shape = if s.attempt.is_some() || s.binding.is_some() {
        triage(code)
    } else {
        bangka_core::diagnosis::CHECKLIST.iter().map(|c| (*c, Verdict::Unknown)).collect()
    };
    let issuer = s.attempt.as_ref().and_then(|a| a.issuer.clone()).or_else(|| s.binding.as_ref().map(|b| b.issuer.clone()));
    let card = card_of(s);
    // What the holder may be told: a fraud-sensitive cause in its safe
    // form, unless they reported the card lost or stolen themselves (a bind
    // or activation is of a card not yet theirs, so always the safe form).
    let new_card = s.attempt.as_ref().is_some_and(|a| matches!(a.kind.as_str(), "bind" | "activate"));
    let reported = !new_card && s.binding.as_ref().is_some_and(|b| b.frozen_reason.is_some_and(|r| r.reports_to_issuer()));
    let shown = code.map(|c| c.for_holder(reported));
    let bank_said = shown.map(|c| c.as_str());

    // A bound card's standing is asked of the bank now: a card the bank
    // closed after it was bound fails here whatever the attempt said.
    let bank_now = match &s.binding {
        Some(b) => Some(bank_status(app, b).await?),
        None => None,
    };
    let mut items = Vec::new();
    for (check, from_attempt) in shape {
        // The code that explains a failure seen in live state (not in the attempt).
        let mut live: Option<ErrorCode> = None;
        let (result, evidence) = match check {
            Check::AccountStanding => {
                let frozen = account.status == AccountStatus::Frozen;
                let locked = account.locked_until.filter(|u| *u > now);
                let result = if frozen || locked.is_some() { Verdict::Failed } else { Verdict::Passed };
                live = if frozen { Some(ErrorCode::AccountFrozen) } else { locked.map(|_| ErrorCode::RiskLocked) };
                let ev = json!({
                    "status": account.status.as_str(),
                    "frozen_reason": account.frozen_reason.map(|r| r.as_str()),
                    "locked_until": locked.map(rfc3339),
                });
                (result, ev)
            }
            Check::AccountKyc => {
                let result =
                    if account.kyc == KycState::Verified && from_attempt != Verdict::Failed { Verdict::Passed } else { Verdict::Failed };
                live = match account.kyc {
                    KycState::Verified => None,
                    KycState::Rejected => Some(ErrorCode::KycRejected),
                    _ => Some(ErrorCode::KycRequired),
                };
                (result, json!({ "kyc_status": account.kyc.as_str(), "problem": failed_code(from_attempt, bank_said) }))
            }
            Check::RiskControl => {
                let mut locks = Vec::new();
                if let Some(u) = account.locked_until.filter(|u| *u > now) {
                    locks.push(json!({ "scope": "account", "locked_until": rfc3339(u) }));
                }
                if let Some(fp) =
                    s.attempt.as_ref().and_then(|a| a.card_fp.as_deref()).or(s.binding.as_ref().map(|b| b.fingerprint.as_str()))
                {
                    for l in app.store.active_subject_locks(&[(Subject::Card, fp)], now).await? {
                        locks.push(json!({ "scope": l.per.as_str(), "locked_until": rfc3339(l.locked_until) }));
                    }
                }
                let result = if !locks.is_empty() || from_attempt == Verdict::Failed { Verdict::Failed } else { Verdict::Passed };
                live = (!locks.is_empty()).then_some(ErrorCode::RiskLocked);
                let unlock = json!({ "or_contact_support": { "method": "POST", "path": format!("/v1/accounts/{}/tickets", account.id) } });
                (result, json!({ "locks": locks, "bank_said": failed_code(from_attempt, bank_said), "unlock": unlock }))
            }
            Check::BindingLimit => {
                let cards = app.store.live_cards(&account.id).await?.len();
                let limit = app.policy.binding_limit as usize;
                // Full now means the next bind fails (not a question for a card already bound).
                let full = s.binding.is_none() && cards >= limit;
                live = full.then_some(ErrorCode::BindingLimitReached);
                let result = if full { Verdict::Failed } else { Verdict::Passed };
                (result, json!({ "live_cards": cards, "limit": limit, "failed_at_the_time": from_attempt == Verdict::Failed }))
            }
            Check::IssuerMaintenance => match &issuer {
                Some(i) => {
                    let until = super::maintenance::maintenance_until(app, i, now).await?.map(|(u, _)| u);
                    // Known now whatever the attempt reached.
                    let result = if until.is_some() { Verdict::Failed } else { Verdict::Passed };
                    live = until.map(|_| ErrorCode::IssuerMaintenance);
                    (result, json!({ "issuer": i, "in_maintenance_until": until.map(rfc3339) }))
                }
                None => (Verdict::Unknown, json!({})),
            },
            Check::DuplicateCard => (from_attempt, json!({ "bank_said": failed_code(from_attempt, bank_said) })),
            Check::CardFormat | Check::CardAccepted => {
                (from_attempt, json!({ "card": card.clone(), "issuer": issuer, "problem": failed_code(from_attempt, bank_said) }))
            }
            Check::ReservedPhone => {
                // The number the holder typed: the card's, or the failed attempt's.
                let phone = s
                    .binding
                    .as_ref()
                    .and_then(|b| bangka_core::holder::Phone::parse(&b.phone).ok())
                    .map(|p| p.masked())
                    .or_else(|| s.attempt.as_ref().and_then(|a| a.phone_masked.clone()));
                let ev = json!({
                    "bank_said": failed_code(from_attempt, bank_said),
                    "phone_used_masked": phone,
                    "what_to_check": say(
                        "这张卡在银行预留的手机号（开卡时登记的号码），可拨打银行客服或在网点查询、修改。",
                        "The mobile number registered with the bank for this card (given when the card was opened); the bank's hotline or a branch can tell or change it.",
                    ),
                });
                (from_attempt, ev)
            }
            Check::Otp => {
                // Was the latest code delivered, by SMS or voice call? (seed 000: "收不到验证码")
                let code = app.store.outbox_status(&account.id).await?.into_iter().find(|m| m.kind == "code");
                let delivery = code.map(|m| {
                    json!({ "channel": m.channel, "delivered": m.delivered, "tries": m.tries, "last_error": m.last_error, "end_reason": m.end_reason })
                });
                let mut ev = match s.binding.as_ref().and_then(|b| b.challenge_id.clone()) {
                    Some(cid) => match app.store.get_challenge(&cid).await? {
                        Some(c) => json!({
                            "tries_used": c.challenge.attempts,
                            "tries_allowed": app.otp.max_attempts,
                            "expires_at": rfc3339(c.challenge.expires_at),
                            "sends": c.sends,
                            "bank_said": failed_code(from_attempt, bank_said),
                        }),
                        None => json!({ "bank_said": failed_code(from_attempt, bank_said) }),
                    },
                    None => json!({ "bank_said": failed_code(from_attempt, bank_said) }),
                };
                ev["account_last_code_sms"] = json!(delivery);
                (from_attempt, ev)
            }
            Check::IssuerAvailable | Check::IssuerCardState if bank_now.is_some() => {
                // Asked just now: the answer is today's, not the attempt's.
                let now_code = bank_now.flatten();
                let fails_here = match check {
                    Check::IssuerAvailable => now_code == Some(ErrorCode::IssuerUnavailable),
                    _ => now_code.is_some_and(|c| c != ErrorCode::IssuerUnavailable && c != ErrorCode::IssuerMaintenance),
                };
                let reported = s.binding.as_ref().is_some_and(|b| b.frozen_reason.is_some_and(|r| r.reports_to_issuer()));
                live = now_code.filter(|_| fails_here).map(|c| c.for_holder(reported));
                let result = if fails_here || from_attempt == Verdict::Failed && live.is_none() && check == Check::IssuerAvailable {
                    Verdict::Failed
                } else {
                    Verdict::Passed
                };
                (result, json!({ "issuer": issuer, "asked_the_bank_at": rfc3339(now), "bank_said": live.map(ErrorCode::as_str) }))
            }
            Check::IssuerAvailable | Check::IssuerCardState | Check::HolderName | Check::IdNumber | Check::Cvv | Check::Expiry => {
                (from_attempt, json!({ "issuer": issuer, "bank_said": failed_code(from_attempt, bank_said) }))
            }
        };
        // What went wrong, in the holder's words: the live cause, else the attempt's.
        let why = match result {
            Verdict::Failed => live.or(shown.filter(|_| from_attempt == Verdict::Failed)),
            _ => None,
        };
        items.push(item(check.as_str(), check.title().into(), result, why, evidence));
    }
    if let Some(b) = &s.binding {
        items.push(binding_item(app, b).await?);
    }
    Ok(DiagnosisView {
        as_of: rfc3339(now),
        attempt_id: s.attempt.as_ref().map(|a| a.id.clone()),
        binding_id: s.binding.as_ref().map(|b| b.id.clone()),
        error_code: bank_said.map(str::to_owned),
        items,
        prepare_for_support: prepare(account, s, bank_said, card, issuer),
    })
}

/// One checklist item in the request's language: the cause and remedy of
/// `why` when it failed, else the verdict in words.
fn item(name: &str, title: Say, result: Verdict, why: Option<ErrorCode>, evidence: Value) -> DiagnosisItemView {
    let lang = crate::i18n::current();
    DiagnosisItemView {
        name: name.into(),
        title: title.get(lang).into(),
        result: json!(result).as_str().unwrap_or_default().into(),
        summary: why.map(|c| c.entry().message).unwrap_or_else(|| result.summary()).get(lang).into(),
        remedy: why.map(|c| c.entry().remediation.iter().map(|t| t.get(lang).to_owned()).collect()).unwrap_or_default(),
        error_code: why.map(|c| c.as_str().into()),
        evidence,
    }
}

/// The card's standing at the bank now: `None` when it can be used, the
/// cause otherwise (`ISSUER_UNAVAILABLE` when the bank does not answer).
/// A card whose data was destroyed (deleted) is not asked about.
async fn bank_status(app: &AppState, b: &BindingRow) -> ApiResult<Option<ErrorCode>> {
    let Some(pan) = super::bank::kept_card_number(app, b.vault_id.as_deref()).await? else { return Ok(None) };
    Ok(app.bank().card_status(&pan).await.err().map(|f| f.code))
}

/// A bound card's own state: the binding and its token.
async fn binding_item(app: &AppState, b: &BindingRow) -> ApiResult<DiagnosisItemView> {
    let token = app.store.token_for_binding(&b.id).await?;
    let token_status = token.as_ref().map(|t| t.state.status.as_str());
    let usable = b.status == bangka_core::binding::BindingStatus::Active
        && token.as_ref().is_some_and(|t| t.state.status == bangka_core::token::TokenStatus::Active);
    let result = if usable { Verdict::Passed } else { Verdict::Failed };
    let why = match b.status {
        _ if usable => None,
        bangka_core::binding::BindingStatus::Frozen if b.frozen_reason.is_some_and(|r| r.reports_to_issuer()) => {
            Some(ErrorCode::CardReportedLost)
        }
        bangka_core::binding::BindingStatus::Frozen => Some(ErrorCode::BindingFrozen),
        bangka_core::binding::BindingStatus::Unbinding => Some(ErrorCode::BindingUnbinding),
        bangka_core::binding::BindingStatus::Active => Some(ErrorCode::TokenSuspended),
        _ => Some(ErrorCode::BindingNotActive),
    };
    let evidence = json!({
        "binding_status": b.status.as_str(),
        "frozen_reason": b.frozen_reason.map(|r| r.as_str()),
        "token_status": token_status,
    });
    let title = say(
        "卡片在钱包里可以使用（未冻结、未解绑，支付标识有效）",
        "The card can be used in the wallet (not frozen or unbound, its payment token active)",
    );
    Ok(item("binding_state", title, result, why, evidence))
}

fn failed_code(v: Verdict, code: Option<&'static str>) -> Option<&'static str> {
    (v == Verdict::Failed).then_some(code).flatten()
}

fn card_of(s: &Subjects) -> Option<String> {
    match (&s.binding, &s.attempt) {
        (Some(b), _) => Some(masked_card(&b.bin, &b.last4)),
        (None, Some(a)) => match (&a.bin, &a.last4) {
            (Some(bin), Some(l4)) => Some(masked_card(bin, l4)),
            _ => None,
        },
        _ => None,
    }
}

/// What the seeds tell a holder to gather for support, filled in (masked).
fn prepare(
    account: &AccountRow,
    s: &Subjects,
    error_code: Option<&str>,
    card: Option<String>,
    issuer: Option<String>,
) -> PrepareForSupportView {
    let lang = crate::i18n::current();
    PrepareForSupportView {
        error_code: error_code.map(str::to_owned),
        attempt_id: s.attempt.as_ref().map(|a| a.id.clone()),
        time: s.attempt.as_ref().map(|a| rfc3339(a.created_at)),
        operation: s.attempt.as_ref().map(|a| a.kind.clone()),
        card_masked: card,
        issuer,
        account_phone_masked: bangka_core::holder::Phone::parse(&account.phone).ok().map(|p| p.masked()),
        device_id: s.attempt.as_ref().and_then(|a| a.device_id.clone()),
        never_share: [
            say("完整卡号", "The full card number"),
            say("安全码（CVV）", "The security code (CVV)"),
            say("支付密码和银行卡密码", "Payment and card passwords"),
            say("短信验证码", "SMS codes"),
        ]
        .iter()
        .map(|s| s.get(lang).to_owned())
        .collect(),
    }
}
