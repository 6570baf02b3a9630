//! Manual review and real-name change (issue 6; seeds 000 and 003).
//!
//! The holder sends a review with materials (references to documents the
//! wallet stored, never the images) for what stops them: a risk lock, a
//! bind held for review, an unbind stopped by a lock, or a real-name record
//! that does not match their cards. A risk reviewer approves or rejects it
//! once, with a reason the holder is told. An approval takes effect in the
//! decision's transaction: the locks lift, or the real-name record is
//! replaced; an approved bind review lets that card bind to that account
//! for 7 days without the review and step-up rules.

use bangka_core::bind::{KycState, MIN_KYC_AGE};
use bangka_core::holder::{HolderName, IdNumber, Phone};
use bangka_core::otp::Otp;
use bangka_core::review::{Material, ReviewKind, ReviewStatus, check_materials};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{Cause, MessageKind, NewMessage, NewReview, ReviewDecision, ReviewRow, kyc_context};
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

use super::standing::load_account;
use crate::auth::{Duty, OpsAuth, Principal};
use crate::error::{ApiResult, malformed};
use crate::i18n::{Say, say};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{MaterialView, ReviewDecisionView, ReviewList, ReviewView, rfc3339};

pub use super::risk::BIND_REVIEW_VALID;

#[derive(Deserialize, ToSchema)]
pub struct MaterialBody {
    /// `id_front`, `id_back`, `bank_card`, `selfie` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Where the wallet stored the document (1–200 of `A–Z a–z 0–9 . _ : / -`).
    #[serde(rename = "ref")]
    pub reference: String,
}

#[derive(Deserialize, ToSchema)]
pub struct ReviewBody {
    /// `risk_lock`, `bind` (with the held attempt's `attempt_id`), `unbind`
    /// (with `binding_id`), `info_change` or `kyc` (with `real_name` and
    /// `id_number`), or `phone_change` (with `new_phone` and the `otp` sent
    /// to it by `POST /v1/accounts/{id}/phone`), or `unfreeze` (an account
    /// frozen `phone_lost` or `account_compromised`, or a card frozen
    /// `phone_lost`, whose holder keeps the number: an identity check).
    pub kind: String,
    /// The holder's statement (1–1000 characters).
    pub statement: String,
    pub materials: Vec<MaterialBody>,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    pub real_name: Option<String>,
    pub id_number: Option<String>,
    pub new_phone: Option<String>,
    pub otp: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct DecisionBody {
    /// Why, told to the holder (1–500 characters).
    pub reason: String,
}

#[derive(Deserialize, IntoParams, Default)]
#[into_params(parameter_in = Query)]
pub struct ReviewFilter {
    /// `submitted` (default), `approved`, `rejected`, `withdrawn` or `void`.
    pub status: Option<String>,
}

fn kind_zh(k: ReviewKind) -> &'static str {
    match k {
        ReviewKind::RiskLock => "风控解锁",
        ReviewKind::Bind => "绑卡",
        ReviewKind::Unbind => "解绑",
        ReviewKind::InfoChange => "实名信息修改",
        ReviewKind::Kyc => "实名认证",
        ReviewKind::PhoneChange => "更换手机号",
        ReviewKind::Unfreeze => "账户解冻",
    }
}

pub fn view(r: &ReviewRow) -> ReviewView {
    let materials = r.materials.as_array().map(|ms| {
        ms.iter()
            .map(|m| MaterialView {
                kind: m["type"].as_str().unwrap_or_default().to_owned(),
                reference: m["ref"].as_str().unwrap_or_default().to_owned(),
            })
            .collect()
    });
    ReviewView {
        id: r.id.clone(),
        kind: r.kind.as_str().into(),
        status: r.status,
        statement: r.statement.clone(),
        materials: materials.unwrap_or_default(),
        attempt_id: r.attempt_id.clone(),
        binding_id: r.binding_id.clone(),
        new_phone_masked: r.new_phone.as_deref().and_then(|p| Phone::parse(p).ok()).map(|p| p.masked()),
        decision: r.decided_at.map(|at| ReviewDecisionView { reason: r.decision_reason.clone(), decided_at: crate::views::Timestamp(at) }),
        approvable_from: (r.status == ReviewStatus::Submitted && r.kind.waiting_period() > time::Duration::ZERO)
            .then(|| rfc3339(approvable_from(r))),
        created_at: crate::views::Timestamp(r.created_at),
        account_id: None,
        released: None,
        requested: None,
        account: None,
    }
}

