//! Background work: delivering the notification outbox, and sweeping
//! abandoned operations.
//!
//! Delivering the notification outbox. Messages are written in the same
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

/// Delivers what is due: inline when the sink is local (the demo inbox, so
/// a code is readable when the request answers), otherwise in a background
/// task (the request does not wait on a webhook). Errors are logged; the
/// job retries.
pub async fn deliver(app: &AppState) {
    if app.sink.inline() {
        deliver_now(app).await;
    } else {
        let app = app.clone();
        tokio::spawn(async move { deliver_now(&app).await });
    }
}

/// Delivers what is due and waits for it (the job).
pub async fn deliver_now(app: &AppState) {
    if let Err(e) = deliver_pending(app).await {
        tracing::warn!(error = %e, "outbox delivery failed; will retry");
    }
}

async fn deliver_pending(app: &AppState) -> Result<(), bangka_store::StoreError> {
    use bangka_store::GiveUp;
    loop {
        let now = app.clock.now();
        let batch = app.store.due_messages(now, 50).await?;
        if batch.is_empty() {
            return Ok(());
        }
        for m in &batch {
            let code_sms = m.expires_at.is_some() && m.channel == "sms";
            if m.expires_at.is_some_and(|e| e <= now) {
                app.store.give_up_message(&m.id, GiveUp::Expired, None, now).await?;
                crate::metrics::otp_sms("expired");
                tracing::info!(message_id = %m.id, channel = %m.channel, "code expired before delivery; dropped");
                continue;
            }
            if !app.store.claim_message(&m.id, now, now + CLAIM).await? {
                continue;
            }
            match app.sink.deliver(m).await {
                Ok(()) => {
                    if app.store.mark_delivered(&m.id, app.clock.now()).await? {
                        if code_sms {
                            crate::metrics::otp_sms("delivered");
                        }
                        tracing::info!(message_id = %m.id, channel = %m.channel, to = %masked_recipient(m), sink = app.sink.name(), "notification delivered");
                    }
                }
                Err(e) => {
                    let tries = m.tries + 1;
                    if tries >= MAX_TRIES {
                        app.store.give_up_message(&m.id, GiveUp::Exhausted, Some(&e), app.clock.now()).await?;
                        if code_sms {
                            crate::metrics::otp_sms("failed");
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
    }
}

/// Pending binds and activations older than this are abandoned and their
/// sealed PANs shredded (their codes expired long before).
pub const ABANDON_PENDING_AFTER: time::Duration = time::Duration::hours(1);

/// The background jobs: every second, deliver leftover messages, complete
/// unbinds whose cooling-off ended and settle funds whose expected time
/// came; every ten seconds, release expired holds and finish payment ops
/// left pending; every minute, abandon stale pending operations. Safe on
/// many instances (every step claims its rows with a conditional update).
pub async fn run(app: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                deliver_now(&app).await;
                if tick.is_multiple_of(60) {
                    sweep(&app).await;
                }
                if let Err(e) = super::unbind::complete_due(&app).await {
                    tracing::warn!(error = ?e, "unbind completion failed; will retry");
                }
                if let Err(e) = super::settlements::settle_due(&app).await {
                    tracing::warn!(error = ?e, "settling funds in transit failed; will retry");
                }
                if tick.is_multiple_of(5)
                    && let Err(e) = super::tickets::escalate_overdue(&app).await
                {
                    tracing::warn!(error = ?e, "ticket SLA escalation failed; will retry");
                }
                if tick.is_multiple_of(10)
                    && let Err(e) = super::payments::recover(&app).await
                {
                    tracing::warn!(error = ?e, "payment job failed; will retry");
                }
                tick += 1;
            }
            _ = shutdown.changed() => return,
        }
    }
}

/// Ends pending operations whose codes expired long ago.
pub async fn sweep(app: &AppState) {
    let now = app.clock.now();
    match app.store.abandon_stale(now - ABANDON_PENDING_AFTER, now).await {
        Ok(0) => {}
        Ok(n) => tracing::info!(ended = n, "abandoned stale pending binds and activations"),
        Err(e) => tracing::warn!(error = %e, "sweeping stale pending operations failed; will retry"),
    }
    // Card keys: those of rows shredded by an operation that crashed before
    // destroying them, and those whose vault row never committed.
    let keys = async {
        let shredded = app.store.destroy_shredded_keys().await?;
        let orphans = app.store.sweep_orphan_keys(now - ABANDON_PENDING_AFTER).await?;
        Ok::<_, bangka_store::StoreError>(shredded + orphans)
    };
    match keys.await {
        Ok(0) => {}
        Ok(n) => tracing::info!(destroyed = n, "destroyed card keys left behind"),
        Err(e) => tracing::warn!(error = %e, "destroying card keys failed; will retry"),
    }
}
