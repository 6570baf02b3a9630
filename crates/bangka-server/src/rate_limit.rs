//! Rate limits per API key, per account and per client address (issue 24),
//! on `governor`'s GCRA (a token bucket without a timer).
//!
//! - **Per key**: every request an API key (or a holder session) makes.
//! - **Per account**: every request on `/v1/accounts/{id}/…`, whoever makes it.
//! - **Per address**: every request an API key does not authenticate (holder
//!   sessions, by the client IP the wallet gave for the session; anonymous
//!   requests and failed authentications, by the connection's address). A
//!   wallet backend is one address for all its holders, so its key requests
//!   are bounded per key and per account instead.
//!
//! **Across instances**, each instance keeps its own buckets, each holding
//! `1/N` of the configured rate and burst, where `N` is the number of
//! instances that have beaten in the last [`INSTANCE_FRESH`] (the
//! `instances` table, beaten every two seconds by the background loop).
//! Behind a balancer that spreads requests evenly the instances together
//! allow the configured rate. A shared bucket in the database would be
//! exact, but it puts a write (and, on PostgreSQL, a lock on one row) in the
//! path of every request: the serial point issue 25 removes elsewhere. The
//! cost is that a caller whose requests all land on one instance gets `1/N`
//! of its rate; the limits are a ceiling against abuse, not a quota sold.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::RwLock;
use std::time::Duration;

use bangka_core::{ErrorCode, Failure};
use governor::clock::{Clock as _, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use serde::Deserialize;

/// How recently an instance must have beaten to count.
pub const INSTANCE_FRESH: time::Duration = time::Duration::seconds(10);

/// One limit: a steady rate and the burst allowed above it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub per_second: u32,
    pub burst: u32,
}

/// The limits `--rate-limits FILE` sets; a scope left out keeps its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    pub per_key: Rate,
    pub per_account: Rate,
    pub per_address: Rate,
}

impl Default for Limits {
    /// A wallet backend's key carries every holder's traffic: 10,000 a
    /// second (above what one instance serves). One account is one person,
    /// but a wallet backend may read it for many screens at once: 1,000 a
    /// second bounds a runaway loop or a scripted account without touching
    /// real use (or the read benchmarks, which read one account per virtual
    /// user). One address without a key (a holder's phone, or someone
    /// guessing keys or probing): 50 a second.
    fn default() -> Self {
        Limits {
            per_key: Rate { per_second: 10_000, burst: 20_000 },
            per_account: Rate { per_second: 1_000, burst: 2_000 },
            per_address: Rate { per_second: 50, burst: 100 },
        }
    }
}

impl Limits {
    /// Parses and checks a `--rate-limits` file's JSON.
    pub fn from_json(text: &str) -> Result<Limits, String> {
        let l: Limits = serde_json::from_str(text).map_err(|e| format!("rate limits: {e}"))?;
        for (name, r) in [("per_key", l.per_key), ("per_account", l.per_account), ("per_address", l.per_address)] {
            if r.per_second == 0 || r.burst == 0 || r.burst > 1_000_000 || r.per_second > 1_000_000 {
                return Err(format!("rate limits: {name} needs per_second and burst from 1 to 1000000"));
            }
        }
        Ok(l)
    }
}

/// What is limited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Key,
    Account,
    Address,
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Key => "key",
            Scope::Account => "account",
            Scope::Address => "address",
        }
    }
}

/// Where a caller stands in the bucket that let it through: for the
/// `RateLimit-*` headers (IETF draft names).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// The burst of the bucket (this instance's share).
    pub limit: u32,
    pub remaining: u32,
    /// Seconds until the bucket is full again.
    pub reset_secs: u64,
}

type Keyed = RateLimiter<String, DefaultKeyedStateStore<String>, DefaultClock, StateInformationMiddleware>;

struct Buckets {
    instances: u32,
    shares: [Rate; 3],
    key: Keyed,
    account: Keyed,
    address: Keyed,
}

/// The limiter an instance holds (in `AppState`).
pub struct Limiter {
    limits: Limits,
    buckets: RwLock<Buckets>,
}

/// This instance's share of a limit when `n` instances run.
fn share(r: Rate, n: u32) -> Rate {
    Rate { per_second: r.per_second.div_ceil(n).max(1), burst: r.burst.div_ceil(n).max(1) }
}

fn bucket(r: Rate) -> Keyed {
    let per_second = NonZeroU32::new(r.per_second).expect("checked at parse");
    let burst = NonZeroU32::new(r.burst).expect("checked at parse");
    RateLimiter::hashmap(Quota::per_second(per_second).allow_burst(burst)).with_middleware::<StateInformationMiddleware>()
}

