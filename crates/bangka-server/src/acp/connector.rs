//! Bangka's side of the issuer protocol: an `IssuerConnector` over HTTP
//! (`bangka serve --issuer-url URL`).
//!
//! - Pooled connections (one `reqwest` client), a timeout on every call.
//! - A circuit breaker per issuer: after [`BREAKER_FAILURES`] calls in a row
//!   without an answer (a call and the questions about its lost answer
//!   count once), calls to that issuer fail at once with
//!   `ISSUER_UNAVAILABLE` and the time to retry, for [`BREAKER_OPEN`].
//! - Retries only where a repeat cannot act twice. A call that only asks
//!   (verify, status) is sent again once. A call that acts (authorize,
//!   capture, refund, void, activate, report lost) whose answer is lost or
//!   unreadable is never sent blind: its outcome is asked for with `query`
//!   by order id, with backoff. A `not_found` (the bank never got it) lets
//!   the same order go once more — the bank keys orders by id, so even a
//!   late first delivery cannot act twice. If the outcome is still unknown,
//!   the call fails with `ISSUER_UNAVAILABLE` and `details.outcome =
//!   "unknown"`, and the caller must treat the effect as possible (the
//!   payment flow releases any hold before it calls a payment failed; a
//!   void is tried even through an open circuit).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bangka_core::card::Pan;
use bangka_core::clock::Clock;
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::{CardHolder, IssuerConnector, MaintenanceWindow};

use super::{Answer, Keys, Operation, Outcome, Request, SIGNATURE_HEADER, SealedCard};

/// Calls in a row without an answer that open an issuer's breaker.
pub const BREAKER_FAILURES: u32 = 5;
/// How long an open breaker answers at once.
pub const BREAKER_OPEN: Duration = Duration::from_secs(15);
/// The pauses before each `query` of an order whose answer was lost.
const QUERY_BACKOFF: [Duration; 4] =
    [Duration::from_millis(50), Duration::from_millis(200), Duration::from_millis(500), Duration::from_millis(1000)];

/// How long the banks' announced maintenance windows are used before the
/// banks are asked again (every bind checks them: they are not asked per
/// request).
pub const MAINTENANCE_REFRESH: time::Duration = time::Duration::seconds(30);
/// The most a question about maintenance may take (a request waits on it
/// once per refresh at most).
const MAINTENANCE_TIMEOUT: Duration = Duration::from_secs(1);

/// The windows the banks announced, by the URL that announced them (an
/// issuer with a URL of its own, or `None`: the shared URL), and when they
/// were last asked.
#[derive(Default)]
struct Announced {
    asked_at: Option<time::OffsetDateTime>,
    by_url: HashMap<Option<String>, Vec<MaintenanceWindow>>,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
}

pub struct HttpIssuer {
    /// Where each issuer is reached, and where the others are (if anywhere).
    bases: HashMap<String, String>,
    default_base: Option<String>,
    client: reqwest::Client,
    keys: Keys,
    clock: Arc<dyn Clock>,
    breakers: Mutex<HashMap<String, Breaker>>,
    /// Which issuer a payment reference went to (for calls that name only it).
    references: Mutex<HashMap<String, String>>,
    announced: Mutex<Announced>,
}

/// Why a call got no usable answer.
enum Lost {
    /// Nothing came back (timeout, reset, 5xx): the bank may have acted.
    NoAnswer,
    /// An answer came back but is not the bank's (bad signature, not JSON).
    Unreadable,
    /// No URL reaches this issuer: nothing was sent.
    Unreachable,
}

