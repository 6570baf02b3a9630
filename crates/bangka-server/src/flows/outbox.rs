//! Background work: delivering the notification outbox, and sweeping
//! abandoned operations.
//!
//! Delivering the notification outbox. Messages are written in the same
//! transaction as the change they tell about; delivery happens after commit
//! (right away, and again from the background job for anything left over).
//! Sinks: the demo phone inbox (demo mode) or the log (masked recipient, no
//! body — a body may hold an OTP).

use bangka_core::holder::Phone;

use crate::state::AppState;

/// Delivers what is pending; errors are logged and retried by the job.
pub async fn deliver(app: &AppState) {
    if let Err(e) = deliver_pending(app).await {
        tracing::warn!(error = %e, "outbox delivery failed; will retry");
    }
}

async fn deliver_pending(app: &AppState) -> Result<(), bangka_store::StoreError> {
    loop {
        let batch = app.store.undelivered(50).await?;
        if batch.is_empty() {
            return Ok(());
        }
        for m in &batch {
            let now = app.clock.now();
            let delivered =
                if app.demo { app.store.deliver_to_demo_inbox(m, now).await? } else { app.store.mark_delivered(&m.id, now).await? };
            if delivered {
                let to = Phone::parse(&m.recipient).map(|p| p.masked()).unwrap_or_else(|_| "***".into());
                tracing::info!(message_id = %m.id, channel = %m.channel, to = %to, "notification delivered");
            }
        }
    }
}

/// Pending binds and activations older than this are abandoned and their
/// sealed PANs shredded (their codes expired long before).
pub const ABANDON_PENDING_AFTER: time::Duration = time::Duration::hours(1);

/// The background jobs: every second, deliver leftover messages and complete
/// unbinds whose cooling-off ended; every ten
/// seconds, finish payment ops left pending; every minute, abandon stale
/// pending operations. Safe on many instances (every
/// step claims its rows with a conditional update).
pub async fn run(app: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs(1)) => {
                deliver(&app).await;
                if tick.is_multiple_of(60) {
                    sweep(&app).await;
                }
                if let Err(e) = super::unbind::complete_due(&app).await {
                    tracing::warn!(error = ?e, "unbind completion failed; will retry");
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
