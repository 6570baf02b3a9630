//! The Bangka server: configuration, start-up and the pieces a request passes
//! through. `main.rs` is only the CLI; tests build an [`Application`] directly.
//!
//! # Layout
//! - [`http`]: routes and handlers (the edge), the OpenAPI document.
//! - [`flows`]: one module per operation, step by step.
//! - [`error`]: the one API error type and the catalog envelope.
//! - [`idempotency`], [`auth`], [`telemetry`]: cross-cutting request concerns.
//! - [`views`]: response bodies (masked card facts only).

pub mod acp;
pub mod auth;
pub mod bench;
pub mod data_dir;
pub mod docs;
pub mod error;
pub mod failpoint;
pub mod fill;
pub mod flows;
pub mod http;
pub mod i18n;
pub mod idempotency;
pub mod jobs;
pub mod key_cache;
pub mod keys;
pub mod metrics;
pub mod notify;
pub mod rate_limit;
pub mod state;
pub mod telemetry;
pub mod versioning;
pub mod views;
pub mod web;

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bangka_core::bin::WalletPolicy;
use bangka_core::clock::Clock;
use bangka_core::otp::OtpRules;
use bangka_core::risk::RiskRules;
use bangka_issuer::Simulator;
use bangka_store::{Store, Vault};

pub use state::AppState;

/// Everything `bangka serve` can be told.
#[derive(Debug, Clone)]
pub struct Config {
    /// Holds the SQLite file (embedded mode) and the key files.
    pub data_dir: PathBuf,
    pub listen: SocketAddr,
    /// `postgres://…` for scale-out; `None` means the SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// PostgreSQL schema to use (created if missing); tests use a fresh one.
    pub database_schema: Option<String>,
    /// Deliver notifications by POSTing them here (the wallet backend sends
    /// them on); without it, the demo inbox (demo mode) or the log.
    pub notify_webhook: Option<String>,
    /// Where card data keys are kept, when not beside the database (see
    /// `bangka_store::card_keys`).
    pub card_key_store_url: Option<String>,
    /// Test (the embedded default: demo conveniences, test cards) or live
    /// (what a deployment runs: no demo endpoints, no test keys).
    pub mode: bangka_core::mode::Mode,
    /// Live mode with the in-process simulator as its bank, said on purpose
    /// (`--issuer simulator`): a live server never falls back to it.
    pub simulator_on_purpose: bool,
    /// Test mode on an address other computers reach (`--allow-test-mode-on-network`).
    pub allow_test_mode_on_network: bool,
    /// Demo endpoints (test cards, phone inbox); test mode only.
    pub demo: bool,
    pub binding_limit: u32,
    /// Demo: this many more good cards for load (`--demo-population`).
    pub demo_population: u64,
    /// Regions whose banks' cards are bound (`--card-regions`).
    pub card_regions: Vec<bangka_core::bin::Region>,
    /// How long an unbind can be revoked (`--cooling-off`).
    pub cooling_off: time::Duration,
    /// How long a confirmed refund is in transit (`--refund-settles-after`).
    pub refund_settles_after: time::Duration,
    /// How long a holder session lasts (`--session-ttl`).
    pub session_ttl: time::Duration,
    /// Connection timeouts and cap (`--header-timeout`, `--body-timeout`, `--max-connections`).
    pub limits: http::conn::Limits,
    /// Risk rules instead of the published defaults (`--risk-rules`).
    pub risk_rules: Option<RiskRules>,
    /// A bank over the network (`--issuer-url`): the issuer protocol
    /// instead of the in-process simulator.
    pub issuer_url: Option<String>,
    /// The issuer protocol's keys (`--issuer-keys`; shared with the bank).
    pub issuer_keys: Option<PathBuf>,
    /// How long one call to a bank over the network may take.
    pub issuer_timeout: std::time::Duration,
    /// Requests allowed per key, account and client address (`--rate-limits`).
    pub rate_limits: rate_limit::Limits,
}

impl Config {
    /// The embedded default in `data_dir`, listening on `listen`: every
    /// other setting at its published default.
    pub fn new(data_dir: PathBuf, listen: SocketAddr) -> Config {
        Config {
            data_dir,
            listen,
            database_url: None,
            database_schema: None,
            notify_webhook: None,
            card_key_store_url: None,
            mode: bangka_core::mode::Mode::Test,
            simulator_on_purpose: false,
            allow_test_mode_on_network: false,
            demo: true,
            binding_limit: WalletPolicy::default().binding_limit,
            demo_population: 0,
            card_regions: WalletPolicy::default().regions,
            cooling_off: flows::unbind::DEFAULT_COOLING_OFF,
            refund_settles_after: flows::settlements::DEFAULT_REFUND_SETTLES_AFTER,
            session_ttl: bangka_core::session::DEFAULT_SESSION_TTL,
            limits: http::conn::Limits::default(),
            risk_rules: None,
            issuer_url: None,
            issuer_keys: None,
            issuer_timeout: std::time::Duration::from_secs(5),
            rate_limits: rate_limit::Limits::default(),
        }
    }

