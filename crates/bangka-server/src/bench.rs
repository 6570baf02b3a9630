//! `bangka bench`: a load harness that drives a running server over real
//! HTTP the way wallets do, and ends with one JSON line of figures.
//!
//! Scenarios, each timed per operation (the requests of one operation are
//! timed as one):
//! - `bind`: a new wallet user binds a card: create the account, pass KYC,
//!   start the bind, read the code from the demo inbox, confirm (5
//!   requests). Every operation binds a distinct population card
//!   (`bangka serve --demo-population N`) with its own holder and phone.
//! - `pay`: a cryptogram for one payment (confirmed with the payment
//!   password), then the payment with it (2 requests): one authorization.
//! - `read`: `GET /v1/accounts/{id}/bindings/{bid}` (1 request).
//! - `unbind`: ask to unbind, read the code, confirm (3 requests); each
//!   operation unbinds another card.
//!
//! Set-up (binding the cards `pay`, `read` and `unbind` use) happens before
//! the clock starts. Each virtual user holds one keep-alive connection. The
//! key is `--key`, or a demo wallet key the server hands out.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::Mutex;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scenario {
    Bind,
    Pay,
    Read,
    Unbind,
}

impl Scenario {
    fn as_str(self) -> &'static str {
        match self {
            Scenario::Bind => "bind",
            Scenario::Pay => "pay",
            Scenario::Read => "read",
            Scenario::Unbind => "unbind",
        }
    }

    /// HTTP requests per operation.
    fn requests(self) -> u64 {
        match self {
            Scenario::Bind => 5,
            Scenario::Pay => 2,
            Scenario::Read => 1,
            Scenario::Unbind => 3,
        }
    }
}

/// What `bangka bench` is told.
#[derive(Debug, Clone)]
pub struct Plan {
    pub target: String,
    pub scenario: Scenario,
    pub duration: Duration,
    pub concurrency: usize,
    pub key: Option<String>,
    /// The first population card to use (default: a random place, so runs
    /// against one server do not meet each other's cards).
    pub offset: Option<u64>,
}

/// The figures: one JSON line.
#[derive(Debug, serde::Serialize)]
pub struct Report {
    pub scenario: &'static str,
    /// Operations completed (a bind is 5 requests, timed as one).
    pub requests: u64,
    /// Operations per second.
    pub rps: f64,
    pub p50_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
    /// Operations that failed (any answer other than the expected one).
    pub errors: u64,
    /// The server's resident memory after the run (from `/metrics`).
    pub server_rss_mb: Option<f64>,
    pub concurrency: usize,
    pub duration_s: f64,
    /// HTTP requests per second (operations × requests per operation).
    pub http_rps: f64,
}

/// One keep-alive connection.
struct Conn {
    send: SendRequest<Full<Bytes>>,
    authority: String,
    key: String,
}

impl Conn {
    async fn open(authority: &str, key: &str) -> anyhow::Result<Conn> {
        let stream = tokio::net::TcpStream::connect(authority).await.with_context(|| format!("connecting to {authority}"))?;
        stream.set_nodelay(true)?;
        let (send, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(Conn { send, authority: authority.to_owned(), key: key.to_owned() })
    }

    async fn call(&mut self, method: &str, path: &str, body: Option<&Value>) -> anyhow::Result<(u16, Value)> {
        if self.send.is_closed() {
            *self = Conn::open(&self.authority, &self.key).await?;
        }
        self.send.ready().await?;
        let mut req = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.authority)
            .header("authorization", format!("Bearer {}", self.key));
        let bytes = match body {
            Some(b) => {
                req = req.header("content-type", "application/json");
                Bytes::from(serde_json::to_vec(b)?)
            }
            None => Bytes::new(),
        };
        let res = self.send.send_request(req.body(Full::new(bytes))?).await?;
        let status = res.status().as_u16();
        let body = res.into_body().collect().await?.to_bytes();
        let v = if body.is_empty() { Value::Null } else { serde_json::from_slice(&body).unwrap_or(Value::Null) };
        Ok((status, v))
    }

