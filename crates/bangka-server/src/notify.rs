//! Notification sinks: where an outbox message goes when it is delivered.
//!
//! Messages are written to the outbox in the same transaction as the change
//! they tell about ([`bangka_store::NewMessage`]); `flows::outbox` hands
//! each due one to the [`Sink`], at least once, with its id so a receiver
//! can drop a repeat. Three sinks ship:
//! - [`DemoInbox`]: the demo "phone inbox" (embedded demo mode), so an SMS
//!   code can be read and typed; push and email land there too, under the
//!   account id and the address.
//! - [`Webhook`]: `POST`s each message as JSON to the wallet backend, which
//!   sends it through its own SMS, voice, push and email providers
//!   (`bangka serve --notify-webhook URL`), signed (`Bangka-Signature`, see
//!   docs/webhooks.md). Any non-2xx answer or timeout is a failure, retried
//!   with backoff.
//! - [`LogSink`]: records that a message went out (masked recipient, never
//!   the body, which may hold a code); for running without either.

use std::sync::Arc;
use std::time::Duration as StdDuration;

use async_trait::async_trait;
use bangka_core::clock::Clock;
use bangka_core::holder::{Phone, mask_email};
use bangka_store::{OutboxMessage, Store};
use time::Duration;

/// Delivers one message; `Err` carries a short reason (kept as the
/// outbox row's `last_error`, so never a body).
#[async_trait]
pub trait Sink: Send + Sync {
    fn name(&self) -> &'static str;

    /// Whether delivering is a local write (the demo inbox, the log): then a
    /// request delivers its own messages inside its unit of work, so a code
    /// is readable when it answers and no further commit is needed;
    /// otherwise a background task and the job deliver after the commit.
    fn inline(&self) -> bool {
        false
    }

    /// Whether this is the demo inbox (a table of the same database): then
    /// delivery inside a unit is a copy of the outbox rows.
    fn is_demo_inbox(&self) -> bool {
        false
    }

    /// Delivers `m`; a local sink writes through `store` (the unit's, when
    /// delivering inside one).
    async fn deliver(&self, store: &Store, m: &OutboxMessage) -> Result<(), String>;
}

/// Attempts per message before the outbox gives up on it.
pub const MAX_TRIES: i64 = 10;

/// How long a failed message waits before attempt `tries + 1`: 2, 4, 8 …
/// seconds, at most 10 minutes. Ten attempts span about 17 minutes.
pub fn retry_delay(tries: i64) -> Duration {
    let secs = 1_i64.checked_shl(tries.clamp(1, 20) as u32).unwrap_or(i64::MAX);
    Duration::seconds(secs.min(600))
}

/// The recipient as logs may show it.
pub fn masked_recipient(m: &OutboxMessage) -> String {
    match m.channel.as_str() {
        "sms" | "voice" => Phone::parse(&m.recipient).map(|p| p.masked()).unwrap_or_else(|_| "***".into()),
        "email" => mask_email(&m.recipient),
        _ => m.recipient.clone(),
    }
}

pub struct DemoInbox {
    pub clock: Arc<dyn Clock>,
}

#[async_trait]
impl Sink for DemoInbox {
    fn name(&self) -> &'static str {
        "demo_inbox"
    }

    fn inline(&self) -> bool {
        true
    }

    fn is_demo_inbox(&self) -> bool {
        true
    }

    async fn deliver(&self, store: &Store, m: &OutboxMessage) -> Result<(), String> {
        store.put_in_demo_inbox(m, self.clock.now()).await.map_err(|e| format!("demo inbox: {e}"))
    }
}

pub struct LogSink;

#[async_trait]
impl Sink for LogSink {
    fn name(&self) -> &'static str {
        "log"
    }

    fn inline(&self) -> bool {
        true
    }

    async fn deliver(&self, _store: &Store, m: &OutboxMessage) -> Result<(), String> {
        tracing::info!(message_id = %m.id, channel = %m.channel, to = %masked_recipient(m), "notification handed to the log sink");
        Ok(())
    }
}

pub struct Webhook {
    client: reqwest::Client,
    url: String,
    signer: bangka_store::WebhookSigner,
}

impl Webhook {
    pub fn new(url: &str, signer: bangka_store::WebhookSigner) -> anyhow::Result<Webhook> {
        let parsed = reqwest::Url::parse(url).map_err(|e| anyhow::anyhow!("--notify-webhook {url}: {e}"))?;
        anyhow::ensure!(matches!(parsed.scheme(), "http" | "https"), "--notify-webhook must be an http(s) URL");
        let client = reqwest::Client::builder().timeout(StdDuration::from_secs(5)).build()?;
        Ok(Webhook { client, url: url.to_owned(), signer })
    }
}

#[async_trait]
impl Sink for Webhook {
    fn name(&self) -> &'static str {
        "webhook"
    }

    async fn deliver(&self, _store: &Store, m: &OutboxMessage) -> Result<(), String> {
        let body = serde_json::json!({ "id": m.id, "channel": m.channel, "to": m.recipient, "body": m.body, "attempt": m.tries + 1 });
        let bytes = serde_json::to_vec(&body).map_err(|_| "webhook body".to_owned())?;
        // Signed at the moment of sending, by the wall clock the receiver
        // checks it against (not the service's clock, which a demo can move).
        let signature = self.signer.header(time::OffsetDateTime::now_utc().unix_timestamp(), &bytes);
        let res = self
            .client
            .post(&self.url)
            .header("Idempotency-Key", &m.id)
            .header("Bangka-Event-Id", &m.id)
            .header("Bangka-Signature", signature)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(bytes)
            .send()
            .await;
        match res {
            Ok(r) if r.status().is_success() => Ok(()),
            Ok(r) => Err(format!("webhook answered {}", r.status().as_u16())),
            Err(e) if e.is_timeout() => Err("webhook timed out".into()),
            Err(_) => Err("webhook unreachable".into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let secs: Vec<i64> = (1..=MAX_TRIES).map(|t| retry_delay(t).whole_seconds()).collect();
        assert_eq!(secs, [2, 4, 8, 16, 32, 64, 128, 256, 512, 600]);
        assert_eq!(retry_delay(0).whole_seconds(), 2);
        assert_eq!(retry_delay(1000).whole_seconds(), 600);
    }
}
