//! Named points where tests make the process "crash": the reliability
//! tests prove that a retry after a crash at any point of a request either
//! replays the answer or runs the operation for the first time.
//!
//! A point is armed for a route (a part of its path) and fires a number of
//! times. What it does:
//! - [`Crash::Error`]: the request stops there with an internal error, as
//!   if the process had died at that point (what was not committed is
//!   rolled back; the client gets no answer of the operation's).
//! - [`Crash::Abort`]: the process aborts (`std::process::abort`).
//! - [`Crash::Hang`]: the request stops there and never goes on, so a test
//!   can `kill -9` the real binary exactly at that point.
//! - [`Crash::Panic`]: the handler panics there (a bug), which the
//!   catch-panic middleware answers as `INTERNAL`.
//!
//! The last two are for the tests that kill the real binary, armed from the
//! environment, in debug builds only:
//! `BANGKA_FAILPOINTS="op.after_bank@/refund=hang"`.
//!
//! The points: `unit.before_commit` (the effect and the answer are written,
//! not committed), `unit.after_commit` (committed, not yet answered), and
//! for operations that call the bank after writing down their intent,
//! `<kind>.after_intent` (the intent is committed, the bank not yet asked)
//! and `<kind>.after_bank` (the bank answered, nothing of it recorded), with
//! kind `authorize`, `op` (capture, refund, void), `mandate`, `freeze` or
//! `activate`.

use std::sync::Mutex;

use crate::error::{ApiError, ApiResult};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crash {
    Error,
    Abort,
    Hang,
    Panic,
}

#[derive(Debug, Clone)]
struct Armed {
    point: String,
    route: String,
    crash: Crash,
    times: u32,
}

/// The armed points of one server.
#[derive(Debug, Default)]
pub struct Failpoints {
    armed: Mutex<Vec<Armed>>,
}

tokio::task_local! {
    /// The route of the request this task serves (its path), so a point
    /// deep in a flow knows whether it is armed for it.
    static ROUTE: String;
}

impl Failpoints {
    /// The points armed by `BANGKA_FAILPOINTS` (debug builds only):
    /// `point@route-part=error|abort|hang[*times]`, separated by `;`.
    pub fn from_env() -> Failpoints {
        let fp = Failpoints::default();
        #[cfg(debug_assertions)]
        if let Ok(spec) = std::env::var("BANGKA_FAILPOINTS") {
            for item in spec.split(';').filter(|s| !s.trim().is_empty()) {
                let Some((left, action)) = item.trim().split_once('=') else { continue };
                let (point, route) = left.split_once('@').unwrap_or((left, ""));
                let (action, times) = action.split_once('*').map_or((action, 1), |(a, n)| (a, n.parse().unwrap_or(1)));
                let crash = match action {
                    "abort" => Crash::Abort,
                    "hang" => Crash::Hang,
                    "panic" => Crash::Panic,
                    _ => Crash::Error,
                };
                fp.arm(point, route, crash, times);
                tracing::warn!(point, route, action, "failpoint armed");
            }
        }
        fp
    }

    /// Arms `point` for requests whose path contains `route`, `times` times.
    pub fn arm(&self, point: &str, route: &str, crash: Crash, times: u32) {
        let a = Armed { point: point.into(), route: route.into(), crash, times };
        self.armed.lock().expect("failpoints lock").push(a);
    }

    pub fn clear(&self) {
        self.armed.lock().expect("failpoints lock").clear();
    }

    /// Fires `point` if it is armed for the current request.
    pub async fn hit(&self, point: &str) -> ApiResult<()> {
        let crash = {
            let mut armed = self.armed.lock().expect("failpoints lock");
            if armed.is_empty() {
                return Ok(());
            }
            let route = ROUTE.try_with(Clone::clone).unwrap_or_default();
            let Some(a) = armed.iter_mut().find(|a| a.point == point && a.times > 0 && route.contains(&a.route)) else { return Ok(()) };
            a.times -= 1;
            a.crash
        };
        tracing::warn!(point, "failpoint fired");
        match crash {
            Crash::Abort => std::process::abort(),
            Crash::Hang => std::future::pending().await,
            Crash::Panic => panic!("failpoint {point}: simulated bug"),
            Crash::Error => Err(ApiError::Internal(anyhow::anyhow!("failpoint {point}: simulated crash"))),
        }
    }
}

/// Runs `f` as serving `route` (see [`Failpoints::hit`]).
pub async fn serving<F: std::future::Future>(route: String, f: F) -> F::Output {
    ROUTE.scope(route, f).await
}