impl HttpIssuer {
    /// `urls` is `URL` (every issuer there), or `ISSUER=URL` pairs with
    /// an optional bare `URL` for the rest, comma-separated:
    /// `ICBC=http://icbc.example,CCB=http://ccb.example,http://gateway.example`.
    pub fn new(urls: &str, keys: Keys, clock: Arc<dyn Clock>, timeout: Duration) -> anyhow::Result<HttpIssuer> {
        let mut bases = HashMap::new();
        let mut default_base = None;
        for part in urls.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            match part.split_once('=') {
                Some((issuer, url)) if !issuer.contains('/') => {
                    anyhow::ensure!(
                        url.starts_with("http://") || url.starts_with("https://"),
                        "--issuer-url {issuer}={url}: not an http(s) URL"
                    );
                    bases.insert(issuer.to_owned(), url.trim_end_matches('/').to_owned());
                }
                _ => {
                    anyhow::ensure!(part.starts_with("http://") || part.starts_with("https://"), "--issuer-url {part}: not an http(s) URL");
                    anyhow::ensure!(default_base.is_none(), "--issuer-url names more than one URL for every issuer");
                    default_base = Some(part.trim_end_matches('/').to_owned());
                }
            }
        }
        anyhow::ensure!(!bases.is_empty() || default_base.is_some(), "--issuer-url names no URL");
        let client =
            reqwest::Client::builder().timeout(timeout).connect_timeout(Duration::from_secs(2)).pool_max_idle_per_host(64).build()?;
        Ok(HttpIssuer {
            bases,
            default_base,
            client,
            keys,
            clock,
            breakers: Mutex::new(HashMap::new()),
            references: Mutex::new(HashMap::new()),
            announced: Mutex::new(Announced::default()),
        })
    }

    fn open_breakers(&self) -> Vec<(String, time::OffsetDateTime)> {
        let now = Instant::now();
        let breakers = self.breakers.lock().expect("breaker lock");
        breakers
            .iter()
            .filter_map(|(issuer, b)| b.open_until.filter(|u| *u > now).map(|u| (issuer.clone(), self.clock.now() + (u - now))))
            .collect()
    }

    fn breaker_refusal(&self, issuer: &str) -> Option<Failure> {
        let breakers = self.breakers.lock().expect("breaker lock");
        let until = breakers.get(issuer)?.open_until?;
        let now = Instant::now();
        (until > now).then(|| {
            Failure::new(ErrorCode::IssuerUnavailable)
                .retry_at(self.clock.now() + (until - now))
                .with_details(serde_json::json!({ "circuit": "open", "issuer": issuer }))
        })
    }

    fn record(&self, issuer: &str, answered: bool) {
        let mut breakers = self.breakers.lock().expect("breaker lock");
        let b = breakers.entry(issuer.to_owned()).or_default();
        if answered {
            *b = Breaker::default();
        } else {
            b.failures += 1;
            if b.failures >= BREAKER_FAILURES {
                b.open_until = Some(Instant::now() + BREAKER_OPEN);
                tracing::warn!(issuer, "issuer not answering: circuit open for {}s", BREAKER_OPEN.as_secs());
            }
        }
    }

    fn request(&self, operation: Operation, issuer: Option<&str>) -> Request {
        Request {
            version: "1".into(),
            operation,
            order_id: bangka_store::new_id("ord"),
            sent_at: crate::error::rfc3339(self.clock.now()),
            issuer: issuer.map(str::to_owned),
            reference: None,
            refund_id: None,
            amount_fen: None,
            stolen: None,
            query_order_id: None,
            sealed_card: None,
        }
    }

    fn base_for(&self, issuer: Option<&str>) -> Option<&str> {
        issuer.and_then(|i| self.bases.get(i)).or(self.default_base.as_ref()).map(String::as_str)
    }

    /// One POST of one order; the signed answer, or why there is none.
    async fn send(&self, req: &Request) -> Result<Answer, Lost> {
        let body = serde_json::to_vec(req).expect("serializable");
        let sig = self.keys.sign(req.issuer.as_deref(), &body);
        let Some(base) = self.base_for(req.issuer.as_deref()) else { return Err(Lost::Unreachable) };
        let url = format!("{base}/acp/v1/{}", req.operation.as_str());
        let res = self
            .client
            .post(url)
            .header(SIGNATURE_HEADER, sig)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(|_| Lost::NoAnswer)?;
        if res.status().is_server_error() {
            return Err(Lost::NoAnswer);
        }
        let sig = res.headers().get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok()).map(str::to_owned);
        let bytes = res.bytes().await.map_err(|_| Lost::NoAnswer)?;
        match sig {
            Some(sig) if self.keys.verify(&sig, &bytes) => {}
            _ => return Err(Lost::Unreadable),
        }
        let answer: Answer = serde_json::from_slice(&bytes).map_err(|_| Lost::Unreadable)?;
        let expected = req.query_order_id.as_deref().unwrap_or(&req.order_id);
        if answer.order_id != expected {
            return Err(Lost::Unreadable);
        }
        Ok(answer)
    }

    /// Sends an order and gets its definite outcome, as the module docs say.
    async fn call(&self, req: Request) -> Result<Answer, Failure> {
        let issuer = req.issuer.clone().unwrap_or_else(|| "*".into());
        // An open circuit answers at once, except for a void: releasing a
        // hold the bank may have made is always worth one try.
        if req.operation != Operation::Void
            && let Some(refusal) = self.breaker_refusal(&issuer)
        {
            return Err(refusal);
        }
        match self.send(&req).await {
            Ok(a) if a.outcome != Outcome::Unknown => {
                self.record(&issuer, true);
                return Ok(a);
            }
            Ok(_) => {}
            Err(Lost::NoAnswer) => self.record(&issuer, false),
            Err(Lost::Unreadable) => tracing::warn!(issuer, order_id = %req.order_id, "an answer that is not the bank's (signature)"),
            Err(Lost::Unreachable) => {
                tracing::error!(issuer, "no --issuer-url reaches this issuer");
                return Err(unknown(&issuer, &req, false));
            }
        }
        if !req.operation.acts() {
            // Asking again cannot act twice.
            return match self.send(&Request { order_id: bangka_store::new_id("ord"), ..req.clone() }).await {
                Ok(a) if a.outcome != Outcome::Unknown => {
                    self.record(&issuer, true);
                    Ok(a)
                }
                _ => Err(unknown(&issuer, &req, false)),
            };
        }
        // The bank may have acted: ask what became of the order.
        let mut resent = false;
        for pause in QUERY_BACKOFF {
            tokio::time::sleep(pause).await;
            let mut q = self.request(Operation::Query, req.issuer.as_deref());
            q.query_order_id = Some(req.order_id.clone());
            match self.send(&q).await {
                Ok(a) if matches!(a.outcome, Outcome::Success | Outcome::Failed) => {
                    self.record(&issuer, true);
                    tracing::info!(issuer, order_id = %req.order_id, outcome = ?a.outcome, "lost answer resolved by query");
                    return Ok(a);
                }
                Ok(a) if a.outcome == Outcome::NotFound && !resent => {
                    // Never received: the same order once more (keyed by id at the bank).
                    resent = true;
                    if let Ok(a) = self.send(&req).await
                        && a.outcome != Outcome::Unknown
                    {
                        self.record(&issuer, true);
                        return Ok(a);
                    }
                }
                // The call already counts once against the breaker: one
                // lost answer is one failure, however many questions follow.
                Ok(_) | Err(_) => {}
            }
        }
        Err(unknown(&issuer, &req, true))
    }

    /// Asks every bank URL for its maintenance windows, all at once: a URL
    /// of an issuer's own is asked about that issuer, the shared URL about
    /// every issuer it serves. Each URL that answered within
    /// [`MAINTENANCE_TIMEOUT`] gives its windows; the others give `None`.
    async fn ask_maintenance(&self) -> Vec<(Option<String>, Option<Vec<MaintenanceWindow>>)> {
        let mut asked: Vec<Option<String>> = self.bases.keys().cloned().map(Some).collect();
        if self.default_base.is_some() {
            asked.push(None);
        }
        let questions = asked.into_iter().map(|issuer| async move {
            let req = self.request(Operation::Maintenance, issuer.as_deref());
            let answer = tokio::time::timeout(MAINTENANCE_TIMEOUT, self.send(&req)).await.ok().and_then(Result::ok);
            let windows = answer.map(|a| {
                // A bank speaks for the issuers its URL serves, no others.
                let serves = |w: &&super::AnnouncedWindow| match &issuer {
                    Some(own) => &w.issuer == own,
                    None => !self.bases.contains_key(&w.issuer),
                };
                a.windows.unwrap_or_default().iter().filter(serves).filter_map(super::AnnouncedWindow::to_window).collect()
            });
            (issuer, windows)
        });
        futures_util::future::join_all(questions).await
    }

    fn card_request(&self, operation: Operation, pan: &Pan, card: SealedCard) -> Request {
        let issuer = bangka_core::bin::lookup(pan).ok().map(|f| f.issuer);
        let mut req = self.request(operation, issuer);
        req.sealed_card = Some(self.keys.seal(issuer, &card));
        req
    }

    fn reference_request(&self, operation: Operation, reference: &str) -> Request {
        let issuer = self.references.lock().expect("references lock").get(reference).cloned();
        let mut req = self.request(operation, issuer.as_deref());
        req.reference = Some(reference.to_owned());
        req
    }
}

