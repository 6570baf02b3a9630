//! Every state-changing POST runs here, as one unit of work
//! (`bangka_store::unit`), at most once per `Idempotency-Key`.
//!
//! The flow runs with its store bound to a unit: the key's claim, the
//! effect, the attempt, the audit entries, the outbox rows and the stored
//! answer commit in one transaction, so a crash leaves either nothing (a
//! retry runs for the first time) or all of it (a retry replays the
//! answer). A repeat with the same body gets that answer again (in its own
//! language, with its own request id); a repeat with another body is
//! refused. Concurrent duplicates wait for the first and then replay it.
//!
//! A flow that calls the bank after writing down its intent commits that
//! intent first (`Store::checkpoint`), with a note on the claim saying how
//! to finish the request; a retry after a crash past that point resumes it
//! ([`crate::flows::resume`]) instead of running it again.
//!
//! # Secrets in stored answers
//! An answer is stored so it can be replayed, but no secret rests in the
//! database in clear. [`SEALED_FIELDS`] is the one list of answer fields
//! that hold one: their values are sealed under the master key before the
//! answer is stored and opened again on replay. A secret that must be
//! shown only once (a session token) is dropped from the stored answer
//! instead ([`run`]'s `shown_once`).

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use bangka_core::{ErrorCode, Failure};
use bangka_store::{AfterCommit, Claim, IdemState, StoreError, StoredAnswer, from_ms, to_ms};
use serde_json::{Value, json};
use time::Duration;

use crate::auth::Principal;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// How long a duplicate waits, by default, for the first request before
/// answering `IDEMPOTENCY_IN_PROGRESS`.
pub const WAIT_FOR_FIRST: std::time::Duration = std::time::Duration::from_secs(15);
/// A claim whose request wrote down its intent and then gave no sign of
/// life for this long belongs to a crashed request: a retry resumes it.
/// (Bank calls time out well before it.)
pub const STALE_CLAIM: Duration = Duration::seconds(60);

/// Answer fields whose values are secrets: sealed in the stored answer,
/// wherever they appear in it. A cryptogram pays; a card number is the
/// card.
pub const SEALED_FIELDS: &[&str] = &["cryptogram", "card_number"];

/// What a flow answers, as written: a status and its JSON (the runner keeps
/// it for the replay).
pub use crate::views::Written as Answer;

/// The key from the headers, validated (1–255 visible ASCII characters).
pub fn key_from(headers: &HeaderMap) -> ApiResult<Option<String>> {
    let Some(v) = headers.get("idempotency-key") else { return Ok(None) };
    let s = v.to_str().map_err(|_| ErrorCode::IdempotencyKeyInvalid)?;
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ErrorCode::IdempotencyKeyInvalid.into());
    }
    Ok(Some(s.to_owned()))
}

/// Runs `flow` at most once per (caller, key), in the read-decide-apply
/// shape. `route` names the operation and target (e.g. `POST
/// /v1/accounts/acc_x/bindings`), so one key cannot be replayed against
/// another resource; `shown_once` fields of the answer (a secret shown once)
/// are not kept in the stored answer. The flow runs in a
/// deciding unit (`Store::deciding_unit`), so what it stages is applied at
/// its end as one write-set and it never holds the writer. If the state it
/// decided on moved before the apply (the write-set was refused whole,
/// nothing of it written), it reads and decides again, on the unit path,
/// which takes the writer for its reads and cannot be refused that way.
/// Refused after a checkpoint (its intent durable, the bank perhaps
/// called), it is not decided again: it is finished by its resume note, as
/// a retry after a crash at that point would finish it.
pub async fn run<F>(
    app: &AppState,
    who: &Principal,
    key: Option<String>,
    route: &str,
    body: &[u8],
    shown_once: &[&str],
    flow: impl Fn(AppState) -> F,
) -> ApiResult<Response>
where
    F: Future<Output = ApiResult<Answer>> + Send,
{
    crate::failpoint::serving(route.to_owned(), async {
        let (claim, deadline) = match claim_for(app, who, key, route, body, shown_once).await? {
            Claimed::Run(claim, deadline) => (claim, deadline),
            Claimed::Answered(answer) => return answer,
        };
        let unit = app.in_deciding_unit(claim.clone());
        let outcome = run_flow(flow(unit.clone())).await;
        match conclude(app, &unit, claim.as_ref(), outcome, shown_once).await {
            Ok(answer) => return answer,
            Err(Unconcluded::ClaimLost) => return after_lost_claim(app, claim.as_ref(), deadline).await,
            Err(Unconcluded::Resume(note)) => {
                crate::metrics::decided_again();
                return resume_request(app, who, claim, &note, shown_once, deadline).await;
            }
            Err(Unconcluded::Conflict) => crate::metrics::decided_again(),
        }
        let unit = app.in_unit(claim.clone());
        let outcome = run_flow(flow(unit.clone())).await;
        match conclude(app, &unit, claim.as_ref(), outcome, shown_once).await {
            Ok(answer) => answer,
            Err(_) => after_lost_claim(app, claim.as_ref(), deadline).await,
        }
    })
    .await
}