    /// What the mode forbids, said before anything starts: a live server
    /// without a real bank, or with demo conveniences; a test server that
    /// other computers reach (its demo endpoints hand out keys and show
    /// every test code) unless told so.
    pub fn check_mode(&self) -> anyhow::Result<()> {
        use bangka_core::mode::Mode;
        match self.mode {
            Mode::Live => {
                anyhow::ensure!(
                    self.issuer_url.is_some() || self.simulator_on_purpose,
                    "live mode needs a bank: --issuer-url URL (the issuer protocol), or --issuer simulator to run on the in-process simulator on purpose"
                );
                anyhow::ensure!(!self.demo, "live mode has no demo endpoints (pass --no-demo, or run --mode test)");
            }
            Mode::Test => {
                let ip = self.listen.ip();
                anyhow::ensure!(
                    ip.is_loopback() || self.allow_test_mode_on_network,
                    "test mode listens only on a loopback address ({} is not): its demo endpoints hand out keys and show every test code. \
                     Run --mode live for a deployment, or pass --allow-test-mode-on-network for a shared test server",
                    self.listen
                );
            }
        }
        Ok(())
    }

    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("bangka.db").display()))
    }
}

/// Opens the data directory: creates it, the key files and the database on
/// first start, and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<(Store, Vault)> {
    data_dir::secure(&config.data_dir, config.database_url.is_none())?;
    let store =
        Store::connect_with_key_store(&config.database_url(), config.database_schema.as_deref(), config.card_key_store_url.as_deref())
            .await
            .context("opening the database")?;
    let fingerprint_version = store.fingerprint_key_version().await.context("reading the key versions")?;
    let vault = Vault::open(&config.data_dir, fingerprint_version).context("loading the vault keys")?;
    store.attach_vault(&vault);
    // Every key an instance signs or seals with is made here, by whichever
    // command opens the data directory first (`keys create` in
    // docs/deploy.md), so copying the directory's key files before the
    // first start copies them all (issue 24, finding 5).
    let receipts = bangka_store::ReceiptSigner::load_or_create(&config.data_dir).context("loading the receipt signing key")?;
    let webhooks = bangka_store::WebhookSigner::load_or_create(&config.data_dir).context("loading the webhook signing secret")?;
    // Instances sharing a database must hold the same keys (copied from the
    // first one): a different key would seal cards the others cannot open,
    // or sign receipts and webhooks the others' public key and secret do not verify.
    let mut checks = vault.key_checks();
    checks.push(("receipt-signing".into(), receipts.public_key_hex()));
    checks.push(("webhook-signing".into(), webhooks.check_value()));
    let wrong = store.check_keys(&checks, time::OffsetDateTime::now_utc()).await.context("checking the key files")?;
    anyhow::ensure!(
        wrong.is_empty(),
        "the key files in {} are not the ones this database was started with ({}): every instance sharing a database needs \
         the same master.key, fingerprint key, payment-password.key, receipt-signing.key and webhook-signing.key \
         (copy them from the first instance's data directory)",
        config.data_dir.display(),
        wrong.join(", ")
    );
    Ok((store, vault))
}

/// The seed of the demo population (see `bangka_issuer::Population`).
pub const POPULATION_SEED: u64 = 20_261_126;

/// A built server, bound to its port, not yet serving.
pub struct Application {
    listener: tokio::net::TcpListener,
    state: AppState,
    background_jobs: bool,
    limits: http::conn::Limits,
}