fn only_pan(pan: &Pan) -> SealedCard {
    SealedCard { card_number: pan.expose().to_owned(), holder_name: None, id_number: None, phone: None, expiry: None, cvv: None }
}

fn holder(c: &CardHolder<'_>) -> SealedCard {
    SealedCard {
        card_number: c.pan.expose().to_owned(),
        holder_name: Some(c.holder_name.as_str().to_owned()),
        id_number: Some(c.id_number.expose().to_owned()),
        phone: Some(c.phone.as_str().to_owned()),
        expiry: c.expiry.map(|e| e.as_mm_yy()),
        cvv: c.cvv.map(|v| v.expose().to_owned()),
    }
}

/// `ISSUER_UNAVAILABLE`, saying whether the bank may have acted.
fn unknown(issuer: &str, req: &Request, may_have_acted: bool) -> Failure {
    let outcome = if may_have_acted { "unknown" } else { "not_processed" };
    tracing::warn!(issuer, order_id = %req.order_id, operation = req.operation.as_str(), outcome, "no definite answer from the issuer");
    Failure::new(ErrorCode::IssuerUnavailable).with_details(serde_json::json!({ "outcome": outcome, "order_id": req.order_id }))
}

/// A definite answer as the connector's result.
fn settle(a: Answer) -> Result<Answer, Failure> {
    match a.outcome {
        Outcome::Success => Ok(a),
        _ => Err(Failure::new(a.code.as_deref().and_then(ErrorCode::parse).unwrap_or(ErrorCode::IssuerUnavailable))),
    }
}