/// The earliest time a reviewer may approve `r`: its waiting period after
/// it was sent (none for most kinds).
fn approvable_from(r: &ReviewRow) -> time::OffsetDateTime {
    r.created_at + r.kind.waiting_period()
}

/// The name and ID number a real-name review asks for, opened and parsed
/// again (the rules the automatic path runs take them parsed).
fn requested_values(app: &AppState, r: &ReviewRow) -> ApiResult<Option<(HolderName, IdNumber)>> {
    let (Some(n), Some(i)) = (&r.name_enc, &r.id_enc) else { return Ok(None) };
    let name = app.vault.open_value(&kyc_context(&r.account_id, "name"), n)?;
    let id = app.vault.open_value(&kyc_context(&r.account_id, "id"), i)?;
    Ok(Some((HolderName::parse(name.as_str())?, IdNumber::parse(id.as_str())?)))
}

/// A review as a reviewer sees it: the values asked for and the account as
/// it is now, masked (issue 24, finding 4: reviews were decided blind).
async fn ops_view(app: &AppState, r: &ReviewRow) -> ApiResult<ReviewView> {
    let account = app.store.get_account(&r.account_id).await?;
    let on_file = match &account {
        Some(a) => app.store.kyc_sealed(&a.id).await?,
        None => None,
    };
    review_ops_view(app, r, account.as_ref(), on_file)
}

/// The review as a reviewer sees it, beside its account and the real-name
/// record on file (sealed), as read or as a decision leaves them.
fn review_ops_view(
    app: &AppState,
    r: &ReviewRow,
    account: Option<&bangka_store::AccountRow>,
    on_file: Option<(Vec<u8>, Vec<u8>)>,
) -> ApiResult<ReviewView> {
    let requested = requested_values(app, r)?
        .map(|(name, id)| crate::views::KycValuesView { real_name_masked: name.masked(), id_number_masked: id.masked() });
    let account = match account {
        Some(a) => {
            let on_file = match on_file {
                Some((n, i)) => {
                    let name = app.vault.open_value(&kyc_context(&a.id, "name"), &n)?;
                    let id = app.vault.open_value(&kyc_context(&a.id, "id"), &i)?;
                    (HolderName::parse(name.as_str()).ok().map(|n| n.masked()), IdNumber::parse(id.as_str()).ok().map(|i| i.masked()))
                }
                None => (None, None),
            };
            Some(crate::views::ReviewAccountView {
                phone_masked: Phone::parse(&a.phone).map(|p| p.masked()).unwrap_or_default(),
                status: a.status,
                frozen_reason: a.frozen_reason.map(|f| f.as_str().into()),
                kyc_status: a.kyc,
                real_name_masked: on_file.0,
                id_number_masked: on_file.1,
            })
        }
        None => None,
    };
    Ok(ReviewView { account_id: Some(r.account_id.clone()), requested, account, ..view(r) })
}

/// The rules the automatic real-name check runs, run again on a reviewer's
/// approval: a person may not verify what the rules refuse (an ID number
/// under the minimum age).
fn kyc_rules(app: &AppState, account_id: &str, id: &IdNumber) -> ApiResult<()> {
    if id.age_on(crate::views::beijing_date(app.clock.now())) < MIN_KYC_AGE {
        return Err(super::accounts::under_age(account_id, id).into());
    }
    Ok(())
}

fn not_applicable(why: Say) -> crate::error::ApiError {
    Failure::new(ErrorCode::ReviewNotApplicable).with_details(json!({ "why": why })).into()
}

