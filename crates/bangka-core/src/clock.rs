//! Time, injectable: every time-dependent rule reads a [`Clock`] so tests can
//! advance time instead of sleeping.

use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};

use time::{Duration, OffsetDateTime};

pub trait Clock: Send + Sync {
    fn now(&self) -> OffsetDateTime;
}

/// A duration setting: a whole number and a unit (`s`, `m`, `h`, `d`), e.g.
/// `24h`; positive and at most a year.
pub fn parse_duration(s: &str) -> Result<time::Duration, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n.parse().map_err(|_| format!("{s:?}: expected a number and a unit (s, m, h, d), e.g. 24h"))?;
    let d = match unit {
        "s" => time::Duration::seconds(n),
        "m" => time::Duration::minutes(n),
        "h" => time::Duration::hours(n),
        "d" => time::Duration::days(n),
        _ => return Err(format!("{s:?}: the unit must be s, m, h or d, e.g. 24h")),
    };
    if n <= 0 || d > time::Duration::days(365) {
        return Err(format!("{s:?}: must be positive and at most a year"));
    }
    Ok(d)
}

/// The real clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
    }
}

/// A clock that moves only when told to (tests and demos).
#[derive(Debug)]
pub struct ManualClock(Mutex<OffsetDateTime>);

impl ManualClock {
    pub fn new(start: OffsetDateTime) -> Self {
        ManualClock(Mutex::new(start))
    }

    pub fn advance(&self, by: Duration) {
        *self.0.lock().expect("clock lock") += by;
    }
}

/// A clock a demo may move forward (`bangka serve --demo-clock`, and
/// `POST /v1/demo/clock/advance`), so a walk through "advance the clock
/// 24 h" can be done by hand.
pub trait Advance: Send + Sync {
    fn advance(&self, by: Duration);
    /// How far it has been moved past the real time (zero for a test clock).
    fn offset(&self) -> Duration;
}

impl Advance for ManualClock {
    fn advance(&self, by: Duration) {
        ManualClock::advance(self, by);
    }

    fn offset(&self) -> Duration {
        Duration::ZERO
    }
}

/// The real clock moved forward by an offset that only grows: time in a
/// demo never runs backwards.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_ms: AtomicI64,
}

impl Clock for ShiftedClock {
    fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Advance for ShiftedClock {
    fn advance(&self, by: Duration) {
        let ms = i64::try_from(by.whole_milliseconds()).unwrap_or(i64::MAX).max(0);
        self.offset_ms.fetch_add(ms, Ordering::SeqCst);
    }

    fn offset(&self) -> Duration {
        Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

impl Clock for ManualClock {
    fn now(&self) -> OffsetDateTime {
        *self.0.lock().expect("clock lock")
    }
}

/// A time as the API shows it: RFC 3339 in UTC, to the millisecond.
pub fn rfc3339(t: OffsetDateTime) -> String {
    let t = t.replace_nanosecond(t.nanosecond() / 1_000_000 * 1_000_000).unwrap_or(t);
    t.format(&time::format_description::well_known::Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shifted_clock_moves_forward_only() {
        let c = ShiftedClock::default();
        let before = OffsetDateTime::now_utc();
        c.advance(Duration::hours(24));
        assert!(c.now() >= before + Duration::hours(24));
        c.advance(Duration::hours(-5));
        assert_eq!(c.offset(), Duration::hours(24), "never backwards");
    }
}