#[async_trait]
impl IssuerConnector for HttpIssuer {
    async fn verify_for_binding(&self, card: CardHolder<'_>) -> Result<(), Failure> {
        let req = self.card_request(Operation::Verify, card.pan, holder(&card));
        settle(self.call(req).await?).map(|_| ())
    }

    async fn verify_for_activation(&self, card: CardHolder<'_>) -> Result<(), Failure> {
        let req = self.card_request(Operation::VerifyActivation, card.pan, holder(&card));
        settle(self.call(req).await?).map(|_| ())
    }

    async fn activate(&self, pan: &Pan) -> Result<(), Failure> {
        let req = self.card_request(Operation::Activate, pan, only_pan(pan));
        settle(self.call(req).await?).map(|_| ())
    }

    async fn authorize(&self, pan: &Pan, amount_fen: i64, reference: &str) -> Result<String, Failure> {
        let mut req = self.card_request(Operation::Authorize, pan, only_pan(pan));
        if let Some(issuer) = &req.issuer {
            self.references.lock().expect("references lock").insert(reference.to_owned(), issuer.clone());
        }
        req.reference = Some(reference.to_owned());
        req.amount_fen = Some(amount_fen);
        let a = settle(self.call(req).await?)?;
        Ok(a.auth_code.unwrap_or_default())
    }

