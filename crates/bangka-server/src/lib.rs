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
pub mod state;
pub mod telemetry;
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
    /// Demo endpoints (test cards, phone inbox).
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
        }
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
    // Instances sharing a database must hold the same keys (copied from the
    // first one): a different key would seal cards the others cannot open.
    let wrong = store.check_keys(&vault.key_checks(), time::OffsetDateTime::now_utc()).await.context("checking the key files")?;
    anyhow::ensure!(
        wrong.is_empty(),
        "the key files in {} are not the ones this database was started with ({}): every instance sharing a database needs \
         the same master.key, fingerprint key and payment-password.key (copy them from the first instance's data directory)",
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
        let (store, vault) = open_store(&config).await?;
        // The seed is fixed: a population card's number is the same on every
        // start, so a load generator can bind it across restarts.
        let simulator = Arc::new(Simulator::new(clock.clone()).with_population(config.demo_population, POPULATION_SEED));
        let policy = WalletPolicy { binding_limit: config.binding_limit, regions: config.card_regions.clone(), ..WalletPolicy::default() };
        let signer = bangka_store::ReceiptSigner::load_or_create(&config.data_dir).context("loading the receipt signing key")?;
        let sink: Arc<dyn notify::Sink> = match (&config.notify_webhook, config.demo) {
            (Some(url), _) => {
                let signer = bangka_store::WebhookSigner::load_or_create(&config.data_dir).context("loading the webhook signing secret")?;
                Arc::new(notify::Webhook::new(url, signer)?)
            }
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
        let app = http::router(self.state)
            .merge(web::router(demo))
            .layer(axum::middleware::from_fn_with_state(body, http::conn::read_body_in_time))
            .layer(axum::middleware::from_fn(auth::with_origin))
            .layer(axum::middleware::from_fn(error::catch_panic))
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
