//! The black-box harness: `spawn_app(backend)` starts the real application on
//! a random port against a fresh SQLite file or a fresh PostgreSQL schema,
//! with a manual clock, and returns a client with one helper per operation.

use std::path::PathBuf;
use std::sync::Arc;

use bangka_core::clock::ManualClock;
use bangka_server::auth::{Role, generate_key, hash_key};
use bangka_server::{AppState, Application, Config};
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub key: String,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub data_dir: PathBuf,
    pub schema: Option<String>,
    /// The `Accept-Language` sent with every request that names none.
    pub lang: Option<&'static str>,
    /// Every answer `request` and `request_as` got, with its method and path.
    pub recorded: Arc<std::sync::Mutex<Vec<(String, Resp)>>>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

/// A response, reduced to what tests look at.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Resp {
    /// The items of a list's page (`{"data": [...], "has_more": bool}`).
    #[track_caller]
    pub fn list(&self) -> &Vec<Value> {
        assert!(self.body["has_more"].is_boolean(), "not a list page: {}", self.body);
        self.body["data"].as_array().unwrap_or_else(|| panic!("not a list page: {}", self.body))
    }

    pub fn code(&self) -> Option<&str> {
        self.body["error"]["code"].as_str()
    }

    /// Asserts a catalog error with this code, fully explained.
    #[track_caller]
    pub fn assert_error(&self, code: &str) -> &Value {
        let e = &self.body["error"];
        assert_eq!(e["code"], code, "expected {code}, got {} {}", self.status, self.body);
        assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()), "no message: {}", self.body);
        assert!(e["remediation"].as_array().is_some_and(|r| !r.is_empty()), "no remediation: {}", self.body);
        assert!(e["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "no request id: {}", self.body);
        assert!(e["category"].is_string() && e["fix_by"].is_string() && e["doc_url"].is_string());
        e
    }
}

pub fn pg_url() -> String {
    std::env::var("BANGKA_TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

fn postgres_required() -> bool {
    std::env::var("BANGKA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1")
}

async fn postgres_answers(url: &str) -> bool {
    sqlx::any::install_default_drivers();
    let attempt = sqlx::any::AnyPoolOptions::new().max_connections(1).acquire_timeout(std::time::Duration::from_secs(3)).connect(url);
    matches!(tokio::time::timeout(std::time::Duration::from_secs(4), attempt).await, Ok(Ok(_)))
}

pub struct Options {
    pub binding_limit: u32,
    /// How long a duplicate waits for the first request with its key.
    pub idempotency_wait: std::time::Duration,
    /// Deliver notifications to this URL instead of the demo inbox.
    pub notify_webhook: Option<String>,
    /// Serve `POST /v1/demo/clock/advance` (moving the test clock).
    pub demo_clock: bool,
    /// Risk rules (JSON, as `--risk-rules` reads them) instead of the defaults.
    pub risk_rules: Option<String>,
    /// Run the background jobs (off: the test runs them by hand).
    pub background_jobs: bool,
    /// Connection timeouts and cap, instead of the defaults.
    pub limits: Option<bangka_server::http::conn::Limits>,
    /// A bank over the network (`--issuer-url`) and its protocol keys.
    pub issuer: Option<(String, PathBuf)>,
    /// The server's mode (test by default, as `bangka serve`); the test's
    /// own keys are of this mode too. Live: no demo endpoints, the
    /// in-process simulator said on purpose.
    pub mode: bangka_core::mode::Mode,
    /// Rate limits (JSON, as `--rate-limits` reads them); none: so high
    /// that no test meets them (the suite's tests run many requests fast).
    pub rate_limits: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            binding_limit: 5,
            idempotency_wait: std::time::Duration::from_secs(20),
            notify_webhook: None,
            demo_clock: false,
            risk_rules: None,
            background_jobs: true,
            limits: None,
            issuer: None,
            mode: bangka_core::mode::Mode::Test,
            rate_limits: None,
        }
    }
}

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, Options::default()).await
}