/// Whether the request runs (with its claim, if keyed, and how long it may
/// wait for a duplicate) or is answered already.
enum Claimed {
    Run(Option<Claim>, tokio::time::Instant),
    Answered(ApiResult<Response>),
}

async fn claim_for(
    app: &AppState,
    who: &Principal,
    key: Option<String>,
    route: &str,
    body: &[u8],
    shown_once: &[&str],
) -> ApiResult<Claimed> {
    let deadline = tokio::time::Instant::now() + app.idempotency_wait;
    let Some(key) = key else { return Ok(Claimed::Run(None, deadline)) };
    // Keyed: a bind body holds a card number, which a plain hash would
    // let anyone with the database guess from the BIN and last four.
    let claim =
        Claim { scope: who.idempotency_scope(), key, request_hash: request_hash(app, route, body), at: app.clock.now(), owned: false };
    Ok(match turn(app, &claim, deadline).await? {
        Turn::Done(answer) => Claimed::Answered(answer),
        Turn::Resume(resume) => Claimed::Answered(resume_request(app, who, Some(claim), &resume, shown_once, deadline).await),
        Turn::Run => Claimed::Run(Some(claim), deadline),
    })
}

/// Runs the flow; an answer whose free text had card or ID numbers masked
/// says so (`"redacted": ["card_number"]`).
async fn run_flow(flow: impl Future<Output = ApiResult<Answer>>) -> ApiResult<Answer> {
    let (outcome, redacted) = crate::flows::text::noting_redactions(flow).await;
    outcome.map(|Answer { status, body: mut v }| {
        if !redacted.is_empty()
            && let Some(map) = v.as_object_mut()
        {
            map.insert("redacted".into(), json!(redacted));
        }
        Answer { status, body: v }
    })
}

/// The stored fingerprint of a request: route and body under the MAC key.
pub fn request_hash(app: &AppState, route: &str, body: &[u8]) -> String {
    app.vault.mac_bytes("idempotency", &[route.as_bytes(), body])
}

enum Turn {
    /// The key is new: run the flow.
    Run,
    /// Answered before (or refused): this is the answer.
    Done(ApiResult<Response>),
    /// A crashed request wrote down its intent: finish it this way.
    Resume(String),
}

/// What a request with this claim does, waiting (until `deadline`) while
/// another request holds the key.
async fn turn(app: &AppState, claim: &Claim, deadline: tokio::time::Instant) -> ApiResult<Turn> {
    loop {
        match app.store.idem_peek(&claim.scope, &claim.key, &claim.request_hash).await? {
            None => return Ok(Turn::Run),
            Some(IdemState::Mismatch) => return Err(ErrorCode::IdempotencyKeyReused.into()),
            Some(IdemState::Answered { resume: Some(r), response, .. }) if advice_expired(&response, app.clock.now()) => {
                // "Try again at T" was true then; T has passed, so the retry
                // resumes the request and answers its state now.
                return Ok(Turn::Resume(r));
            }
            Some(IdemState::Answered { status, response, .. }) => return Ok(Turn::Done(replay(app, claim, status, &response))),
            Some(IdemState::Running { resume, since }) if since + STALE_CLAIM < app.clock.now() => match resume {
                Some(r) => return Ok(Turn::Resume(r)),
                // Left by a version that claimed before its unit of work:
                // nothing says how far it got, so it runs again (as it did then).
                None => {
                    app.store.idem_take_over(&claim.scope, &claim.key, since).await?;
                }
            },
            Some(IdemState::Running { .. }) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(25)).await;
            }
            Some(IdemState::Running { .. }) => {
                return Err(Failure::new(ErrorCode::IdempotencyInProgress).retry_at(app.clock.now() + Duration::seconds(1)).into());
            }
        }
    }
}

/// Whether a stored answer is a refusal whose `retry_after` has passed.
fn advice_expired(stored: &str, now: time::OffsetDateTime) -> bool {
    let v: Value = serde_json::from_str(stored).unwrap_or_default();
    v["failure"]["retry_after_ms"].as_i64().is_some_and(|at| from_ms(at) <= now)
}

