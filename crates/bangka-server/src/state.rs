//! The shared application context every handler gets.

use std::sync::Arc;

use bangka_core::bin::WalletPolicy;
use bangka_core::clock::Clock;
use bangka_core::otp::OtpRules;
use bangka_core::risk::RiskRules;
use bangka_issuer::{IssuerConnector, Simulator};
use bangka_store::{ReceiptSigner, Store, Vault};

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub vault: Vault,
    /// Signs receipts (Ed25519; `receipt-signing.key` in the data directory).
    pub signer: ReceiptSigner,
    pub issuer: Arc<dyn IssuerConnector>,
    /// The in-process simulator, when it is the issuer (demo endpoints read
    /// its test cards).
    pub simulator: Option<Arc<Simulator>>,
    /// The bank's load cards (`--demo-population N`, listed by
    /// `GET /v1/demo/population`): the in-process simulator's, or, with a
    /// bank over the network, the same derivation the simulator service was
    /// started with.
    pub population: bangka_issuer::Population,
    pub clock: Arc<dyn Clock>,
    pub policy: Arc<WalletPolicy>,
    pub otp: OtpRules,
    pub risk: Arc<RiskRules>,
    /// Recently seen API keys (a lookup per request saved; see [`crate::key_cache::KeyCache`]).
    pub api_keys: Arc<crate::key_cache::KeyCache>,
    /// Signs webhook deliveries; its live secrets are reloaded from the
    /// database every two seconds (rotation without a restart).
    pub webhooks: bangka_store::WebhookSigner,
    /// Rate limits per key, account and client address, this instance's share.
    pub limiter: Arc<crate::rate_limit::Limiter>,
    /// This process, in the `instances` table (how many share the limits).
    pub instance_id: String,
    /// Test or live (`bangka serve --mode`): a live server refuses test keys.
    pub mode: bangka_core::mode::Mode,
    /// Demo endpoints and the demo phone inbox (test mode only).
    pub demo: bool,
    /// The clock as a demo may move it (`bangka serve --demo-clock`): then
    /// `POST /v1/demo/clock/advance` exists.
    pub demo_clock: Option<Arc<dyn bangka_core::clock::Advance>>,
    /// Where notifications are delivered (demo inbox, webhook or log).
    pub sink: Arc<dyn crate::notify::Sink>,
    /// How long an unbind can be revoked before the job completes it.
    pub cooling_off: time::Duration,
    /// How long a refund the bank confirmed is in transit to the card
    /// (unbinding waits for it).
    pub refund_settles_after: time::Duration,
    /// How long a duplicate request waits for the first one holding the same
    /// `Idempotency-Key` before answering `IDEMPOTENCY_IN_PROGRESS`.
    pub idempotency_wait: std::time::Duration,
    /// How long a holder session lasts (`--session-ttl`, 15 minutes by default).
    pub session_ttl: time::Duration,
    /// Crash points the reliability tests arm (see [`crate::failpoint`]).
    pub failpoints: Arc<crate::failpoint::Failpoints>,
}

impl AppState {
    /// This state with its store bound to a new unit of work: everything a
    /// flow run with it writes commits together (see `bangka_store::unit`).
    pub fn in_unit(&self, claim: Option<bangka_store::Claim>) -> AppState {
        AppState { store: self.store.unit(claim), ..self.clone() }
    }

    /// As [`AppState::in_unit`], for a flow that reads, decides and then
    /// stages its writes as one write-set (`Store::deciding_unit`).
    pub fn in_deciding_unit(&self, claim: Option<bangka_store::Claim>) -> AppState {
        AppState { store: self.store.deciding_unit(claim), ..self.clone() }
    }

    /// The issuer, for one bank call. Never inside an open unit of work: it
    /// would hold the database writer (or row locks) for the bank's latency.
    pub fn bank(&self) -> &dyn IssuerConnector {
        debug_assert!(!self.store.holds_open_unit(), "a bank call inside an open unit of work: checkpoint first");
        &*self.issuer
    }

    /// Fires the named crash point if a test armed it.
    pub async fn failpoint(&self, point: &str) -> crate::error::ApiResult<()> {
        self.failpoints.hit(point).await
    }
}