/// `POST /v1/accounts/{id}/reviews`.
pub async fn submit(app: &AppState, who: &Principal, account_id: &str, body: ReviewBody) -> ApiResult<Answer<ReviewView>> {
    let account = load_account(app, account_id).await?;
    let now = app.clock.now();
    let kind = ReviewKind::parse(&body.kind)
        .ok_or_else(|| malformed("kind", "risk_lock, bind, unbind, info_change, kyc, phone_change or unfreeze"))?;
    let statement = super::text::required_text("statement", &body.statement, 1000)?;
    let mut materials = Vec::new();
    for (i, m) in body.materials.iter().enumerate() {
        materials.push(
            Material::parse(&m.kind, &m.reference)
                .map_err(|c| Failure::new(c).with_details(json!({ "index": i, "problem": "type or ref not valid" })))?,
        );
    }
    if let Err(missing) = check_materials(kind, &materials) {
        let missing: Vec<&str> = missing.iter().map(|m| m.as_str()).collect();
        return Err(Failure::new(ErrorCode::ReviewMaterialsInvalid).with_details(json!({ "missing": missing, "at_most": 10 })).into());
    }
    let locked = account.locked_until.is_some_and(|u| u > now) || app.store.has_running_subject_locks(account_id, now).await?;
    let (mut attempt_id, mut binding_id, mut card_fp, mut sealed, mut new_phone) = (None, None, None, None, None);
    match kind {
        ReviewKind::RiskLock if !locked => {
            return Err(not_applicable(say(
                "账户目前没有风控锁定，无需审核。",
                "No risk lock is running on the account, so there is nothing to review.",
            )));
        }
        ReviewKind::RiskLock => {}
        ReviewKind::Unbind => {
            let bid = body.binding_id.as_deref().ok_or_else(|| malformed("binding_id", "the card whose unbind is stopped"))?;
            app.store.get_binding(account_id, bid).await?.ok_or(ErrorCode::NotFound)?;
            if !locked {
                return Err(not_applicable(say(
                    "解绑没有被风控锁定阻止，可以直接解绑。",
                    "No risk lock stops this unbind: unbind the card directly.",
                )));
            }
            binding_id = Some(bid.to_owned());
        }
        ReviewKind::Bind => {
            let aid = body.attempt_id.as_deref().ok_or_else(|| malformed("attempt_id", "the bind attempt held for review"))?;
            let a = app.store.get_attempt(account_id, aid).await?.ok_or(ErrorCode::NotFound)?;
            if a.code.as_deref() != Some(ErrorCode::RiskReviewRequired.as_str()) {
                return Err(not_applicable(say(
                    "这次绑卡没有被转人工审核，无需提交。",
                    "That bind attempt was not held for review, so there is nothing to submit.",
                )));
            }
            card_fp = a.card_fp.clone();
            attempt_id = Some(a.id);
        }
        ReviewKind::InfoChange => {
            if account.kyc != KycState::Verified {
                return Err(not_applicable(say(
                    "账户还没有完成实名认证：请先完成实名认证。",
                    "The account has no real-name verification yet: verify first.",
                )));
            }
            let name = HolderName::parse(body.real_name.as_deref().ok_or_else(|| malformed("real_name", "the new name"))?)?;
            let id = IdNumber::parse(body.id_number.as_deref().ok_or_else(|| malformed("id_number", "the new ID number"))?)?;
            if id.age_on(crate::views::beijing_date(now)) < MIN_KYC_AGE {
                return Err(ErrorCode::KycRejected.into());
            }
            let same = account.kyc_name_mac.as_deref() == Some(&app.vault.kyc_name_mac(name.as_str()))
                && account.kyc_id_mac.as_deref() == Some(&app.vault.kyc_id_mac(id.expose()));
            if same {
                return Err(not_applicable(say(
                    "填写的姓名和身份证号与已登记的一致，无需修改。",
                    "The name and ID number are the ones already on record: nothing to change.",
                )));
            }
            sealed = Some((
                app.vault.seal_value(&kyc_context(account_id, "name"), name.as_str()),
                app.vault.seal_value(&kyc_context(account_id, "id"), id.expose()),
            ));
        }
        ReviewKind::Kyc => {
            if account.kyc != KycState::Rejected {
                return Err(not_applicable(say(
                    "只有被拒绝的实名认证才需要人工审核；请直接提交实名认证。",
                    "Only a rejected real-name verification goes to a person: submit the verification itself instead.",
                )));
            }
            let name = HolderName::parse(body.real_name.as_deref().ok_or_else(|| malformed("real_name", "the name on the ID card"))?)?;
            let id = IdNumber::parse(body.id_number.as_deref().ok_or_else(|| malformed("id_number", "the ID number on the card"))?)?;
            kyc_rules(app, account_id, &id)?;
            sealed = Some((
                app.vault.seal_value(&kyc_context(account_id, "name"), name.as_str()),
                app.vault.seal_value(&kyc_context(account_id, "id"), id.expose()),
            ));
        }
        ReviewKind::Unfreeze => {
            let distrusted = account.frozen_reason.is_some_and(bangka_core::bind::AccountFreezeReason::distrusts_phone);
            let card_distrusted = app
                .store
                .list_bindings(account_id, false)
                .await?
                .iter()
                .any(|b| b.frozen_reason.is_some_and(bangka_core::binding::FreezeReason::distrusts_phone));
            if !distrusted && !card_distrusted {
                return Err(not_applicable(say(
                    "账户没有因手机丢失或账户被盗而冻结：用发往手机的验证码解冻即可。",
                    "Nothing was frozen for a lost phone or a taken-over account: unfreeze with the code sent to the phone.",
                )));
            }
        }
        ReviewKind::PhoneChange => {
            let phone = Phone::parse(body.new_phone.as_deref().ok_or_else(|| malformed("new_phone", "the new phone number"))?)?;
            let otp = Otp::parse(body.otp.as_deref().ok_or_else(|| malformed("otp", "the code sent to the new phone"))?)?;
            let c = super::accounts::new_phone_challenge(app, &account, &phone).await?;
            super::codes::check_otp(app, account_id, "phone_change", &Default::default(), &c, &otp, async || Ok(())).await?;
            new_phone = Some((phone.as_str().to_owned(), c.challenge.id.clone()));
        }
    }
    // A review that moves the account off its phone is told to that phone
    // and every other channel, with when it can take effect and how to
    // withdraw it (issue 24, finding 3).
    let mut tell = vec![];
    let wait = kind.waiting_period();
    if wait > time::Duration::ZERO {
        let (when_zh, when_en) = crate::views::holder_time(now + wait);
        tell.push(super::notices::account_notice(
            account_id,
            &account.phone,
            format!("【Bangka】您的钱包账户收到一项{}申请（审核编号 {{review_id}}），最早于 {when_zh} 生效。如非本人操作，请在钱包“我的审核”中撤回，并联系客服。", kind_zh(kind)),
            format!("Bangka: your wallet account received a {} request (review {{review_id}}); it can take effect no sooner than {when_en}. If this was not you, withdraw it in the wallet under My reviews and contact support.", kind.as_str().replace('_', " ")),
        ));
    }
    let materials_json = json!(materials);
    let new = NewReview {
        account_id,
        kind,
        statement: &statement,
        materials: &materials_json,
        attempt_id: attempt_id.as_deref(),
        binding_id: binding_id.as_deref(),
        card_fp: card_fp.as_deref(),
        sealed: sealed.as_ref().map(|(n, i)| (n.as_slice(), i.as_slice())),
        new_phone: new_phone.as_ref().map(|(p, c)| (p.as_str(), c.as_str())),
    };
    match app.store.create_review(&new, &tell, Cause::api(who.actor()), now).await? {
        Ok(r) => {
            tracing::info!(review_id = %r.id, account_id, kind = kind.as_str(), "review submitted");
            Ok(Answer::created(view(&r)))
        }
        Err(pending) if pending.is_empty() && kind == ReviewKind::PhoneChange => Err(ErrorCode::OtpExpired.into()),
        Err(pending) => Err(Failure::new(ErrorCode::ReviewAlreadyPending).with_details(json!({ "review_id": pending })).into()),
    }
}