    async fn authorization(&self, reference: &str) -> Result<Option<String>, Failure> {
        let req = self.reference_request(Operation::Query, reference);
        let issuer = req.issuer.clone().unwrap_or_else(|| "*".into());
        match self.send(&req).await {
            Ok(a) if a.outcome == Outcome::Success => {
                self.record(&issuer, true);
                Ok(Some(a.auth_code.unwrap_or_default()))
            }
            Ok(a) if a.outcome == Outcome::NotFound => {
                self.record(&issuer, true);
                Ok(None)
            }
            Ok(_) => Err(Failure::new(ErrorCode::IssuerUnavailable)),
            Err(_) => {
                self.record(&issuer, false);
                Err(Failure::new(ErrorCode::IssuerUnavailable))
            }
        }
    }

    async fn void(&self, reference: &str) -> Result<(), Failure> {
        settle(self.call(self.reference_request(Operation::Void, reference)).await?).map(|_| ())
    }

    async fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), Failure> {
        let mut req = self.reference_request(Operation::Capture, reference);
        req.amount_fen = Some(amount_fen);
        settle(self.call(req).await?).map(|_| ())
    }

    async fn refund(&self, reference: &str, refund_id: &str, amount_fen: i64) -> Result<(), Failure> {
        let mut req = self.reference_request(Operation::Refund, reference);
        req.refund_id = Some(refund_id.to_owned());
        req.amount_fen = Some(amount_fen);
        settle(self.call(req).await?).map(|_| ())
    }

    async fn report_lost(&self, pan: &Pan, stolen: bool) -> Result<(), Failure> {
        let mut req = self.card_request(Operation::ReportLost, pan, only_pan(pan));
        req.stolen = Some(stolen);
        settle(self.call(req).await?).map(|_| ())
    }

    async fn card_status(&self, pan: &Pan) -> Result<(), Failure> {
        let req = self.card_request(Operation::Status, pan, only_pan(pan));
        settle(self.call(req).await?).map(|_| ())
    }

    /// The banks' windows, asked with `maintenance` at most every
    /// [`MAINTENANCE_REFRESH`]. The caller that finds them stale asks (every
    /// URL at once, waiting [`MAINTENANCE_TIMEOUT`] at most); the others use
    /// the windows known meanwhile; a bank that does not answer leaves its
    /// own windows as they were.
    async fn maintenance_windows(&self) -> Vec<MaintenanceWindow> {
        let now = self.clock.now();
        let all = |known: &Announced| known.by_url.values().flatten().cloned().collect::<Vec<_>>();
        {
            let mut known = self.announced.lock().expect("announced lock");
            if known.asked_at.is_some_and(|at| now - at < MAINTENANCE_REFRESH) {
                return all(&known);
            }
            known.asked_at = Some(now);
        }
        let answers = self.ask_maintenance().await;
        let mut known = self.announced.lock().expect("announced lock");
        for (url, windows) in answers {
            match windows {
                Some(windows) => {
                    known.by_url.insert(url, windows);
                }
                None => tracing::warn!(
                    issuer = url.as_deref().unwrap_or("*"),
                    "a bank did not say whether it is in maintenance; using what it said before"
                ),
            }
        }
        all(&known)
    }

    async fn ready(&self) -> bool {
        let mut bases: Vec<&String> = self.bases.values().chain(self.default_base.as_ref()).collect();
        bases.sort();
        bases.dedup();
        for base in bases {
            let probe = self.client.get(format!("{base}/healthz")).timeout(Duration::from_secs(1)).send().await;
            if !probe.is_ok_and(|r| r.status().is_success()) {
                return false;
            }
        }
        true
    }

    fn open_circuits(&self) -> Vec<(String, time::OffsetDateTime)> {
        self.open_breakers()
    }
}