/// `None` when the backend is PostgreSQL and no server answers (and
/// `BANGKA_REQUIRE_POSTGRES` is not 1): the test is skipped, loudly.
pub async fn spawn_app_with(backend: Backend, opts: Options) -> Option<TestApp> {
    let data_dir = std::env::temp_dir().join(format!("bangka-test-{}", hex(8)));
    let (database_url, schema) = match backend {
        Backend::Sqlite => (None, None),
        Backend::Postgres => {
            let url = pg_url();
            if !postgres_answers(&url).await {
                if postgres_required() {
                    panic!("PostgreSQL is required (BANGKA_REQUIRE_POSTGRES=1) but does not answer at {url}");
                }
                // Straight to the process's stderr (not eprintln!, which the
                // test harness captures), so the skip shows in `cargo test`.
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\n!!!!! SKIPPED PostgreSQL test {}: no server at {url}. Set BANGKA_REQUIRE_POSTGRES=1 to make this a failure. !!!!!",
                    std::thread::current().name().unwrap_or("?")
                );
                return None;
            }
            (Some(url), Some(format!("bk_api_{}", hex(8))))
        }
    };
    let config = Config {
        data_dir: data_dir.clone(),
        listen: "127.0.0.1:0".parse().unwrap(),
        database_url,
        database_schema: schema.clone(),
        card_key_store_url: None,
        notify_webhook: opts.notify_webhook.clone(),
        mode: opts.mode,
        simulator_on_purpose: opts.mode == bangka_core::mode::Mode::Live && opts.issuer.is_none(),
        demo: opts.mode == bangka_core::mode::Mode::Test,
        binding_limit: opts.binding_limit,
        demo_population: 1000,
        limits: opts.limits.unwrap_or_default(),
        risk_rules: opts.risk_rules.as_deref().map(|r| bangka_core::risk::RiskRules::from_json(r).expect("valid risk rules")),
        issuer_url: opts.issuer.as_ref().map(|(url, _)| url.clone()),
        issuer_keys: opts.issuer.as_ref().map(|(_, keys)| keys.clone()),
        issuer_timeout: std::time::Duration::from_secs(1),
        rate_limits: bangka_server::rate_limit::Limits::from_json(opts.rate_limits.as_deref().unwrap_or(
            r#"{"per_key": {"per_second": 1000000, "burst": 1000000}, "per_account": {"per_second": 1000000, "burst": 1000000}, "per_address": {"per_second": 1000000, "burst": 1000000}}"#,
        ))
        .expect("valid rate limits"),
        ..Config::new(data_dir.clone(), "127.0.0.1:0".parse().unwrap())
    };
    let clock = Arc::new(ManualClock::new(time::OffsetDateTime::now_utc()));
    let mut app = Application::build(config, clock.clone()).await.expect("app builds");
    app.state_mut().idempotency_wait = opts.idempotency_wait;
    app.set_background_jobs(opts.background_jobs);
    if opts.demo_clock {
        app.state_mut().demo_clock = Some(clock.clone());
    }
    let base = format!("http://{}", app.local_addr());
    let state = app.state().clone();
    let key = generate_key(Role::Wallet, opts.mode);
    state.store.insert_api_key("wallet", opts.mode, &hash_key(&key), None, clock_now(&clock)).await.unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    Some(TestApp {
        base,
        client: reqwest::Client::new(),
        key,
        state,
        clock,
        data_dir,
        schema,
        lang: None,
        recorded: Default::default(),
        shutdown: Some(tx),
    })
}

pub fn clock_now(c: &ManualClock) -> time::OffsetDateTime {
    use bangka_core::clock::Clock;
    c.now()
}

pub fn hex(n: usize) -> String {
    (0..n).map(|_| format!("{:02x}", rand::random::<u8>())).collect()
}