/// This request's unit lost the key to another request (which wrote
/// nothing of this one's): wait for its answer and give it.
async fn after_lost_claim(app: &AppState, claim: Option<&Claim>, deadline: tokio::time::Instant) -> ApiResult<Response> {
    let Some(claim) = claim else { return Err(lost_claim(app)) };
    match turn(app, claim, deadline).await? {
        Turn::Done(answer) => answer,
        // The other request rolled back after all, and this one's flow is
        // spent: the caller retries.
        Turn::Run | Turn::Resume(_) => Err(lost_claim(app)),
    }
}

fn lost_claim(app: &AppState) -> ApiError {
    Failure::new(ErrorCode::IdempotencyInProgress).retry_at(app.clock.now() + Duration::seconds(1)).into()
}

/// Finishes a request a crash interrupted after it wrote down its intent
/// (or whose last write-set was refused after it: the same point). Its
/// claim, if keyed, is already in the database.
async fn resume_request(
    app: &AppState,
    who: &Principal,
    claim: Option<Claim>,
    resume: &str,
    shown_once: &[&str],
    deadline: tokio::time::Instant,
) -> ApiResult<Response> {
    tracing::warn!(resume, "resuming a request interrupted after its intent was written");
    let claim = claim.map(|c| Claim { owned: true, at: app.clock.now(), ..c });
    let unit = app.in_unit(claim.clone());
    let outcome = crate::flows::resume(&unit, who, resume).await;
    match conclude(app, &unit, claim.as_ref(), outcome, shown_once).await {
        Ok(answer) => answer,
        Err(_) => after_lost_claim(app, claim.as_ref(), deadline).await,
    }
}

/// A unit that ended without an answer, having written nothing.
enum Unconcluded {
    /// Its claim was taken by another request.
    ClaimLost,
    /// Its write-set was decided on a state that moved before the apply.
    Conflict,
    /// As `Conflict`, after a checkpoint: the request is finished by this
    /// resume note.
    Resume(String),
}

/// Ends the unit: stores the answer with the effect and commits (a catalog
/// failure is an answer too: its attempt and risk count stand), or rolls
/// everything back on an internal error (the key can be retried). Then
/// delivers what the commit queued.
async fn conclude(
    app: &AppState,
    unit: &AppState,
    claim: Option<&Claim>,
    outcome: ApiResult<Answer>,
    shown_once: &[&str],
) -> Result<ApiResult<Response>, Unconcluded> {
    // Past a checkpoint, a refused write-set is finished by the note.
    let note = unit.store.resume_note().await;
    let refused = || match (unit.store.is_deciding(), &note) {
        (true, _) => Some(Unconcluded::Conflict),
        (false, Some(n)) => Some(Unconcluded::Resume(n.clone())),
        (false, None) => None,
    };
    let store_error = |e: &ApiError| match e {
        ApiError::Internal(a) => match a.downcast_ref::<StoreError>() {
            Some(StoreError::ClaimTaken) => Some(Unconcluded::ClaimLost),
            Some(StoreError::Conflict(_)) => refused(),
            _ => None,
        },
        _ => None,
    };
    if let Err(e) = &outcome
        && let Some(why) = store_error(e)
    {
        unit.store.abort_unit().await;
        return Err(why);
    }
    let stored = match (&outcome, claim) {
        (Err(ApiError::Internal(_)), _) => {
            unit.store.abort_unit().await;
            return Ok(outcome.map(respond));
        }
        (_, None) => None,
        (_, Some(c)) => match stored_answer(app, c, &outcome, shown_once) {
            Ok(s) => Some(s),
            Err(e) => {
                unit.store.abort_unit().await;
                return Ok(Err(e));
            }
        },
    };
    if let Err(e) = crate::flows::outbox::deliver_in_unit(unit).await {
        unit.store.abort_unit().await;
        return Ok(Err(e.into()));
    }
    if let Err(e) = unit.failpoint("unit.before_commit").await {
        unit.store.abort_unit().await;
        return Ok(Err(e));
    }
    // A refusal that says when to try again outlives nothing: the claim
    // keeps its resume note (if the flow wrote one) for a later retry.
    let transient = matches!(&outcome, Err(ApiError::Domain { failure, .. }) if failure.retry_after.is_some());
    let answer = stored.as_ref().map(|(status, body)| StoredAnswer { status: *status, body: body.as_str(), transient });
    let after = match unit.store.finish_unit(answer).await {
        Ok(after) => after,
        Err(StoreError::ClaimTaken) => return Err(Unconcluded::ClaimLost),
        Err(StoreError::Conflict(what)) if refused().is_some() => {
            tracing::debug!(what, "a write-set was refused: the state moved while the request decided; deciding again");
            return Err(refused().expect("checked"));
        }
        Err(e) => return Ok(Err(e.into())),
    };
    after_commit(app, after).await;
    if let Err(e) = app.failpoint("unit.after_commit").await {
        return Ok(Err(e));
    }
    Ok(outcome.map(respond))
}

