//! The background jobs: one loop per instance, woken by the outbox queue's
//! `Notify` when a commit queued notifications, and by a one-second tick
//! for everything that comes due with time. It sits above the flows it
//! schedules (nothing in `flows` calls back into it), and it stops when the
//! server shuts down.
//!
//! Every step is safe on many instances: each claims its rows with a
//! conditional update, so two instances never act on one row twice.

use crate::flows::{activation, freeze, outbox, payments, settlements, tickets, unbind};
use crate::state::AppState;

/// Pending binds and activations older than this are abandoned and their
/// sealed PANs shredded (their codes expired long before).
pub const ABANDON_PENDING_AFTER: time::Duration = time::Duration::hours(1);

/// Notifications delivered at once, at most, when a wake-up brings many.
const DELIVERY_PARALLELISM: usize = 16;

/// The loop: on a wake-up, deliver what commits queued; every second, seal
/// the audit entries written since, deliver leftovers, complete unbinds whose cooling-off ended and settle
/// funds whose time came; every 5 s, escalate overdue tickets; every 10 s,
/// release expired holds, finish payment ops left pending, and settle
/// activations and lost-card reports the bank has not confirmed; every
/// minute, abandon stale pending operations and destroy card keys left
/// behind.
pub async fn run(app: AppState, mut shutdown: tokio::sync::watch::Receiver<bool>) {
    let mut tick: u64 = 0;
    let queue = app.store.outbox();
    // An interval, not a sleep made anew each turn: deliveries waking the
    // loop more often than once a second must not starve the timed work.
    // Its first turn comes a second after the start, as before: a request
    // retried at once after a restart resumes its own interrupted work
    // before the payment job (tick 0) goes looking for it.
    let second = std::time::Duration::from_secs(1);
    let mut every_second = tokio::time::interval_at(tokio::time::Instant::now() + second, second);
    every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = queue.notify.notified() => deliver_queued(&app, queue.take()).await,
            _ = every_second.tick() => {
                seal_audit(&app).await;
                outbox::deliver_now(&app).await;
                if tick.is_multiple_of(2) {
                    beat(&app).await;
                }
                if tick.is_multiple_of(60) {
                    sweep(&app).await;
                    app.limiter.tidy();
                }
                if let Err(e) = unbind::complete_due(&app).await {
                    tracing::warn!(error = ?e, "unbind completion failed; will retry");
                }
                if let Err(e) = settlements::settle_due(&app).await {
                    tracing::warn!(error = ?e, "settling funds in transit failed; will retry");
                }
                if tick.is_multiple_of(5)
                    && let Err(e) = tickets::escalate_overdue(&app).await
                {
                    tracing::warn!(error = ?e, "ticket SLA escalation failed; will retry");
                }
                if tick.is_multiple_of(10) {
                    if let Err(e) = payments::recover(&app).await {
                        tracing::warn!(error = ?e, "payment job failed; will retry");
                    }
                    if let Err(e) = activation::resolve_unconfirmed(&app).await {
                        tracing::warn!(error = ?e, "asking the bank about unconfirmed activations failed; will retry");
                    }
                    if let Err(e) = freeze::report_unconfirmed(&app).await {
                        tracing::warn!(error = ?e, "telling the bank about lost cards failed; will retry");
                    }
                }
                tick += 1;
            }
            _ = shutdown.changed() => {
                // What this instance wrote last is sealed before it stops.
                seal_audit(&app).await;
                return;
            }
        }
    }
}

/// Seals the audit entries written since the last turn (see
/// `bangka_store::audit`): every instance does it, taking turns on the head.
async fn seal_audit(app: &AppState) {
    loop {
        match app.store.seal_audit().await {
            Ok(n) if n == bangka_store::audit::SEAL_BATCH => continue,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = ?e, "sealing the audit log failed; will retry");
                return;
            }
        }
    }
}

/// Notes this instance alive, shares the rate limits among the instances
/// alive now (see `rate_limit`), and reloads the live webhook secrets.
async fn beat(app: &AppState) {
    let now = app.clock.now();
    match app.store.instance_beat(&app.instance_id, now, now - crate::rate_limit::INSTANCE_FRESH).await {
        Ok(n) => app.limiter.set_instances(n),
        Err(e) => tracing::warn!(error = ?e, "instance heartbeat failed; will retry"),
    }
    if let Err(e) = crate::keys::refresh_webhook_secrets(&app.store, &app.vault, &app.webhooks, now).await {
        tracing::warn!(error = ?e, "reloading the webhook secrets failed; will retry");
    }
}

/// Delivers queued messages, a few at once (a slow webhook does not hold
/// up the rest); the loop waits for them before it looks again.
async fn deliver_queued(app: &AppState, ids: Vec<String>) {
    if ids.len() <= 1 {
        outbox::deliver_ids(app, &ids).await;
        return;
    }
    let mut set = tokio::task::JoinSet::new();
    for chunk in ids.chunks(ids.len().div_ceil(DELIVERY_PARALLELISM)) {
        let (app, chunk) = (app.clone(), chunk.to_vec());
        set.spawn(async move { outbox::deliver_ids(&app, &chunk).await });
    }
    while set.join_next().await.is_some() {}
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