impl TestApp {
    /// Sends raw bytes on a new connection and reads the whole answer (for
    /// requests no HTTP client would send).
    pub async fn raw_request(&self, bytes: &[u8]) -> Resp {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(self.base.trim_start_matches("http://")).await.unwrap();
        s.write_all(bytes).await.unwrap();
        let mut out = Vec::new();
        let _ = tokio::time::timeout(std::time::Duration::from_secs(5), s.read_to_end(&mut out)).await;
        let text = String::from_utf8_lossy(&out).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or_else(|| panic!("an answer: {text:?}"));
        let mut headers = reqwest::header::HeaderMap::new();
        for line in head.lines().skip(1) {
            if let Some((k, v)) = line.split_once(':')
                && let (Ok(k), Ok(v)) = (reqwest::header::HeaderName::from_bytes(k.trim().as_bytes()), v.trim().parse())
            {
                headers.insert(k, v);
            }
        }
        Resp { status: head[9..12].parse().unwrap(), body: serde_json::from_str(body).unwrap_or(Value::Null), headers }
    }

    pub async fn request(&self, method: reqwest::Method, path: &str, body: Option<&Value>, headers: &[(&str, &str)]) -> Resp {
        self.request_with(&self.key, method, path, body, headers).await
    }

    pub async fn request_with(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let what = format!("{method} {path}");
        let mut rb = self.client.request(method, format!("{}{path}", self.base)).bearer_auth(key);
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        if let Some(lang) = self.lang.filter(|_| !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("accept-language"))) {
            rb = rb.header("accept-language", lang);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        let res = rb.send().await.expect("request sent");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        let r = Resp { status, body, headers };
        crate::error_docs::check(what.split(' ').next().unwrap_or(""), path, &r);
        self.recorded.lock().unwrap().push((what, r.clone()));
        r
    }

    /// Fault injection: every write to `table` fails from now on (a
    /// database trigger raises), as if the store died at that step, until
    /// [`TestApp::heal_writes`].
    pub async fn break_writes(&self, table: &str) {
        let pool = self.state.store.pool();
        if self.schema.is_none() {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                let t = format!(
                    "CREATE TRIGGER bk_fail_{table}_{op} BEFORE {op} ON {table} BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
                );
                sqlx::query(&t).execute(pool).await.unwrap();
            }
        } else {
            let f = "CREATE OR REPLACE FUNCTION bk_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected failure'; END $$";
            sqlx::raw_sql(f).execute(pool).await.unwrap();
            let t = format!(
                "CREATE TRIGGER bk_fail_{table} BEFORE INSERT OR UPDATE OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION bk_fail()"
            );
            sqlx::query(&t).execute(pool).await.unwrap();
        }
    }

    pub async fn heal_writes(&self, table: &str) {
        let pool = self.state.store.pool();
        if self.schema.is_none() {
            for op in ["INSERT", "UPDATE", "DELETE"] {
                sqlx::query(&format!("DROP TRIGGER bk_fail_{table}_{op}")).execute(pool).await.unwrap();
            }
        } else {
            sqlx::query(&format!("DROP TRIGGER bk_fail_{table} ON {table}")).execute(pool).await.unwrap();
        }
    }

    pub async fn post(&self, path: &str, body: Value) -> Resp {
        self.request(reqwest::Method::POST, path, Some(&body), &[]).await
    }

    pub async fn post_en(&self, path: &str, body: Value) -> Resp {
        self.request(reqwest::Method::POST, path, Some(&body), &[("accept-language", "en")]).await
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.request(reqwest::Method::GET, path, None, &[]).await
    }

    /// A wallet account with real-name verification done as the demo holder.
    pub async fn verified_account(&self) -> String {
        let phone = format!("137{:08}", rand::random::<u32>() % 100_000_000);
        let r = self.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone })).await;
        assert_eq!(r.status, 201, "{}", r.body);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let card = self.card("ok_debit").await;
        let r =
            self.post(&format!("/v1/accounts/{id}/kyc"), json!({ "real_name": card["holder_name"], "id_number": card["id_number"] })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        id
    }

    pub async fn cards(&self) -> Vec<Value> {
        self.get("/v1/demo/cards?limit=100").await.list().clone()
    }

    pub async fn card(&self, scenario: &str) -> Value {
        self.cards().await.into_iter().find(|c| c["scenario"] == scenario).unwrap_or_else(|| panic!("no test card {scenario}"))
    }

    /// The bind request body for a test card.
    pub fn bind_body(card: &Value) -> Value {
        let mut b = json!({
            "card_number": card["card_number"],
            "holder_name": card["holder_name"],
            "id_number": card["id_number"],
            "phone": card["phone"],
        });
        if !card["expiry"].is_null() {
            b["expiry"] = card["expiry"].clone();
            b["cvv"] = card["cvv"].clone();
        }
        b
    }

    pub async fn bind(&self, account: &str, card: &Value) -> Resp {
        self.post(&format!("/v1/accounts/{account}/bindings"), Self::bind_body(card)).await
    }

    /// The newest six-digit code in the demo inbox of `phone` (a notice
    /// delivered after the code, such as a login alert, is passed over).
    pub async fn latest_otp(&self, phone: &str) -> String {
        let r = self.get(&format!("/v1/demo/inbox/{phone}")).await;
        let messages = r.body["messages"].as_array().unwrap_or_else(|| panic!("no inbox for {phone}: {}", r.body));
        messages
            .iter()
            .filter_map(|m| m["body"].as_str())
            .find_map(|body| body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6))
            .unwrap_or_else(|| panic!("a six-digit code for {phone}: {}", r.body))
            .to_owned()
    }

    /// Binds a test card end to end and returns the active binding.
    pub async fn bind_confirmed(&self, account: &str, scenario: &str) -> Value {
        let card = self.card(scenario).await;
        let r = self.bind(account, &card).await;
        assert_eq!(r.status, 202, "{}", r.body);
        let bid = r.body["id"].as_str().unwrap().to_owned();
        let otp = self.latest_otp(card["phone"].as_str().unwrap()).await;
        let r = self.post(&format!("/v1/accounts/{account}/bindings/{bid}/confirm"), json!({ "otp": otp })).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.body["status"], "active");
        r.body
    }
}