    async fn expect(&mut self, method: &str, path: &str, body: Option<&Value>, status: u16) -> anyhow::Result<Value> {
        let (got, v) = self.call(method, path, body).await?;
        if got != status {
            bail!("{method} {path}: {got} {}", v["error"]["code"].as_str().unwrap_or(""));
        }
        Ok(v)
    }
}

/// Population cards, fetched a page at a time (outside the timing).
struct Cards {
    next: AtomicU64,
    end: u64,
    page: Mutex<Vec<Value>>,
}

impl Cards {
    async fn take(&self, conn: &mut Conn) -> anyhow::Result<Value> {
        let mut page = self.page.lock().await;
        if let Some(c) = page.pop() {
            return Ok(c);
        }
        // Wraps around at the end of the population.
        let offset = self.next.fetch_add(500, Ordering::SeqCst) % self.end;
        let limit = 500.min(self.end - offset);
        let v = conn.expect("GET", &format!("/v1/demo/population?offset={offset}&limit={limit}"), None, 200).await?;
        let mut cards: Vec<Value> = v["data"].as_array().cloned().unwrap_or_default();
        cards.reverse();
        let c = cards.pop().ok_or_else(|| anyhow!("empty population page"))?;
        *page = cards;
        Ok(c)
    }
}

const PASSWORD: &str = "135790";

/// A bound card, ready to pay, read or unbind.
struct Bound {
    account: String,
    binding: String,
    phone: String,
}

fn code_in(inbox: &Value) -> anyhow::Result<String> {
    let body = inbox["messages"][0]["body"].as_str().ok_or_else(|| anyhow!("no message in the inbox"))?;
    body.split(|c: char| !c.is_ascii_digit()).find(|w| w.len() == 6).map(str::to_owned).ok_or_else(|| anyhow!("no code in the message"))
}

/// A population card someone already signed up with (an earlier run
/// against the same server): not a failure, the harness takes another.
#[derive(Debug)]
struct Taken;

impl std::fmt::Display for Taken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("the card's holder already has an account")
    }
}

impl std::error::Error for Taken {}

/// One complete bind: what a new wallet user does.
async fn bind(conn: &mut Conn, card: &Value) -> anyhow::Result<Bound> {
    let phone = card["phone"].as_str().unwrap_or_default().to_owned();
    let (status, acc) = conn.call("POST", "/v1/accounts", Some(&json!({ "phone_verified_by": "wallet", "phone": phone }))).await?;
    if status == 409 && acc["error"]["code"] == "ACCOUNT_PHONE_TAKEN" {
        return Err(Taken.into());
    }
    if status != 201 {
        bail!("POST /v1/accounts: {status} {}", acc["error"]["code"].as_str().unwrap_or(""));
    }
    let account = acc["id"].as_str().ok_or_else(|| anyhow!("no account id"))?.to_owned();
    let kyc = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    conn.expect("POST", &format!("/v1/accounts/{account}/kyc"), Some(&kyc), 200).await?;
    let body =
        json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": phone });
    let b = conn.expect("POST", &format!("/v1/accounts/{account}/bindings"), Some(&body), 202).await?;
    let binding = b["id"].as_str().ok_or_else(|| anyhow!("no binding id"))?.to_owned();
    let code = code_in(&conn.expect("GET", &format!("/v1/demo/inbox/{phone}"), None, 200).await?)?;
    let done =
        conn.expect("POST", &format!("/v1/accounts/{account}/bindings/{binding}/confirm"), Some(&json!({ "otp": code })), 200).await?;
    if done["status"] != "active" {
        bail!("confirm answered {}", done["status"]);
    }
    Ok(Bound { account, binding, phone })
}

