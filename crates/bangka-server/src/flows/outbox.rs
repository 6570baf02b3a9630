//! Delivering the notification outbox (a leaf: the flows that write
//! notices call it, and the jobs loop schedules it; it calls neither). Messages are written in the same
//! transaction as the change they tell about; delivery happens after commit
//! (right away, and again from the background job for anything left over)
//! through the configured [`crate::notify::Sink`]. Each attempt claims its
//! row first (several instances never send one twice at once); a failure is
//! retried with exponential backoff up to [`MAX_TRIES`]; a code nobody
//! received before it expired is dropped, not delivered late. The body is
//! erased once delivered or given up (it may hold a code).

use time::Duration;

use crate::notify::{MAX_TRIES, masked_recipient, retry_delay};
use crate::state::AppState;

/// How long one delivery attempt holds its claim.
const CLAIM: Duration = Duration::seconds(30);

/// How long the background job leaves a new message to whoever committed
/// it: the request that queued it delivers it at once, so the job only
/// takes messages older than this (leftovers and retries).
const LEFT_TO_COMMITTER: Duration = Duration::seconds(10);

/// Hands the messages a commit just queued to the delivery job, which the
/// queue wakes at once (the request does not wait on a webhook). A local
/// sink's were delivered inside the unit already ([`deliver_in_unit`]).
pub async fn deliver(app: &AppState, ids: Vec<String>) {
    if ids.is_empty() || app.sink.inline() {
        return;
    }
    // Inside a unit of work the messages are not committed yet: delivery
    // follows the commit (`idempotency::after_commit`).
    debug_assert!(!app.store.holds_open_unit(), "delivery inside an open unit of work");
    app.store.outbox().queue(ids);
}

/// Runs a job's work and then delivers the messages its commits queued
/// (all of them, and only them), as a request delivers its own.
pub async fn delivering<T>(app: &AppState, work: impl std::future::Future<Output = T>) -> T {
    let (out, ids) = bangka_store::collecting(work).await;
    if !ids.is_empty() {
        deliver_ids(app, &ids).await;
    }
    out
}

/// For a local sink (the demo inbox, the log): delivers the unit's own
/// messages inside the unit, just before it commits. Delivering is then a
/// write like the others: the code is in the inbox when the request
/// answers, and it costs no commit of its own.
pub async fn deliver_in_unit(unit: &AppState) -> Result<(), bangka_store::StoreError> {
    if !unit.sink.inline() {
        return Ok(());
    }
    let ids = unit.store.unit_messages().await;
    if ids.is_empty() {
        return Ok(());
    }
    if unit.sink.is_demo_inbox() {
        let codes = unit.store.deliver_to_demo_inbox(&ids, unit.clock.now()).await?;
        (0..codes).for_each(|_| crate::metrics::otp_code("delivered"));
        return Ok(());
    }
    let batch = unit.store.undelivered(&ids).await?;
    deliver_batch(unit, &batch).await
}

/// Delivers these messages (those still undelivered). Errors are logged;
/// the job retries.
pub async fn deliver_ids(app: &AppState, ids: &[String]) {
    let sent = async {
        let batch = app.store.undelivered(ids).await?;
        deliver_batch(app, &batch).await
    };
    if let Err(e) = sent.await {
        tracing::warn!(error = %e, "outbox delivery failed; will retry");
    }
}

/// Delivers what is due and left over (the job).
pub async fn deliver_now(app: &AppState) {
    deliver_due(app, LEFT_TO_COMMITTER).await;
}

/// Delivers everything due, however new, and waits (a little) for
/// deliveries another task has in hand: the demo inbox is read by a person
/// who expects what was sent to be there.
pub async fn deliver_all_due(app: &AppState) {
    for _ in 0..50 {
        deliver_due(app, Duration::ZERO).await;
        match app.store.deliveries_in_flight(app.clock.now()).await {
            Ok(0) | Err(_) => return,
            Ok(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
        }
    }
}

async fn deliver_due(app: &AppState, left_to_committer: Duration) {
    if let Err(e) = deliver_pending(app, left_to_committer).await {
        tracing::warn!(error = %e, "outbox delivery failed; will retry");
    }
}

async fn deliver_pending(app: &AppState, left_to_committer: Duration) -> Result<(), bangka_store::StoreError> {
    loop {
        let now = app.clock.now();
        let batch = app.store.due_messages(now, now - left_to_committer, 50).await?;
        if batch.is_empty() {
            return Ok(());
        }
        deliver_batch(app, &batch).await?;
    }
}

async fn deliver_batch(app: &AppState, batch: &[bangka_store::OutboxMessage]) -> Result<(), bangka_store::StoreError> {
    use bangka_store::GiveUp;
    let now = app.clock.now();
    for m in batch {
        let code_sms = m.expires_at.is_some(); // a code, by SMS or voice call
        if m.expires_at.is_some_and(|e| e <= now) {
            app.store.give_up_message(&m.id, GiveUp::Expired, None, now).await?;
            crate::metrics::otp_code("expired");
            tracing::info!(message_id = %m.id, channel = %m.channel, "code expired before delivery; dropped");
            continue;
        }
        if !app.store.claim_message(&m.id, now, now + CLAIM).await? {
            continue;
        }
        match app.sink.deliver(&app.store, m).await {
            Ok(()) => {
                if app.store.mark_delivered(&m.id, app.clock.now()).await? {
                    if code_sms {
                        crate::metrics::otp_code("delivered");
                    }
                    tracing::info!(message_id = %m.id, channel = %m.channel, to = %masked_recipient(m), sink = app.sink.name(), "notification delivered");
                }
            }
            Err(e) => {
                let tries = m.tries + 1;
                if tries >= MAX_TRIES {
                    app.store.give_up_message(&m.id, GiveUp::Exhausted, Some(&e), app.clock.now()).await?;
                    if code_sms {
                        crate::metrics::otp_code("failed");
                    }
                    tracing::error!(message_id = %m.id, channel = %m.channel, tries, error = %e, "notification given up after every retry");
                } else {
                    let next = app.clock.now() + retry_delay(tries);
                    app.store.retry_message(&m.id, &e, next).await?;
                    tracing::warn!(message_id = %m.id, channel = %m.channel, tries, error = %e, "notification not delivered; will retry");
                }
            }
        }
    }
    Ok(())
}
