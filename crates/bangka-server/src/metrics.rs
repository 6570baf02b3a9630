//! Prometheus metrics (`GET /metrics`, text exposition format 0.0.4).
//!
//! A small registry of labelled counters and one latency histogram, kept
//! in-process: the numbers are per instance, as Prometheus expects (it
//! sums across instances). Ticket counts by status are read from the
//! database at scrape time, so they are the same on every instance.
//! Labels carry codes, issuers, rules and route templates only, never an
//! id, a phone number or anything card-related.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, LazyLock, RwLock};

type Labels = Vec<(&'static str, String)>;
/// A counter's help text and its series, by label set.
type Counter = (&'static str, BTreeMap<Labels, Arc<AtomicU64>>);

/// Every request counts here, so there is no lock that requests take in
/// turn: a series is found under a shared read lock and moved with atomics;
/// only the first use of a label set takes the write lock, to add it.
#[derive(Default)]
struct Registry {
    counters: RwLock<BTreeMap<&'static str, Counter>>,
    latency: RwLock<BTreeMap<Labels, Arc<Histogram>>>,
}

/// Request latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Default)]
struct Histogram {
    buckets: [AtomicU64; BUCKETS.len()],
    count: AtomicU64,
    /// The sum of observations, in nanoseconds (atomics hold integers).
    sum_nanos: AtomicU64,
}

static REGISTRY: LazyLock<Registry> = LazyLock::new(Default::default);

fn inc(name: &'static str, help: &'static str, labels: Labels) {
    let found = REGISTRY.counters.read().expect("metrics lock").get(name).and_then(|(_, series)| series.get(&labels)).cloned();
    let counter = match found {
        Some(c) => c,
        None => REGISTRY
            .counters
            .write()
            .expect("metrics lock")
            .entry(name)
            .or_insert_with(|| (help, BTreeMap::new()))
            .1
            .entry(labels)
            .or_default()
            .clone(),
    };
    counter.fetch_add(1, Relaxed);
}

/// An attempt (bind, confirm, activation, payment …) and how it ended.
pub fn attempt(kind: &str, issuer: Option<&str>, code: Option<&str>) {
    let labels =
        vec![("kind", kind.to_owned()), ("issuer", issuer.unwrap_or("unknown").to_owned()), ("code", code.unwrap_or("ok").to_owned())];
    inc("bangka_attempts_total", "Attempts by kind, issuer and outcome (an error code, or ok).", labels);
}

/// What became of an SMS carrying a code: `delivered`, `expired` (dropped
/// undelivered) or `failed` (given up after every retry).
pub fn otp_code(outcome: &str) {
    inc(
        "bangka_otp_codes_total",
        "One-time codes (by SMS or voice call) by outcome (delivered, expired, failed).",
        vec![("outcome", outcome.to_owned())],
    );
}

/// A risk lock set by a rule.
pub fn risk_lock(scope: &str, rule: &str) {
    inc("bangka_risk_locks_total", "Risk locks set, by scope and rule.", vec![("scope", scope.to_owned()), ("rule", rule.to_owned())]);
}

pub fn ticket_opened(category: &str) {
    inc("bangka_tickets_opened_total", "Tickets opened, by category.", vec![("category", category.to_owned())]);
}

pub fn sla_breached(category: &str) {
    inc(
        "bangka_ticket_sla_breaches_total",
        "Tickets escalated because their answer was late, by category.",
        vec![("category", category.to_owned())],
    );
}

/// One HTTP request's latency, by route template, method and status.
pub fn request(route: &str, method: &str, status: u16, seconds: f64) {
    let labels = vec![("route", route.to_owned()), ("method", method.to_owned()), ("status", status.to_string())];
    let found = REGISTRY.latency.read().expect("metrics lock").get(&labels).cloned();
    let h = match found {
        Some(h) => h,
        None => REGISTRY.latency.write().expect("metrics lock").entry(labels).or_default().clone(),
    };
    for (i, b) in BUCKETS.iter().enumerate() {
        if seconds <= *b {
            h.buckets[i].fetch_add(1, Relaxed);
        }
    }
    h.count.fetch_add(1, Relaxed);
    h.sum_nanos.fetch_add((seconds * 1e9) as u64, Relaxed);
}

/// The process's resident memory (Linux: `VmRSS` in `/proc/self/status`).
fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

fn label_text(labels: &Labels, extra: Option<(&str, String)>) -> String {
    let mut parts: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
    if let Some((k, v)) = extra {
        parts.push(format!("{k}=\"{v}\""));
    }
    if parts.is_empty() { String::new() } else { format!("{{{}}}", parts.join(",")) }
}

/// The exposition text; `tickets` are (status, count) rows read at scrape time.
pub fn render(tickets: &[(String, i64)], overdue_tickets: i64) -> String {
    let mut out = String::new();
    for (name, (help, series)) in REGISTRY.counters.read().expect("metrics lock").iter() {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (labels, v) in series {
            let _ = writeln!(out, "{name}{} {}", label_text(labels, None), v.load(Relaxed));
        }
    }
    let _ = writeln!(out, "# HELP bangka_tickets Tickets by status.\n# TYPE bangka_tickets gauge");
    for status in ["open", "escalated", "resolved", "closed"] {
        let n = tickets.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        let _ = writeln!(out, "bangka_tickets{{status=\"{status}\"}} {n}");
    }
    let _ = writeln!(
        out,
        "# HELP bangka_tickets_overdue Tickets owed an answer past their deadline.\n# TYPE bangka_tickets_overdue gauge\nbangka_tickets_overdue {overdue_tickets}"
    );
    if let Some(rss) = resident_bytes() {
        let _ = writeln!(
            out,
            "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {rss}"
        );
    }
    let name = "bangka_http_request_duration_seconds";
    let _ = writeln!(out, "# HELP {name} Request latency by route template, method and status.\n# TYPE {name} histogram");
    for (labels, h) in REGISTRY.latency.read().expect("metrics lock").iter() {
        let count = h.count.load(Relaxed);
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(out, "{name}_bucket{} {}", label_text(labels, Some(("le", b.to_string()))), h.buckets[i].load(Relaxed));
        }
        let _ = writeln!(out, "{name}_bucket{} {count}", label_text(labels, Some(("le", "+Inf".into()))));
        let _ = writeln!(out, "{name}_sum{} {}", label_text(labels, None), h.sum_nanos.load(Relaxed) as f64 / 1e9);
        let _ = writeln!(out, "{name}_count{} {count}", label_text(labels, None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_gauges_and_histograms() {
        attempt("bind", Some("ICBC"), Some("FOUR_ELEMENTS_PHONE_MISMATCH"));
        attempt("bind", Some("ICBC"), Some("FOUR_ELEMENTS_PHONE_MISMATCH"));
        request("/v1/status", "GET", 200, 0.003);
        let text = render(&[("open".into(), 2)], 1);
        assert!(text.contains("bangka_attempts_total{kind=\"bind\",issuer=\"ICBC\",code=\"FOUR_ELEMENTS_PHONE_MISMATCH\"} 2"), "{text}");
        assert!(text.contains("bangka_tickets{status=\"open\"} 2"));
        assert!(text.contains("bangka_tickets{status=\"closed\"} 0"));
        assert!(text.contains("bangka_tickets_overdue 1"));
        assert!(
            text.contains("bangka_http_request_duration_seconds_bucket{route=\"/v1/status\",method=\"GET\",status=\"200\",le=\"0.005\"} 1")
        );
        assert!(
            text.contains(
                "bangka_http_request_duration_seconds_bucket{route=\"/v1/status\",method=\"GET\",status=\"200\",le=\"0.0025\"} 0"
            )
        );
        assert!(text.contains("# TYPE bangka_http_request_duration_seconds histogram"));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