/// One authorization: a fresh cryptogram, then the payment with it.
async fn pay(conn: &mut Conn, b: &Bound) -> anyhow::Result<()> {
    let terms = json!({ "amount": 1, "currency": "CNY", "merchant_id": "m_bench", "payment_password": PASSWORD });
    let cg = conn.expect("POST", &format!("/v1/accounts/{}/bindings/{}/cryptograms", b.account, b.binding), Some(&terms), 201).await?;
    let body = json!({ "token_number": cg["token_number"], "cryptogram": cg["cryptogram"], "amount": 1, "currency": "CNY", "merchant_id": "m_bench" });
    conn.expect("POST", "/v1/payments", Some(&body), 201).await?;
    Ok(())
}

async fn unbind(conn: &mut Conn, b: &Bound) -> anyhow::Result<()> {
    let base = format!("/v1/accounts/{}/bindings/{}", b.account, b.binding);
    conn.expect("POST", &format!("{base}/unbind"), Some(&json!({})), 202).await?;
    let code = code_in(&conn.expect("GET", &format!("/v1/demo/inbox/{}", b.phone), None, 200).await?)?;
    conn.expect("POST", &format!("{base}/unbind/confirm"), Some(&json!({ "otp": code })), 202).await?;
    Ok(())
}

/// Binds cards for a virtual user before the clock starts.
async fn prepare(conn: &mut Conn, cards: &Cards, scenario: Scenario) -> anyhow::Result<Vec<Bound>> {
    let n = match scenario {
        Scenario::Bind => 0,
        Scenario::Pay | Scenario::Read => 1,
        // Each unbind uses up a card (a code per card per minute).
        Scenario::Unbind => 12,
    };
    let mut out = Vec::new();
    while out.len() < n {
        let card = cards.take(conn).await?;
        let b = match bind(conn, &card).await {
            Ok(b) => b,
            Err(e) if e.is::<Taken>() => continue,
            Err(e) => return Err(e),
        };
        if scenario == Scenario::Pay {
            conn.expect("POST", &format!("/v1/accounts/{}/payment-password", b.account), Some(&json!({ "password": PASSWORD })), 200)
                .await?;
        }
        out.push(b);
    }
    Ok(out)
}

