//! `bangka`: the command line. `bangka serve` runs the service (embedded
//! default: a SQLite file and the in-process issuer simulator);
//! `bangka keys create --role wallet` makes an API key; `bangka audit verify`
//! checks the audit chain.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use bangka_core::clock::{ShiftedClock, SystemClock};
use bangka_server::auth::{Role, generate_key, hash_key};
use bangka_server::{Application, Config, open_store, telemetry};
use clap::{Args, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "bangka", version, about = "Card binding for digital wallets; every failure explains itself.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service.
    Serve(Box<ServeArgs>),
    /// The issuer simulator as its own service (the bank over the network).
    Simulator {
        #[command(subcommand)]
        command: SimulatorCommand,
    },
    /// Manage API keys.
    Keys {
        #[command(subcommand)]
        command: KeysCommand,
    },
    /// Signed receipts.
    Receipt {
        #[command(subcommand)]
        command: ReceiptCommand,
    },
    /// The hash-chained audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Load a running server the way wallets do and print one JSON line of
    /// figures (operations, rate, latency percentiles, errors, server memory).
    Bench(BenchArgs),
    /// Scale data: write N bound cards straight into the store (stop the
    /// server first on SQLite, or it waits for the writer) and print one
    /// JSON line (cards, seconds, rate, size on disk).
    Fill {
        /// How many cards.
        #[arg(long)]
        cards: u64,
        /// The first population card (fill in steps: 0, then 1000000, …).
        #[arg(long, default_value_t = 0)]
        from: u64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
struct BenchArgs {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    target: String,
    /// What every virtual user does over and over.
    #[arg(long, value_enum, default_value = "bind")]
    scenario: bangka_server::bench::Scenario,
    /// How long to measure, e.g. `10s`.
    #[arg(long, default_value = "10s", value_parser = bangka_server::parse_duration)]
    duration: time::Duration,
    /// Virtual users, each with its own connection.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u32).range(1..=4096))]
    concurrency: u32,
    /// A wallet API key; without one, a demo key is asked for.
    #[arg(long, env = "BANGKA_KEY")]
    key: Option<String>,
    /// The first population card to use (default: a random one).
    #[arg(long)]
    offset: Option<u64>,
}

#[derive(Subcommand)]
enum ReceiptCommand {
    /// Verify a receipt file offline; exit 1 if it was changed or not signed
    /// by the trusted key.
    Verify {
        /// The receipt (a JSON document from GET /v1/accounts/{id}/receipts/{rid}).
        file: PathBuf,
        /// The service's public key (hex, from GET /v1/receipts/public-key).
        #[arg(long)]
        public_key: Option<String>,
        /// Or trust the key in this data directory (the service's own).
        #[arg(long)]
        data_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum AuditCommand {
    /// Walk the whole chain; exit 1 at the first edited, removed or reordered entry.
    Verify {
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args, Clone)]
struct StoreArgs {
    /// Data directory: the SQLite file and the key files (created on first start).
    #[arg(long, default_value = "./bangka-data", env = "BANGKA_DATA_DIR")]
    data_dir: PathBuf,
    /// Use PostgreSQL instead of the embedded SQLite file, e.g. postgres://127.0.0.1/bangka.
    #[arg(long, env = "BANGKA_DATABASE_URL")]
    database_url: Option<String>,
    /// PostgreSQL schema (created if missing).
    #[arg(long)]
    database_schema: Option<String>,
    /// Keep card data keys in this database instead of beside the main one
    /// (`<data-dir>/bangka.card-keys.db`, or the schema `<schema>_card_keys`):
    /// a deleted card's key is destroyed there, so backups of the main
    /// database never hold a key that opens a card number.
    #[arg(long, env = "BANGKA_CARD_KEY_STORE_URL")]
    card_key_store_url: Option<String>,
}

#[derive(Subcommand)]
enum SimulatorCommand {
    /// Serve the issuer protocol (docs/issuer-protocol.md) with the
    /// simulator's test cards; every Bangka instance given its URL shares
    /// this one bank.
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:9090")]
        listen: SocketAddr,
        /// Latency added to every answer (`50ms`, `1s`).
        #[arg(long, value_parser = parse_any_duration, default_value = "0s")]
        latency: time::Duration,
        /// The protocol keys, shared with Bangka (`--issuer-keys`); created
        /// with one fresh key when missing.
        #[arg(long, default_value = "issuer-keys.json")]
        keys: std::path::PathBuf,
        /// Faults to inject from the start: a JSON list of what
        /// `POST /sim/faults` takes.
        #[arg(long)]
        faults: Option<std::path::PathBuf>,
        /// Load cards, as `bangka serve --demo-population N` has them (the
        /// same N on both sides: a card is derived from its index, so the
        /// Bangka instances list the very cards this bank holds).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
        demo_population: u64,
    },
}

#[derive(Args)]
struct ServeArgs {
    #[command(flatten)]
    store: StoreArgs,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080", env = "BANGKA_LISTEN")]
    listen: SocketAddr,
    /// `test` (the default: the embedded demo, test cards, the phone inbox,
    /// demo keys; loopback only) or `live` (what a deployment runs: no demo
    /// endpoints, no test keys, and a bank said explicitly).
    #[arg(long, value_enum, default_value = "test")]
    mode: ServeMode,
    /// Test mode on an address other computers reach (a shared test server).
    #[arg(long)]
    allow_test_mode_on_network: bool,
    /// `simulator`: the in-process issuer simulator as the bank, said on
    /// purpose (live mode refuses to fall back to it).
    #[arg(long, value_parser = ["simulator"])]
    issuer: Option<String>,
    /// Turn off the demo endpoints (test cards, phone inbox); implied by `--mode live`.
    #[arg(long)]
    no_demo: bool,
    /// Banks over the network speaking the issuer protocol (e.g. the URL of
    /// `bangka simulator serve`) instead of the in-process simulator: one
    /// URL for every issuer, or `ISSUER=URL` pairs (comma-separated) with an
    /// optional bare URL for the rest.
    #[arg(long, env = "BANGKA_ISSUER_URL")]
    issuer_url: Option<String>,
    /// The issuer protocol keys the bank holds too (default:
    /// `issuer-keys.json` in the data directory).
    #[arg(long)]
    issuer_keys: Option<std::path::PathBuf>,
    /// Live bindings allowed per account.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..=50))]
    binding_limit: u32,
    /// Regions whose banks' cards this wallet binds, comma-separated:
    /// `mainland`, `hong_kong`, `macau`.
    #[arg(long, default_value = "mainland", value_delimiter = ',', value_parser = parse_region)]
    card_regions: Vec<bangka_core::bin::Region>,
    /// How long an unbind can be revoked before it completes, e.g. `24h`
    /// (default), `30m`, or `5s` for a demo.
    #[arg(long, default_value = "24h", value_parser = bangka_server::parse_duration)]
    cooling_off: time::Duration,
    /// How long a refund the bank confirmed is in transit to the card before
    /// it counts as arrived, e.g. `72h` (default) or `10s` for a demo.
    #[arg(long, default_value = "72h", value_parser = bangka_server::parse_duration)]
    refund_settles_after: time::Duration,
    /// How long a holder session (`POST /v1/accounts/{id}/sessions`) lasts,
    /// e.g. `15m` (default); at most `12h`.
    #[arg(long, default_value = "15m", value_parser = parse_session_ttl)]
    session_ttl: time::Duration,
    /// Risk rules as JSON (format: docs/risk-rules.md); the published
    /// defaults without it. A file below PCI DSS 8.3.4 is refused at start.
    #[arg(long)]
    risk_rules: Option<PathBuf>,
    /// Demo only: let `POST /v1/demo/clock/advance {"by": "24h"}` move the
    /// service's clock forward (cooling-off, settlements, code expiry), so
    /// a walk through time can be done by hand. Never in production.
    #[arg(long)]
    demo_clock: bool,
    /// Deliver SMS, push and email notices by POSTing each as JSON to this
    /// URL (the wallet backend sends them on); without it, the demo inbox in
    /// demo mode, else the log.
    #[arg(long, env = "BANGKA_NOTIFY_WEBHOOK")]
    notify_webhook: Option<String>,
    /// Log JSON lines instead of text.
    #[arg(long, value_enum, default_value = "text")]
    log_format: LogFormat,
    /// A request's headers must arrive within this; a kept-alive connection
    /// idle this long is closed too.
    #[arg(long, default_value = "10s", value_parser = bangka_server::parse_duration)]
    header_timeout: time::Duration,
    /// A request's body must arrive within this.
    #[arg(long, default_value = "10s", value_parser = bangka_server::parse_duration)]
    body_timeout: time::Duration,
    /// Demo: the simulator gets this many more good cards, each with its own
    /// holder and reserved phone (`GET /v1/demo/population`), so a load
    /// generator binds distinct cards. Costs no memory until used. With
    /// `--issuer-url`, start `bangka simulator serve` with the same N.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(0..=100_000_000))]
    demo_population: u64,
    /// Rate limits as JSON: `{"per_key": {"per_second": N, "burst": B},
    /// "per_account": {…}, "per_address": {…}}`; a scope left out keeps its
    /// default (per second/burst: 10000/20000 per key, 1000/2000 per account,
    /// 50/100 per address).
    #[arg(long)]
    rate_limits: Option<PathBuf>,
    /// At most this many connections at once (lowered to fit the open-files
    /// limit); more wait in the listen backlog.
    #[arg(long, default_value_t = 4096, value_parser = clap::value_parser!(u32).range(16..=1_000_000))]
    max_connections: u32,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ServeMode {
    Test,
    Live,
}

impl ServeMode {
    fn mode(self) -> bangka_core::mode::Mode {
        match self {
            ServeMode::Test => bangka_core::mode::Mode::Test,
            ServeMode::Live => bangka_core::mode::Mode::Live,
        }
    }
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Create an API key; the key is printed once, as the last line.
    Create {
        #[arg(long, value_parser = ["wallet", "merchant", "support", "risk", "admin"])]
        role: String,
        /// `live` (default) or `test`: a key finds only the accounts of its
        /// mode, and a live-mode server refuses test keys.
        #[arg(long, value_enum, default_value = "live")]
        mode: ServeMode,
        /// What the key is for (shown by `keys list`), e.g. `wallet-prod-1`.
        #[arg(long)]
        name: Option<String>,
        /// The key stops working after this long, e.g. `90d` or `12h`.
        #[arg(long, value_parser = bangka_server::parse_duration)]
        expires: Option<time::Duration>,
        /// Bind a merchant key to this merchant id. Only a bound key can
        /// charge the merchant's autopay agreements, and its payments must
        /// name this merchant.
        #[arg(long)]
        merchant_id: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the API keys (never the keys themselves): id, name, role, mode,
    /// created, last used, expires, revoked.
    List {
        /// One JSON document instead of a table.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke an API key: every running instance refuses it within a second.
    Revoke {
        /// The key's id (`key_…`, from `keys list`).
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rotate an API key: a new key (printed once, as the last line) with
    /// the same role, mode, name and merchant; the old one keeps working for
    /// the overlap, then expires.
    Rotate {
        /// The key's id (`key_…`, from `keys list`).
        id: String,
        /// How long both keys work, e.g. `24h` (default) or `10m` (`keys revoke` ends a key at once).
        #[arg(long, default_value = "24h", value_parser = bangka_server::parse_duration)]
        overlap: time::Duration,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rotate the master key: write a new one, re-wrap every data key under it
    /// (card data is not re-encrypted), then remove the old key files.
    RotateMaster {
        /// Keep the old key files (e.g. until the new key is on every machine).
        #[arg(long)]
        keep_old: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rotate the fingerprint key (the key of card fingerprints and holder-data
    /// hashes), offline: stop every instance first. Recomputes every hash under
    /// a new key in one transaction, then removes the old key file.
    RotateFingerprint {
        /// Keep the old key file.
        #[arg(long)]
        keep_old: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print the secret webhook deliveries are signed with (`Bangka-Signature`,
    /// see docs/webhooks.md), made in the data directory on first use; give it
    /// to the wallet backend that receives `--notify-webhook`.
    WebhookSecret {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Rotate the webhook signing secret without a restart: the new secret is
    /// printed once (last line); every running instance signs with it within
    /// two seconds, and also with the old one until the overlap ends.
    WebhookRotate {
        /// How long deliveries carry the old secret's signature too, e.g. `24h` (default).
        #[arg(long, default_value = "24h", value_parser = bangka_server::parse_duration)]
        overlap: time::Duration,
        #[command(flatten)]
        store: StoreArgs,
    },
}

/// Ctrl-C or SIGTERM (what service managers send) starts a graceful shutdown.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
    tracing::info!("shutting down");
}

fn parse_region(s: &str) -> Result<bangka_core::bin::Region, String> {
    bangka_core::bin::Region::parse(s).ok_or_else(|| format!("{s:?} is not a region: mainland, hong_kong or macau"))
}

fn config(store: &StoreArgs, listen: SocketAddr, demo: bool, binding_limit: u32) -> Config {
    Config {
        database_url: store.database_url.clone(),
        database_schema: store.database_schema.clone(),
        card_key_store_url: store.card_key_store_url.clone(),
        demo,
        binding_limit,
        ..Config::new(store.data_dir.clone(), listen)
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    // `serve` installs its own (structured, to stdout); the other commands
    // log to stderr, leaving stdout to their answer.
    let _log = match &cli.command {
        Command::Serve(a) => telemetry::init(matches!(a.log_format, LogFormat::Json)),
        _ => telemetry::init_cli(),
    };
    match cli.command {
        Command::Receipt { command: ReceiptCommand::Verify { file, public_key, data_dir } } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
            let doc: serde_json::Value = match serde_json::from_str(&text) {
                Ok(d) => d,
                Err(_) => {
                    println!("receipt INVALID: {} is not JSON", file.display());
                    std::process::exit(1);
                }
            };
            let trusted = match (public_key, data_dir) {
                (Some(k), _) => Some(k),
                (None, Some(dir)) => Some(bangka_store::ReceiptSigner::load_or_create(&dir)?.public_key_hex()),
                (None, None) => None,
            };
            match bangka_store::verify_receipt(&doc, trusted.as_deref()) {
                Ok(key_id) => {
                    let r = &doc["receipt"];
                    println!(
                        "receipt valid: {} {} at {} (signed by key {key_id})",
                        r["operation"].as_str().unwrap_or("?"),
                        r["id"].as_str().unwrap_or("?"),
                        r["at"].as_str().unwrap_or("?")
                    );
                    if trusted.is_none() {
                        println!(
                            "note: the signing key was not compared with a trusted key; pass --public-key (GET /v1/receipts/public-key)"
                        );
                    }
                    Ok(())
                }
                Err(problem) => {
                    let why = match problem {
                        bangka_store::ReceiptProblem::Malformed(w) => format!("not a receipt document: {w}"),
                        bangka_store::ReceiptProblem::UntrustedKey { key_id } => format!("signed by key {key_id}, not the trusted key"),
                        bangka_store::ReceiptProblem::BadSignature => "the signature does not match: the receipt was changed".to_owned(),
                    };
                    println!("receipt INVALID: {why}");
                    std::process::exit(1);
                }
            }
        }
        Command::Audit { command: AuditCommand::Verify { store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, _) = open_store(&cfg).await?;
            let verdict = store.verify_audit().await?;
            store.close().await;
            match verdict.problem {
                None => {
                    println!("audit log intact: {} entries, head {}", verdict.entries, verdict.head);
                    Ok(())
                }
                Some((at, why)) => {
                    println!("audit log BROKEN at entry {at}: {why}");
                    std::process::exit(1);
                }
            }
        }
        Command::Simulator { command: SimulatorCommand::Serve { listen, latency, keys, faults, demo_population } } => {
            let keys =
                bangka_server::acp::Keys::load_or_create(&keys).with_context(|| format!("the protocol keys in {}", keys.display()))?;
            let faults: Vec<bangka_server::acp::simulator::Fault> = match faults {
                Some(path) => serde_json::from_slice(&std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?)
                    .with_context(|| format!("{}: a JSON list of faults", path.display()))?,
                None => Vec::new(),
            };
            let clock: Arc<dyn bangka_core::clock::Clock> = Arc::new(SystemClock);
            let sim = Arc::new(bangka_issuer::Simulator::new(clock).with_population(demo_population, bangka_server::POPULATION_SEED));
            let service = bangka_server::acp::simulator::SimService::new(sim, keys, latency.unsigned_abs(), faults);
            let listener = tokio::net::TcpListener::bind(listen).await.with_context(|| format!("listening on {listen}"))?;
            tracing::info!(addr = %listener.local_addr()?, "issuer simulator listening (POST /acp/v1/{{operation}}, POST /sim/faults)");
            axum::serve(listener, bangka_server::acp::simulator::router(service))
                .with_graceful_shutdown(async {
                    let _ = tokio::signal::ctrl_c().await;
                })
                .await?;
            Ok(())
        }
        Command::Serve(a) => {
            // Every setting travels in the one Config into Application::build.
            let live = a.mode == ServeMode::Live;
            let demo = !a.no_demo && !live;
            let mut cfg = config(&a.store, a.listen, demo, a.binding_limit);
            cfg.mode = a.mode.mode();
            cfg.simulator_on_purpose = a.issuer.is_some();
            cfg.allow_test_mode_on_network = a.allow_test_mode_on_network;
            if a.issuer.is_some() && a.issuer_url.is_some() {
                anyhow::bail!("--issuer simulator and --issuer-url name two banks: pass one");
            }
            cfg.demo_population = if demo { a.demo_population } else { 0 };
            cfg.notify_webhook = a.notify_webhook.clone();
            cfg.issuer_url = a.issuer_url.clone();
            cfg.issuer_keys = a.issuer_keys.clone();
            cfg.card_regions = a.card_regions.clone();
            cfg.cooling_off = a.cooling_off;
            cfg.refund_settles_after = a.refund_settles_after;
            cfg.session_ttl = a.session_ttl;
            cfg.limits = bangka_server::http::conn::Limits {
                header_timeout: a.header_timeout.unsigned_abs(),
                body_timeout: a.body_timeout.unsigned_abs(),
                max_connections: a.max_connections as usize,
            };
            if let Some(path) = &a.rate_limits {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                cfg.rate_limits = bangka_server::rate_limit::Limits::from_json(&text).map_err(anyhow::Error::msg)?;
            }
            if let Some(path) = &a.risk_rules {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
                cfg.risk_rules = Some(bangka_core::risk::RiskRules::from_json(&text).map_err(anyhow::Error::msg)?);
            }
            if a.demo_clock && !demo {
                anyhow::bail!("--demo-clock needs the demo endpoints (test mode, without --no-demo)");
            }
            let shifted = Arc::new(ShiftedClock::default());
            let clock: Arc<dyn bangka_core::clock::Clock> = if a.demo_clock { shifted.clone() } else { Arc::new(SystemClock) };
            let mut app = Application::build(cfg.clone(), clock).await?;
            if a.demo_clock {
                // The clock object itself, which the demo endpoint moves.
                app.state_mut().demo_clock = Some(shifted);
                tracing::warn!("demo clock on: POST /v1/demo/clock/advance moves this service's time forward");
            }
            let mode = cfg.mode.as_str();
            tracing::info!(addr = %app.local_addr(), data_dir = %cfg.data_dir.display(), mode, demo = cfg.demo, "bangka listening");
            if cfg.demo {
                tracing::info!("test mode: test cards at GET /v1/demo/cards, SMS inbox at GET /v1/demo/inbox/{{phone}}");
            }
            tracing::info!("create an API key with: bangka keys create --role wallet --mode {mode} --data-dir {}", cfg.data_dir.display());
            app.run_until(shutdown_signal()).await
        }
        Command::Fill { cards, from, store } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (s, vault) = open_store(&cfg).await?;
            let report = bangka_server::fill::fill(&s, &vault, from, cards, &cfg.data_dir).await?;
            s.close().await;
            println!("{report}");
            Ok(())
        }
        Command::Bench(a) => {
            let plan = bangka_server::bench::Plan {
                target: a.target,
                scenario: a.scenario,
                duration: a.duration.unsigned_abs(),
                concurrency: a.concurrency as usize,
                key: a.key,
                offset: a.offset,
            };
            let report = bangka_server::bench::run(plan).await?;
            println!("{}", serde_json::to_string(&report)?);
            Ok(())
        }
        Command::Keys { command: KeysCommand::RotateMaster { keep_old, store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, vault) = open_store(&cfg).await?;
            let report = bangka_server::keys::rotate_master(&store, &vault, keep_old).await?;
            store.close().await;
            println!(
                "master key v{} is current; {} data keys re-wrapped; old key files removed: {:?}",
                report.new_version, report.rewrapped, report.removed_versions
            );
            Ok(())
        }
        Command::Keys { command: KeysCommand::RotateFingerprint { keep_old, store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, vault) = open_store(&cfg).await?;
            let report = bangka_server::keys::rotate_fingerprint(&store, &vault, keep_old, time::OffsetDateTime::now_utc()).await?;
            store.close().await;
            let r = &report.rekeyed;
            println!(
                "fingerprint key v{} is current; re-keyed {} cards and {} accounts; {} pending binds will ask the bank again; {} open SMS codes expired; old key files removed: {:?}",
                report.new_version, r.cards, r.accounts, r.pending_binds, r.expired_challenges, report.removed_versions
            );
            Ok(())
        }
        Command::Keys { command: KeysCommand::WebhookSecret { store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, vault) = open_store(&cfg).await?;
            let signer = bangka_store::WebhookSigner::load_or_create(&cfg.data_dir)?;
            bangka_server::keys::refresh_webhook_secrets(&store, &vault, &signer, time::OffsetDateTime::now_utc()).await?;
            store.close().await;
            bangka_server::keys::print_once(&signer.current());
            Ok(())
        }
        Command::Keys { command: KeysCommand::WebhookRotate { overlap, store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, vault) = open_store(&cfg).await?;
            let signer = bangka_store::WebhookSigner::load_or_create(&cfg.data_dir)?;
            let now = time::OffsetDateTime::now_utc();
            bangka_server::keys::refresh_webhook_secrets(&store, &vault, &signer, now).await?;
            let new = bangka_server::keys::rotate_webhook_secret(&store, &vault, &signer, overlap, now).await?;
            store.close().await;
            tracing::info!(
                until = %bangka_store::rfc3339(now + overlap),
                "rotated: running instances sign with the new secret within two seconds, and with the old one too until the overlap ends; the new secret is shown only once, on stdout"
            );
            bangka_server::keys::print_once(&new);
            Ok(())
        }
        Command::Keys { command: KeysCommand::List { json, store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, _) = open_store(&cfg).await?;
            let keys = store.list_api_keys().await?;
            store.close().await;
            if json {
                println!("{}", serde_json::json!({ "keys": keys }));
                return Ok(());
            }
            let when = |t: Option<time::OffsetDateTime>| t.map_or_else(|| "-".to_owned(), bangka_store::rfc3339);
            println!(
                "{:<26} {:<20} {:<9} {:<5} {:<24} {:<24} {:<24} REVOKED",
                "ID", "NAME", "ROLE", "MODE", "CREATED", "LAST USED", "EXPIRES"
            );
            for k in keys {
                println!(
                    "{:<26} {:<20} {:<9} {:<5} {:<24} {:<24} {:<24} {}",
                    k.id,
                    k.name.as_deref().unwrap_or("-"),
                    k.role,
                    k.mode.as_str(),
                    bangka_store::rfc3339(k.created_at),
                    when(k.last_used_at),
                    when(k.expires_at),
                    when(k.revoked_at)
                );
            }
            Ok(())
        }
        Command::Keys { command: KeysCommand::Revoke { id, store } } => {
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, _) = open_store(&cfg).await?;
            let done = store.revoke_api_key(&id, bangka_store::Cause::api("cli"), time::OffsetDateTime::now_utc()).await?;
            store.close().await;
            match done.0 {
                bangka_store::KeyChange::Done => {
                    println!("{id} revoked: every running instance refuses it within a second");
                    Ok(())
                }
                bangka_store::KeyChange::Revoked => {
                    println!("{id} was revoked already");
                    Ok(())
                }
                bangka_store::KeyChange::NotFound => anyhow::bail!("no API key {id} (see bangka keys list)"),
            }
        }
        Command::Keys { command: KeysCommand::Rotate { id, overlap, store } } => {
            anyhow::ensure!(!overlap.is_negative(), "--overlap cannot be negative");
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, _) = open_store(&cfg).await?;
            let Some(old) = store.get_api_key(&id).await? else { anyhow::bail!("no API key {id} (see bangka keys list)") };
            let role = Role::parse(&old.role).context("unknown role")?;
            let key = generate_key(role, old.mode);
            let now = time::OffsetDateTime::now_utc();
            let rotated = store.rotate_api_key(&id, &hash_key(&key), overlap, bangka_store::Cause::api("cli"), now).await?;
            store.close().await;
            let new = rotated.map_err(|_| anyhow::anyhow!("{id} is revoked, expired or rotated already: create a new key instead"))?;
            tracing::info!(old = %id, new = %new.id, "rotated; the old key works until the overlap ends; the new key is shown only once, on stdout");
            println!("{key}");
            Ok(())
        }
        Command::Keys { command: KeysCommand::Create { role, mode, name, expires, merchant_id, store } } => {
            let role = Role::parse(&role).context("unknown role")?;
            let name =
                bangka_server::flows::api_keys::parse_key_name(name.as_deref()).map_err(|why| anyhow::anyhow!("--name takes {why}"))?;
            anyhow::ensure!(expires.is_none_or(|d| d.is_positive()), "--expires must be a positive duration, e.g. 90d");
            let merchant_id = match (role, merchant_id) {
                (_, None) => None,
                (Role::Merchant, Some(m)) => Some(
                    bangka_core::payment::MerchantId::parse(&m)
                        .map_err(|_| anyhow::anyhow!("--merchant-id must be 1-64 of A-Z a-z 0-9 _ - . :"))?,
                ),
                (_, Some(_)) => anyhow::bail!("--merchant-id is only for --role merchant"),
            };
            let cfg = config(&store, "127.0.0.1:0".parse().expect("literal address"), false, 5);
            let (store, _) = open_store(&cfg).await?;
            let mode = mode.mode();
            let key = generate_key(role, mode);
            let now = time::OffsetDateTime::now_utc();
            let new = bangka_store::NewApiKey {
                role: role.as_str(),
                mode,
                key_hash: &hash_key(&key),
                name: name.as_deref(),
                merchant_id: merchant_id.as_ref().map(|m| m.as_str()),
                expires_at: expires.map(|d| now + d),
                api_version: bangka_core::api_version::ApiVersion::CURRENT,
            };
            let created = store.create_api_key(new, bangka_store::Cause::api("cli"), now).await?;
            store.close().await;
            tracing::info!(role = role.as_str(), mode = mode.as_str(), key_id = %created.id, "created an API key; it is shown only once, on stdout");
            println!("{key}");
            Ok(())
        }
    }
}

fn parse_session_ttl(s: &str) -> Result<time::Duration, String> {
    let d = bangka_server::parse_duration(s)?;
    if d > bangka_core::session::MAX_SESSION_TTL {
        return Err(format!("{s:?}: a holder session lasts at most 12h"));
    }
    Ok(d)
}

/// A latency: `0s`, `50ms`, or any duration `bangka serve` takes.
fn parse_any_duration(s: &str) -> Result<time::Duration, String> {
    if let Some(ms) = s.strip_suffix("ms") {
        let n: u32 = ms.parse().map_err(|_| format!("{s:?}: expected e.g. 50ms or 1s"))?;
        return Ok(time::Duration::milliseconds(n.into()));
    }
    if s == "0s" || s == "0" {
        return Ok(time::Duration::ZERO);
    }
    bangka_server::parse_duration(s)
}