pub async fn list(app: &AppState, account_id: &str, page: &bangka_store::PageRequest) -> ApiResult<ReviewList> {
    load_account(app, account_id).await?;
    Ok(ReviewList::new(app.store.account_reviews(account_id, page).await?.map(|r| view(&r))))
}

pub async fn get(app: &AppState, account_id: &str, review_id: &str) -> ApiResult<Answer<ReviewView>> {
    match app.store.get_review(review_id).await? {
        Some(r) if r.account_id == account_id => Ok(Answer::ok(view(&r))),
        _ => Err(ErrorCode::NotFound.into()),
    }
}

/// `POST /v1/accounts/{id}/reviews/{rvid}/withdraw`: the holder takes back
/// a review still waiting (one they did not send included: a lost-phone
/// change someone else asked for). The account's phone is told.
pub async fn withdraw(app: &AppState, who: &Principal, account_id: &str, review_id: &str) -> ApiResult<Answer<ReviewView>> {
    let account = load_account(app, account_id).await?;
    let r = match app.store.get_review(review_id).await? {
        Some(r) if r.account_id == account_id => r,
        _ => return Err(ErrorCode::NotFound.into()),
    };
    let decided = |status: ReviewStatus| Failure::new(ErrorCode::ReviewAlreadyDecided).with_details(json!({ "status": status }));
    if r.status != ReviewStatus::Submitted {
        return Err(decided(r.status).into());
    }
    let notice = super::notices::account_notice(
        account_id,
        &account.phone,
        format!("【Bangka】您的{}申请（审核编号 {}）已撤回，不会生效。", kind_zh(r.kind), r.id),
        format!("Bangka: your {} request (review {}) was withdrawn and will not take effect.", r.kind.as_str().replace('_', " "), r.id),
    );
    let Some(r) = app.store.withdraw_review(&r, &notice, Cause::api(who.actor()), app.clock.now()).await? else {
        let now = app.store.get_review(review_id).await?.map(|r| r.status).unwrap_or(ReviewStatus::Void);
        return Err(decided(now).into());
    };
    tracing::info!(review_id, account_id, "review withdrawn");
    Ok(Answer::ok(view(&r)))
}