impl Application {
    pub async fn build(config: Config, clock: Arc<dyn Clock>) -> anyhow::Result<Application> {
        config.check_mode()?;
        let (store, vault) = open_store(&config).await?;
        // The seed is fixed: a population card's number is the same on every
        // start, so a load generator can bind it across restarts.
        let simulator = Arc::new(Simulator::new(clock.clone()).with_population(config.demo_population, POPULATION_SEED));
        let policy = WalletPolicy { binding_limit: config.binding_limit, regions: config.card_regions.clone(), ..WalletPolicy::default() };
        let signer = bangka_store::ReceiptSigner::load_or_create(&config.data_dir).context("loading the receipt signing key")?;
        let webhooks = bangka_store::WebhookSigner::load_or_create(&config.data_dir).context("loading the webhook signing secret")?;
        keys::refresh_webhook_secrets(&store, &vault, &webhooks, clock.now()).await.context("loading the webhook secrets")?;
        let sink: Arc<dyn notify::Sink> = match (&config.notify_webhook, config.demo) {
            (Some(url), _) => Arc::new(notify::Webhook::new(url, webhooks.clone())?),
            (None, true) => Arc::new(notify::DemoInbox { clock: clock.clone() }),
            (None, false) => Arc::new(notify::LogSink),
        };
        // The in-process simulator is the embedded default; `--issuer-url`
        // puts a bank on the network in its place (the demo endpoints that
        // drive the simulator then answer for no card).
        let (issuer, simulator): (Arc<dyn bangka_issuer::IssuerConnector>, _) = match &config.issuer_url {
            None => (simulator.clone(), Some(simulator)),
            Some(url) => {
                let path = config.issuer_keys.clone().unwrap_or_else(|| config.data_dir.join("issuer-keys.json"));
                anyhow::ensure!(
                    path.exists(),
                    "--issuer-url needs the issuer protocol keys the bank holds: {} is missing (copy the simulator's, or pass --issuer-keys)",
                    path.display()
                );
                let keys = acp::Keys::load_or_create(&path).context("loading the issuer protocol keys")?;
                (Arc::new(acp::connector::HttpIssuer::new(url, keys, clock.clone(), config.issuer_timeout)?), None)
            }
        };
        let state = AppState {
            store,
            vault,
            signer,
            issuer,
            simulator,
            population: bangka_issuer::Population::new(config.demo_population, POPULATION_SEED),
            clock,
            policy: Arc::new(policy),
            otp: OtpRules::default(),
            risk: Arc::new(config.risk_rules.clone().unwrap_or_default()),
            api_keys: Arc::new(key_cache::KeyCache::default()),
            webhooks,
            limiter: Arc::new(rate_limit::Limiter::new(config.rate_limits)),
            instance_id: bangka_store::new_id("inst"),
            mode: config.mode,
            demo: config.demo,
            demo_clock: None,
            sink,
            idempotency_wait: idempotency::WAIT_FOR_FIRST,
            cooling_off: config.cooling_off,
            refund_settles_after: config.refund_settles_after,
            session_ttl: config.session_ttl,
            failpoints: Arc::new(failpoint::Failpoints::from_env()),
        };
        let listener = tokio::net::TcpListener::bind(config.listen).await.with_context(|| format!("binding {}", config.listen))?;
        Ok(Application { listener, state, background_jobs: true, limits: config.limits })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Mutable access before serving (tests tune rules and waits).
    pub fn state_mut(&mut self) -> &mut AppState {
        &mut self.state
    }

    /// Whether the background jobs run (tests that drive the jobs by hand,
    /// step by step, turn them off).
    pub fn set_background_jobs(&mut self, on: bool) {
        self.background_jobs = on;
    }

    /// Serves until `shutdown` completes, then drains requests, stops the
    /// background jobs and checkpoints the database.
    pub async fn run_until(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let job = self.background_jobs.then(|| tokio::spawn(jobs::run(self.state.clone(), stop_rx)));
        let store = self.state.store.clone();
        let clock = self.state.clock.clone();
        // request_id is outermost: the id exists before anything can fail.
        let body = (self.limits.body_timeout, http::BODY_LIMIT);
        let demo = self.state.demo;
        let limited = self.state.clone();
        let app = http::router(self.state)
            .merge(web::router(demo))
            .layer(axum::middleware::from_fn_with_state(body, http::conn::read_body_in_time))
            .layer(axum::middleware::from_fn(auth::with_origin))
            .layer(axum::middleware::from_fn_with_state(limited, auth::limit_anonymous))
            .layer(axum::middleware::from_fn(error::catch_panic))
            // Inside the error renderer (its refusal of an unknown version is
            // rendered), outside everything else (every answer says its
            // version, a refusal of the layers below too).
            .layer(axum::middleware::from_fn(versioning::versioned))
            .layer(axum::middleware::from_fn_with_state(clock, error::render_errors))
            .layer(axum::middleware::from_fn(telemetry::request_id));
        http::conn::serve(self.listener, app, self.limits, shutdown).await?;
        let _ = stop_tx.send(true);
        if let Some(job) = job {
            let _ = job.await;
        }
        store.checkpoint_wal().await?;
        store.close().await;
        Ok(())
    }
}

pub use bangka_core::clock::parse_duration;

#[cfg(test)]
mod tests {
    use super::*;
    use bangka_core::mode::Mode;

    fn config(mode: Mode, listen: &str) -> Config {
        Config { mode, demo: mode == Mode::Test, ..Config::new(PathBuf::from("/nonexistent"), listen.parse().unwrap()) }
    }

    #[test]
    fn live_mode_needs_a_bank_said_on_purpose_and_no_demo() {
        let c = config(Mode::Live, "0.0.0.0:8080");
        assert!(c.check_mode().unwrap_err().to_string().contains("--issuer simulator"));
        assert!(Config { simulator_on_purpose: true, ..c.clone() }.check_mode().is_ok());
        assert!(Config { issuer_url: Some("http://127.0.0.1:9".into()), ..c.clone() }.check_mode().is_ok());
        assert!(Config { simulator_on_purpose: true, demo: true, ..c }.check_mode().is_err());
    }

    #[test]
    fn test_mode_stays_on_loopback_unless_told() {
        assert!(config(Mode::Test, "127.0.0.1:8080").check_mode().is_ok());
        assert!(config(Mode::Test, "[::1]:8080").check_mode().is_ok());
        let open = config(Mode::Test, "0.0.0.0:8080");
        assert!(open.check_mode().unwrap_err().to_string().contains("--allow-test-mode-on-network"));
        assert!(Config { allow_test_mode_on_network: true, ..open }.check_mode().is_ok());
    }
}
