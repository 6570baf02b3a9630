//! Prometheus metrics (`GET /metrics`, OpenMetrics text), on the
//! `prometheus-client` crate: atomic counters in label families, so a
//! request never waits on another to count.
//!
//! The numbers are per instance, as Prometheus expects (it sums across
//! instances). Ticket counts by status are read from the database at scrape
//! time, so they are the same on every instance. Labels are typed sets of
//! codes, issuers, rules and route templates only, never an id, a phone
//! number or anything card-related.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

/// OpenMetrics, for a scraper that asks for it (Prometheus does).
pub const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
/// The classic Prometheus text format, for everyone else.
pub const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Request latency buckets, in seconds.
const BUCKETS: [f64; 11] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5];

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AttemptLabels {
    kind: String,
    issuer: String,
    /// An error code, or `ok`.
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LockLabels {
    scope: String,
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CategoryLabels {
    category: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TicketLabels {
    status: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    /// The route template (`/v1/accounts/{id}`), never the raw path.
    route: String,
    method: String,
    status: u16,
}

type LatencyFamily = Family<RequestLabels, Histogram, fn() -> Histogram>;

struct Metrics {
    registry: Registry,
    attempts: Family<AttemptLabels, Counter>,
    otp_codes: Family<OutcomeLabels, Counter>,
    risk_locks: Family<LockLabels, Counter>,
    tickets_opened: Family<CategoryLabels, Counter>,
    sla_breaches: Family<CategoryLabels, Counter>,
    tickets: Family<TicketLabels, Gauge>,
    tickets_overdue: Gauge,
    resident_memory: Gauge,
    latency: LatencyFamily,
    decided_again: Counter,
}

static METRICS: LazyLock<Metrics> = LazyLock::new(|| {
    let mut registry = Registry::default();
    let m = Metrics {
        registry: Registry::default(),
        attempts: Family::default(),
        otp_codes: Family::default(),
        risk_locks: Family::default(),
        tickets_opened: Family::default(),
        sla_breaches: Family::default(),
        tickets: Family::default(),
        tickets_overdue: Gauge::default(),
        resident_memory: Gauge::default(),
        latency: Family::new_with_constructor(|| Histogram::new(BUCKETS)),
        decided_again: Counter::default(),
    };
    // A counter's exposed name gets `_total` appended.
    registry.register("bangka_attempts", "Attempts by kind, issuer and outcome (an error code, or ok)", m.attempts.clone());
    registry.register(
        "bangka_otp_codes",
        "One-time codes (by SMS or voice call) by outcome (delivered, expired, failed)",
        m.otp_codes.clone(),
    );
    registry.register("bangka_risk_locks", "Risk locks set, by scope and rule", m.risk_locks.clone());
    registry.register("bangka_tickets_opened", "Tickets opened, by category", m.tickets_opened.clone());
    registry.register("bangka_ticket_sla_breaches", "Tickets escalated because their answer was late, by category", m.sla_breaches.clone());
    registry.register("bangka_tickets", "Tickets by status", m.tickets.clone());
    registry.register("bangka_tickets_overdue", "Tickets owed an answer past their deadline", m.tickets_overdue.clone());
    registry.register("process_resident_memory_bytes", "Resident memory size in bytes", m.resident_memory.clone());
    registry.register("bangka_http_request_duration_seconds", "Request latency by route template, method and status", m.latency.clone());
    registry.register(
        "bangka_write_sets_refused",
        "Requests whose write-set was refused because the state moved while they decided (they decided again)",
        m.decided_again.clone(),
    );
    Metrics { registry, ..m }
});

/// An attempt (bind, confirm, activation, payment …) and how it ended.
pub fn attempt(kind: &str, issuer: Option<&str>, code: Option<&str>) {
    let labels =
        AttemptLabels { kind: kind.to_owned(), issuer: issuer.unwrap_or("unknown").to_owned(), code: code.unwrap_or("ok").to_owned() };
    METRICS.attempts.get_or_create(&labels).inc();
}

/// What became of an SMS carrying a code: `delivered`, `expired` (dropped
/// undelivered) or `failed` (given up after every retry).
pub fn otp_code(outcome: &'static str) {
    METRICS.otp_codes.get_or_create(&OutcomeLabels { outcome }).inc();
}

/// A risk lock set by a rule.
pub fn risk_lock(scope: &str, rule: &str) {
    METRICS.risk_locks.get_or_create(&LockLabels { scope: scope.to_owned(), rule: rule.to_owned() }).inc();
}

pub fn ticket_opened(category: &str) {
    METRICS.tickets_opened.get_or_create(&CategoryLabels { category: category.to_owned() }).inc();
}

pub fn sla_breached(category: &str) {
    METRICS.sla_breaches.get_or_create(&CategoryLabels { category: category.to_owned() }).inc();
}

/// A request's write-set was refused as a conflict; it decides again.
pub fn decided_again() {
    METRICS.decided_again.inc();
}

/// One HTTP request's latency, by route template, method and status.
pub fn request(route: &str, method: &str, status: u16, seconds: f64) {
    let labels = RequestLabels { route: route.to_owned(), method: method.to_owned(), status };
    METRICS.latency.get_or_create(&labels).observe(seconds);
}

/// The process's resident memory (Linux: `VmRSS` in `/proc/self/status`).
fn resident_bytes() -> Option<i64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: i64 = status.lines().find_map(|l| l.strip_prefix("VmRSS:"))?.trim().trim_end_matches("kB").trim().parse().ok()?;
    Some(kb * 1024)
}

/// The exposition text; `tickets` are (status, count) rows read at scrape
/// time (a concurrent scrape sets the same values from the same database).
pub fn render(tickets: &[(String, i64)], overdue_tickets: i64) -> String {
    for status in ["open", "escalated", "resolved", "closed"] {
        let n = tickets.iter().find(|(s, _)| s == status).map_or(0, |(_, n)| *n);
        METRICS.tickets.get_or_create(&TicketLabels { status }).set(n);
    }
    METRICS.tickets_overdue.set(overdue_tickets);
    if let Some(rss) = resident_bytes() {
        METRICS.resident_memory.set(rss);
    }
    let mut out = String::new();
    encode(&mut out, &METRICS.registry).expect("writing to a String cannot fail");
    out
}

/// The same exposition in the classic text format (0.0.4): a counter's
/// HELP and TYPE name its `_total` samples, and there is no `# EOF`.
pub fn to_text_format(openmetrics: &str) -> String {
    let mut counters = std::collections::HashSet::new();
    for line in openmetrics.lines() {
        if let Some(name) = line.strip_prefix("# TYPE ").and_then(|l| l.strip_suffix(" counter")) {
            counters.insert(name.to_owned());
        }
    }
    let mut out = String::with_capacity(openmetrics.len());
    for line in openmetrics.lines().filter(|l| *l != "# EOF") {
        let renamed = ["# HELP ", "# TYPE "].iter().find_map(|p| {
            let rest = line.strip_prefix(p)?;
            let (name, tail) = rest.split_once(' ')?;
            counters.contains(name).then(|| format!("{p}{name}_total {tail}"))
        });
        out.push_str(renamed.as_deref().unwrap_or(line));
        out.push('\n');
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
        assert!(text.contains("process_resident_memory_bytes "));
        let bucket = |le: &str| {
            format!("bangka_http_request_duration_seconds_bucket{{le=\"{le}\",route=\"/v1/status\",method=\"GET\",status=\"200\"}}")
        };
        assert!(text.contains(&format!("{} 1", bucket("0.005"))), "{text}");
        assert!(text.contains(&format!("{} 0", bucket("0.0025"))), "{text}");
        assert!(text.contains("# TYPE bangka_http_request_duration_seconds histogram"));
        assert!(text.ends_with("# EOF\n"));
        let classic = to_text_format(&text);
        assert!(classic.contains("# TYPE bangka_attempts_total counter\n"), "{classic}");
        assert!(classic.contains("# HELP bangka_attempts_total Attempts"));
        assert!(classic.contains("# TYPE bangka_http_request_duration_seconds histogram"));
        assert!(!classic.contains("# EOF"));
    }

    #[test]
    fn label_values_are_escaped() {
        risk_lock("account", "a\"b\\c\nd");
        let text = render(&[], 0);
        assert!(text.contains(r#"rule="a\"b\\c\nd""#), "{text}");
    }
}