/// Runs the plan and returns its figures.
pub async fn run(plan: Plan) -> anyhow::Result<Report> {
    let authority =
        plan.target.strip_prefix("http://").ok_or_else(|| anyhow!("--target must be an http:// URL"))?.trim_end_matches('/').to_owned();
    let key = match &plan.key {
        Some(k) => k.clone(),
        None => {
            let mut c = Conn::open(&authority, "none").await?;
            let v = c
                .expect("POST", "/v1/demo/keys", Some(&json!({ "role": "wallet" })), 201)
                .await
                .context("no --key given and the server hands out no demo key (is it in demo mode?)")?;
            v["key"].as_str().ok_or_else(|| anyhow!("no key in the answer"))?.to_owned()
        }
    };
    let mut probe = Conn::open(&authority, &key).await?;
    let total = population_size(&mut probe).await?;
    // A random place, so runs against one server rarely meet; a card whose
    // holder already signed up is skipped (see `Taken`).
    let offset = plan.offset.unwrap_or_else(|| rand::random::<u64>() % total);
    let cards = Arc::new(Cards { next: AtomicU64::new(offset), end: total, page: Mutex::new(Vec::new()) });

    tracing::info!(scenario = plan.scenario.as_str(), concurrency = plan.concurrency, duration = ?plan.duration, target = %plan.target, "bench starts");
    let mut users = Vec::new();
    for _ in 0..plan.concurrency {
        let mut conn = Conn::open(&authority, &key).await?;
        let bound = prepare(&mut conn, &cards, plan.scenario).await?;
        users.push((conn, bound));
    }
    let errors = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let deadline = started + plan.duration;
    let mut tasks = Vec::new();
    for (mut conn, mut bound) in users {
        let (cards, errors, scenario) = (cards.clone(), errors.clone(), plan.scenario);
        tasks.push(tokio::spawn(async move {
            let mut times: Vec<u32> = Vec::with_capacity(4096);
            while Instant::now() < deadline {
                let card = match scenario {
                    Scenario::Bind => match cards.take(&mut conn).await {
                        Ok(c) => Some(c),
                        Err(e) => {
                            tracing::warn!("a bench request failed: {e:#}");
                            break;
                        }
                    },
                    _ => None,
                };
                let t = Instant::now();
                let done = match scenario {
                    Scenario::Bind => bind(&mut conn, card.as_ref().expect("a card")).await.map(drop),
                    Scenario::Pay => pay(&mut conn, &bound[0]).await,
                    Scenario::Read => {
                        let b = &bound[0];
                        conn.expect("GET", &format!("/v1/accounts/{}/bindings/{}", b.account, b.binding), None, 200).await.map(drop)
                    }
                    Scenario::Unbind => match bound.pop() {
                        Some(b) => unbind(&mut conn, &b).await,
                        None => break,
                    },
                };
                match done {
                    Ok(()) => times.push(t.elapsed().as_micros().min(u128::from(u32::MAX)) as u32),
                    Err(e) if e.is::<Taken>() => {}
                    Err(e) => {
                        if errors.fetch_add(1, Ordering::Relaxed) < 5 {
                            tracing::warn!("a bench request failed: {e:#}");
                        }
                    }
                }
            }
            times
        }));
    }
    let mut times = Vec::new();
    for t in tasks {
        times.extend(t.await?);
    }
    let elapsed = started.elapsed().as_secs_f64();
    times.sort_unstable();
    let pct = |p: f64| times.get(((times.len() as f64 * p).ceil() as usize).saturating_sub(1)).map_or(0.0, |us| f64::from(*us) / 1000.0);
    let ops = times.len() as u64;
    // A fresh connection: the probe's may have idled out meanwhile.
    let server_rss_mb = match Conn::open(&authority, &key).await {
        Ok(mut c) => server_rss(&mut c).await.map(|b| (b / 1024.0 / 1024.0 * 10.0).round() / 10.0),
        Err(_) => None,
    };
    let round = |x: f64| (x * 100.0).round() / 100.0;
    Ok(Report {
        scenario: plan.scenario.as_str(),
        requests: ops,
        rps: round(ops as f64 / elapsed),
        p50_ms: round(pct(0.50)),
        p99_ms: round(pct(0.99)),
        max_ms: round(times.last().map_or(0.0, |us| f64::from(*us) / 1000.0)),
        errors: errors.load(Ordering::Relaxed) as u64,
        server_rss_mb,
        concurrency: plan.concurrency,
        duration_s: round(elapsed),
        http_rps: round((ops * plan.scenario.requests()) as f64 / elapsed),
    })
}

async fn population_size(conn: &mut Conn) -> anyhow::Result<u64> {
    conn.send.ready().await?;
    let req = hyper::Request::builder()
        .uri("/v1/demo/population?offset=0&limit=1")
        .header("host", &conn.authority)
        .header("authorization", format!("Bearer {}", conn.key))
        .body(Full::new(Bytes::new()))?;
    let res = conn.send.send_request(req).await?;
    let total = res.headers().get("x-total-count").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()).unwrap_or(0);
    let _ = res.into_body().collect().await;
    if total < 1000 {
        bail!("the server has {total} population cards: start it with --demo-population 1000000 (demo mode)");
    }
    Ok(total)
}

async fn server_rss(conn: &mut Conn) -> Option<f64> {
    conn.send.ready().await.ok()?;
    let req = hyper::Request::builder().uri("/metrics").header("host", &conn.authority).body(Full::new(Bytes::new())).ok()?;
    let res = conn.send.send_request(req).await.ok()?;
    let text = res.into_body().collect().await.ok()?.to_bytes();
    let text = String::from_utf8_lossy(&text);
    text.lines().find_map(|l| l.strip_prefix("process_resident_memory_bytes ")).and_then(|v| v.trim().parse().ok())
}