impl Buckets {
    fn new(limits: Limits, instances: u32) -> Buckets {
        let shares = [limits.per_key, limits.per_account, limits.per_address].map(|r| share(r, instances));
        Buckets { instances, shares, key: bucket(shares[0]), account: bucket(shares[1]), address: bucket(shares[2]) }
    }
}

impl Limiter {
    pub fn new(limits: Limits) -> Limiter {
        Limiter { limits, buckets: RwLock::new(Buckets::new(limits, 1)) }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// How many instances share the limits now: the buckets are remade
    /// with each one's new share when it changes (what they held is
    /// forgotten, which errs toward letting requests through).
    pub fn set_instances(&self, n: u32) {
        let n = n.max(1);
        if self.buckets.read().expect("limiter lock").instances == n {
            return;
        }
        *self.buckets.write().expect("limiter lock") = Buckets::new(self.limits, n);
        tracing::info!(instances = n, "rate limits shared among instances");
    }

    /// Forgets callers that have been quiet long enough to be full again.
    pub fn tidy(&self) {
        let b = self.buckets.read().expect("limiter lock");
        for k in [&b.key, &b.account, &b.address] {
            k.retain_recent();
            k.shrink_to_fit();
        }
    }

    /// Takes one request from `who`'s bucket in `scope`: its standing, or
    /// `RATE_LIMITED` saying which limit and when to try again.
    pub fn check(&self, scope: Scope, who: &str, now: time::OffsetDateTime) -> Result<Standing, Failure> {
        let b = self.buckets.read().expect("limiter lock");
        let (limiter, rate) = match scope {
            Scope::Key => (&b.key, b.shares[0]),
            Scope::Account => (&b.account, b.shares[1]),
            Scope::Address => (&b.address, b.shares[2]),
        };
        match limiter.check_key(&who.to_owned()) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity();
                let used = rate.burst.saturating_sub(remaining);
                Ok(Standing { limit: rate.burst, remaining, reset_secs: u64::from(used).div_ceil(u64::from(rate.per_second)) })
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now()).max(Duration::from_millis(1));
                let ms = i64::try_from(wait.as_millis()).unwrap_or(i64::MAX).max(1);
                let details = serde_json::json!({
                    "limit": scope.as_str(),
                    "per_second": rate.per_second,
                    "burst": rate.burst,
                    "instances": b.instances,
                });
                Err(Failure::new(ErrorCode::RateLimited).with_details(details).retry_at(now + time::Duration::milliseconds(ms)))
            }
        }
    }
}

/// The bucket name of a client address (v4 and v6 alike, one per address).
pub fn address_key(ip: IpAddr) -> String {
    ip.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_then_refusals_with_when_to_try_again() {
        let limits =
            Limits { per_key: Rate { per_second: 1, burst: 3 }, per_account: Rate { per_second: 1, burst: 1 }, ..Limits::default() };
        let l = Limiter::new(limits);
        let now = time::OffsetDateTime::now_utc();
        let got: Vec<u32> = (0..3).map(|_| l.check(Scope::Key, "key_a", now).unwrap().remaining).collect();
        assert_eq!(got, [2, 1, 0]);
        let refused = l.check(Scope::Key, "key_a", now).unwrap_err();
        assert_eq!(refused.code, ErrorCode::RateLimited);
        assert!(refused.retry_after.is_some_and(|at| at > now && at <= now + time::Duration::seconds(1)));
        assert_eq!(refused.details.as_ref().unwrap()["limit"], "key");
        // Another key, and another scope, have buckets of their own.
        assert!(l.check(Scope::Key, "key_b", now).is_ok());
        assert!(l.check(Scope::Account, "key_a", now).is_ok());
    }

    #[test]
    fn instances_share_the_limits() {
        let limits = Limits { per_key: Rate { per_second: 10, burst: 10 }, ..Limits::default() };
        let l = Limiter::new(limits);
        l.set_instances(2);
        let now = time::OffsetDateTime::now_utc();
        let passed = (0..10).filter(|_| l.check(Scope::Key, "k", now).is_ok()).count();
        assert_eq!(passed, 5, "each of two instances lets half the burst through");
    }

    #[test]
    fn the_file_is_checked() {
        assert_eq!(Limits::from_json("{}").unwrap(), Limits::default());
        let l = Limits::from_json(r#"{"per_key": {"per_second": 2, "burst": 4}}"#).unwrap();
        assert_eq!((l.per_key, l.per_account), (Rate { per_second: 2, burst: 4 }, Limits::default().per_account));
        assert!(Limits::from_json(r#"{"per_key": {"per_second": 0, "burst": 4}}"#).is_err());
        assert!(Limits::from_json(r#"{"per_kee": {"per_second": 1, "burst": 4}}"#).is_err());
        assert!(Limits::from_json(r#"{"per_key": {"per_second": 1}}"#).is_err());
    }
}