/// Work a commit leaves: delivering the messages it queued (inline when
/// the sink is local, so a code is in the demo inbox when the request
/// answers; otherwise by the delivery job).
pub async fn after_commit(app: &AppState, after: AfterCommit) {
    crate::flows::outbox::deliver(app, after.messages).await;
}

fn respond(Answer { status, body: v }: Answer) -> Response {
    (status, axum::Json(v)).into_response()
}

/// The answer as stored: secrets sealed, shown-once fields dropped.
fn stored_answer(app: &AppState, claim: &Claim, outcome: &ApiResult<Answer>, shown_once: &[&str]) -> ApiResult<(u16, String)> {
    match outcome {
        Ok(Answer { status, body: v }) => {
            let mut kept = v.clone();
            for field in shown_once {
                if let Some(slot) = kept.get_mut(*field) {
                    *slot = Value::Null;
                }
            }
            seal_secrets(app, claim, &mut kept);
            Ok((status.as_u16(), json!({ "ok": kept }).to_string()))
        }
        Err(ApiError::Domain { failure, attempt_id }) => Ok((
            failure.code.entry().http_status,
            json!({ "failure": {
                "code": failure.code.as_str(),
                "retry_after_ms": failure.retry_after.map(to_ms),
                "details": failure.details,
                "attempt_id": attempt_id,
            }})
            .to_string(),
        )),
        Err(ApiError::Internal(_)) => Err(anyhow::anyhow!("an internal error is never stored").into()),
    }
}

fn seal_context(claim: &Claim) -> String {
    format!("idempotency:{}:{}", claim.scope, claim.key)
}

/// Replaces each [`SEALED_FIELDS`] string value with `{"sealed": hex}`.
fn seal_secrets(app: &AppState, claim: &Claim, v: &mut Value) {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if SEALED_FIELDS.contains(&k.as_str())
                    && let Value::String(secret) = child
                {
                    *child = json!({ "sealed": hex::encode(app.vault.seal_value(&seal_context(claim), secret)) });
                } else {
                    seal_secrets(app, claim, child);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|c| seal_secrets(app, claim, c)),
        _ => {}
    }
}

/// Opens what [`seal_secrets`] sealed.
fn open_secrets(app: &AppState, claim: &Claim, v: &mut Value) -> ApiResult<()> {
    match v {
        Value::Object(map) => {
            for (k, child) in map.iter_mut() {
                if SEALED_FIELDS.contains(&k.as_str())
                    && let Some(sealed) = child.get("sealed").and_then(Value::as_str)
                {
                    let blob = hex::decode(sealed).map_err(|e| ApiError::Internal(e.into()))?;
                    let secret = app.vault.open_value(&seal_context(claim), &blob)?;
                    *child = Value::String(secret.to_string());
                } else {
                    open_secrets(app, claim, child)?;
                }
            }
        }
        Value::Array(items) => {
            for c in items {
                open_secrets(app, claim, c)?;
            }
        }
        _ => {}
    }
    Ok(())
}

fn replay(app: &AppState, claim: &Claim, status: u16, stored: &str) -> ApiResult<Response> {
    let mut v: Value = serde_json::from_str(stored).map_err(|e| ApiError::Internal(e.into()))?;
    if let Some(f) = v.get("failure") {
        let code = f["code"].as_str().and_then(ErrorCode::parse).ok_or_else(|| ApiError::Internal(anyhow::anyhow!("stored code")))?;
        let failure = Failure {
            code,
            retry_after: f["retry_after_ms"].as_i64().map(from_ms),
            details: Some(f["details"].clone()).filter(|d| !d.is_null()),
        };
        return Err(ApiError::Domain { failure, attempt_id: f["attempt_id"].as_str().map(str::to_owned) });
    }
    open_secrets(app, claim, &mut v)?;
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut res = (status, axum::Json(v["ok"].take())).into_response();
    res.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    Ok(res)
}