/// `GET /v1/ops/reviews[?status=]` (support, risk, admin): oldest first.
pub async fn ops_list(app: &AppState, who: &OpsAuth, f: ReviewFilter, page: &bangka_store::PageRequest) -> ApiResult<ReviewList> {
    who.require(Duty::ReadOps)?;
    let status = match f.status.as_deref() {
        None => ReviewStatus::Submitted,
        Some(s) => ReviewStatus::parse(s).ok_or_else(|| malformed("status", "submitted, approved, rejected, withdrawn or void"))?,
    };
    let page = app.store.ops_reviews(status, page).await?;
    let mut data = Vec::with_capacity(page.items.len());
    for r in &page.items {
        data.push(ops_view(app, r).await?);
    }
    Ok(ReviewList { data, has_more: page.has_more })
}

/// `POST /v1/ops/reviews/{rid}/approve|reject` (risk, admin).
pub async fn decide(app: &AppState, who: &OpsAuth, review_id: &str, approve: bool, body: DecisionBody) -> ApiResult<Answer<ReviewView>> {
    let p = who.require(Duty::DecideReviews)?;
    let reason = super::text::ops_reason(&body.reason, 1)?;
    let r = app.store.get_review(review_id).await?.ok_or(ErrorCode::NotFound)?;
    let decided = || Failure::new(ErrorCode::ReviewAlreadyDecided).with_details(json!({ "status": r.status }));
    if r.status != ReviewStatus::Submitted {
        return Err(decided().into());
    }
    let account = load_account(app, &r.account_id).await?;
    let now = app.clock.now();
    let from = approvable_from(&r);
    if approve && now < from {
        let details = json!({ "approvable_from": rfc3339(from) });
        return Err(Failure::new(ErrorCode::ReviewWaitingPeriod).with_details(details).retry_at(from).into());
    }
    // A real-name change: the new record's keyed hashes, from the sealed values.
    if approve
        && r.kind == ReviewKind::PhoneChange
        && let Some(phone) = &r.new_phone
        && app.store.account_by_phone(phone).await?.is_some_and(|other| other != r.account_id)
    {
        // Taken since the holder asked: reject instead, saying why.
        return Err(ErrorCode::AccountPhoneTaken.into());
    }
    let macs = match (approve, r.kind) {
        (true, ReviewKind::InfoChange | ReviewKind::Kyc) => match requested_values(app, &r)? {
            Some((name, id)) => {
                kyc_rules(app, &r.account_id, &id)?;
                Some((app.vault.kyc_name_mac(name.as_str()), app.vault.kyc_id_mac(id.expose())))
            }
            None => None,
        },
        _ => None,
    };
    let decision = if approve {
        ReviewDecision::Approve { kyc_macs: macs.as_ref().map(|(n, i)| (n.as_str(), i.as_str())) }
    } else {
        ReviewDecision::Reject
    };
    let (zh_outcome, en_outcome) = if approve { ("已通过", "was approved") } else { ("未通过", "was not approved") };
    // A phone change is told to the phone the account has from now on.
    let to = match (approve, &r.new_phone) {
        (true, Some(p)) => p.clone(),
        _ => account.phone.clone(),
    };
    let mut notices = vec![NewMessage {
        kind: MessageKind::Notice,
        account_id: r.account_id.clone(),
        phone: to,
        zh: format!("【Bangka】您的{}审核{zh_outcome}：{reason}", kind_zh(r.kind)),
        en: format!("Bangka: your {} review {en_outcome}: {reason}", r.kind.as_str().replace('_', " ")),
    }];
    if let (true, Some(new_phone)) = (approve, r.new_phone.as_deref().and_then(|p| Phone::parse(p).ok())) {
        // The phone the account leaves hears of it too.
        let (when_zh, when_en) = crate::views::holder_time(now);
        let masked = new_phone.masked();
        notices.push(super::notices::account_notice(
            &r.account_id,
            &account.phone,
            format!("【Bangka】您的钱包账户手机号已于 {when_zh} 经人工审核更换为 {masked}。如非本人操作，请立即联系客服。"),
            format!("Bangka: the phone number of your wallet account was changed to {masked} by a manual review at {when_en}. If this was not you, contact support at once."),
        ));
    }
    // Decided on the review and the account as read (and what the real-name
    // record on file was): the answer is built from them, not read again.
    let on_file = match (&macs, &r.name_enc, &r.id_enc) {
        (Some(_), Some(n), Some(i)) => Some((n.clone(), i.clone())),
        _ => app.store.kyc_sealed(&account.id).await?,
    };
    let cause = Cause::api(p.actor()).with_note(&reason);
    let Some(decided) = app.store.decide_review(&r, &account, decision, &reason, &notices, cause, now).await? else {
        // Moved meanwhile (applied at once: the request's second decision).
        let status = app.store.get_review(review_id).await?.map_or(r.status, |r| r.status);
        if status == ReviewStatus::Submitted {
            // Still waiting: what moved was the account (decided again
            // under the writer, this cannot happen short of a bug).
            return Err(anyhow::anyhow!("review {review_id}: its decision was refused twice while it waited").into());
        }
        return Err(Failure::new(ErrorCode::ReviewAlreadyDecided).with_details(json!({ "status": status })).into());
    };
    tracing::info!(review_id, approve, operator = %p.key_id, "review decided");
    let v = review_ops_view(app, &decided.review, Some(&decided.account), on_file)?;
    Ok(Answer::ok(ReviewView { released: Some(decided.released), ..v }))
}