/// The payment password every paying test account gets.
pub const PAY_PASSWORD: &str = "135790";

/// An account with an active binding ready to pay.
pub struct Payer {
    pub account: String,
    pub binding: String,
}

impl TestApp {
    /// A new API key with `role`.
    pub async fn key_for(&self, role: Role) -> String {
        let key = generate_key(role, bangka_core::mode::Mode::Test);
        self.state
            .store
            .insert_api_key(role.as_str(), bangka_core::mode::Mode::Test, &hash_key(&key), None, clock_now(&self.clock))
            .await
            .unwrap();
        key
    }

    /// A merchant key bound to `merchant_id` (what autopay charges need).
    pub async fn merchant_key(&self, merchant_id: &str) -> String {
        let key = generate_key(Role::Merchant, bangka_core::mode::Mode::Test);
        self.state
            .store
            .insert_api_key("merchant", bangka_core::mode::Mode::Test, &hash_key(&key), Some(merchant_id), clock_now(&self.clock))
            .await
            .unwrap();
        key
    }

    /// A request with another API key.
    pub async fn request_as(&self, key: &str, method: reqwest::Method, path: &str, body: Option<&Value>) -> Resp {
        self.request_with(key, method, path, body, &[]).await
    }

    pub async fn set_payment_password(&self, account: &str) {
        let r = self.post(&format!("/v1/accounts/{account}/payment-password"), json!({ "password": PAY_PASSWORD })).await;
        assert_eq!(r.status, 200, "{}", r.body);
    }

    /// A verified account with the test card `scenario` bound and a payment password set.
    pub async fn payer(&self, scenario: &str) -> Payer {
        let account = self.verified_account().await;
        let b = self.bind_confirmed(&account, scenario).await;
        self.set_payment_password(&account).await;
        Payer { account, binding: b["id"].as_str().unwrap().to_owned() }
    }

    /// Asks for a cryptogram confirmed with the payment password.
    pub async fn cryptogram(&self, p: &Payer, amount: i64, merchant: &str) -> Resp {
        let path = format!("/v1/accounts/{}/bindings/{}/cryptograms", p.account, p.binding);
        self.post(&path, json!({ "amount": amount, "currency": "CNY", "merchant_id": merchant, "payment_password": PAY_PASSWORD })).await
    }

    /// A cryptogram that must be issued: (token number, cryptogram).
    pub async fn cryptogram_ok(&self, p: &Payer, amount: i64, merchant: &str) -> (String, String) {
        let r = self.cryptogram(p, amount, merchant).await;
        assert_eq!(r.status, 201, "{}", r.body);
        (r.body["token_number"].as_str().unwrap().to_owned(), r.body["cryptogram"].as_str().unwrap().to_owned())
    }

    pub async fn pay(&self, token: &str, cryptogram: &str, amount: i64, merchant: &str) -> Resp {
        self.post(
            "/v1/payments",
            json!({ "token_number": token, "cryptogram": cryptogram, "amount": amount, "currency": "CNY", "merchant_id": merchant }),
        )
        .await
    }

    /// Sends the same POST `n` times at once (each on its own task).
    pub async fn post_concurrently(&self, path: &str, body: &Value, n: usize) -> Vec<Resp> {
        let mut tasks = Vec::new();
        for _ in 0..n {
            let rb = self.client.post(format!("{}{path}", self.base)).bearer_auth(&self.key).json(body);
            tasks.push(tokio::spawn(async move {
                let r = rb.send().await.expect("request sent");
                let status = r.status().as_u16();
                let headers = r.headers().clone();
                let text = r.text().await.unwrap();
                Resp { status, body: serde_json::from_str(&text).unwrap_or(Value::String(text)), headers }
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }

    /// Stops this server and starts a new one over the same data directory
    /// and database (a restart: the in-memory issuer simulator starts afresh).
    pub async fn restart(mut self) -> TestApp {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        let config = Config {
            data_dir: self.data_dir.clone(),
            listen: "127.0.0.1:0".parse().unwrap(),
            database_url: self.schema.as_ref().map(|_| pg_url()),
            database_schema: self.schema.clone(),
            card_key_store_url: None,
            notify_webhook: None,
            demo: true,
            binding_limit: 5,
            demo_population: 1000,
            ..Config::new(self.data_dir.clone(), "127.0.0.1:0".parse().unwrap())
        };
        let clock = self.clock.clone();
        let app = Application::build(config, clock.clone()).await.expect("app restarts");
        let base = format!("http://{}", app.local_addr());
        let state = app.state().clone();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(async move {
            app.run_until(async {
                let _ = rx.await;
            })
            .await
            .expect("server runs");
        });
        // The new app owns the directory and schema from now on.
        let schema = self.schema.take();
        let data_dir = std::mem::take(&mut self.data_dir);
        let key = std::mem::take(&mut self.key);
        TestApp {
            base,
            client: reqwest::Client::new(),
            key,
            state,
            clock,
            data_dir,
            schema,
            lang: self.lang,
            recorded: self.recorded.clone(),
            shutdown: Some(tx),
        }
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if !self.data_dir.as_os_str().is_empty() {
            let _ = std::fs::remove_dir_all(&self.data_dir);
        }
        if let Some(schema) = self.schema.take() {
            // Best effort: drop the per-test schema on a separate thread (we may
            // be inside a runtime that is shutting down).
            let url = pg_url();
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
                rt.block_on(async move {
                    if let Ok(pool) = sqlx::any::AnyPoolOptions::new().max_connections(1).connect(&url).await {
                        let _ = sqlx::query(&format!("DROP SCHEMA IF EXISTS {schema}, {schema}_card_keys CASCADE")).execute(&pool).await;
                    }
                });
            })
            .join();
        }
    }
}

/// Runs an async test body on both backends, as `name::sqlite` and
/// `name::postgres`.
#[macro_export]
macro_rules! on_both_backends {
    ($name:ident, $opts:expr) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Sqlite, $opts).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app_with($crate::helpers::Backend::Postgres, $opts).await {
                    super::$name(app).await
                }
            }
        }
    };
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Sqlite).await {
                    super::$name(app).await
                }
            }
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                if let Some(app) = $crate::helpers::spawn_app($crate::helpers::Backend::Postgres).await {
                    super::$name(app).await
                }
            }
        }
    };
}
