//! Maintenance windows, announcements and the service status (SPEC
//! "Announcement / maintenance window"; seed 003 "系统故障：平台维护或接口异常
//! — 查看系统公告").
//!
//! An admin schedules a window for one issuer or the whole platform, with a
//! message in both languages. While it runs, every request that needs that
//! issuer fails fast with `ISSUER_MAINTENANCE` and the window's end as
//! `retry_after`, before anything is written or sent to the bank. The
//! issuer's own announced windows (the connector's) count the same way.
//! `GET /v1/status` shows current and upcoming windows and each issuer's
//! bind failure rate over the last 15 minutes.

use bangka_core::bin::ISSUERS;
use bangka_core::catalog::FixBy;
use bangka_core::{ErrorCode, Failure};
use bangka_issuer::MaintenanceWindow;
use bangka_store::{Cause, MaintenanceRow, NewMaintenance};
use serde::{Deserialize, Serialize};
use serde_json::json;
use time::{Duration, OffsetDateTime};
use utoipa::ToSchema;

use crate::auth::{Duty, OpsAuth};
use crate::error::{ApiResult, malformed};
use crate::state::AppState;
use crate::views::Answer;
use crate::views::{Timestamp, rfc3339};

/// The period `/v1/status` reports bind outcomes over.
pub const STATUS_PERIOD: Duration = Duration::minutes(15);

/// The longest window an admin may schedule.
pub const MAX_WINDOW: Duration = Duration::days(7);

/// The announcement's text, in both languages.
#[derive(Deserialize, Serialize, ToSchema, Clone)]
pub struct Message {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

/// `POST /v1/ops/maintenance-windows`.
#[derive(Deserialize, ToSchema)]
pub struct WindowBody {
    /// An issuer id from `GET /v1/issuers`; absent for the whole platform.
    pub issuer: Option<String>,
    /// RFC 3339.
    #[schema(format = DateTime)]
    pub starts_at: String,
    /// RFC 3339, after `starts_at`, in the future, at most 7 days after the start.
    #[schema(format = DateTime)]
    pub ends_at: String,
    pub message: Message,
}

/// A maintenance window with its announcement.
#[derive(Serialize, ToSchema)]
pub struct WindowView {
    /// Ours (`mw_…`, cancellable), or `null` for a bank's own announced window.
    pub id: Option<String>,
    /// `null`: the whole platform.
    pub issuer: Option<String>,
    /// `bangka` (scheduled by an operator) or `issuer` (announced by the bank).
    pub source: &'static str,
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: crate::views::Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: crate::views::Timestamp,
    pub message: Message,
    /// Whether it is running now.
    pub active: bool,
}

impl WindowView {
    fn new(w: &MaintenanceRow, now: OffsetDateTime) -> Self {
        WindowView {
            id: Some(w.id.clone()),
            issuer: w.issuer.clone(),
            source: "bangka",
            starts_at: Timestamp(w.starts_at),
            ends_at: Timestamp(w.ends_at),
            message: Message { zh: w.message_zh.clone(), en: w.message_en.clone() },
            active: w.is_active(now),
        }
    }

    fn announced(w: &MaintenanceWindow, now: OffsetDateTime) -> Self {
        WindowView {
            id: None,
            issuer: Some(w.issuer.clone()),
            source: "issuer",
            starts_at: Timestamp(w.starts_at),
            ends_at: Timestamp(w.ends_at),
            message: Message { zh: w.message_zh.clone(), en: w.message_en.clone() },
            active: w.is_active(now),
        }
    }
}

/// The window that stops requests for an issuer right now: one of ours (for
/// that issuer, or the whole platform) or one the bank announced.
#[derive(Clone)]
pub enum Governing {
    Ours(MaintenanceRow),
    Theirs(MaintenanceWindow),
}

impl Governing {
    fn ends_at(&self) -> OffsetDateTime {
        match self {
            Governing::Ours(w) => w.ends_at,
            Governing::Theirs(w) => w.ends_at,
        }
    }

    /// The holder's answer: `PLATFORM_MAINTENANCE` for a platform-wide window
    /// (another bank's card would not help), else `ISSUER_MAINTENANCE`; with
    /// the window, its announcement and its end as `retry_after`.
    pub fn failure(&self, issuer: &str) -> Failure {
        let (code, scope, window_id, starts_at, ends_at, zh, en) = match self {
            Governing::Ours(w) => (
                if w.issuer.is_none() { ErrorCode::PlatformMaintenance } else { ErrorCode::IssuerMaintenance },
                if w.issuer.is_none() { "platform" } else { "issuer" },
                Some(w.id.as_str()),
                w.starts_at,
                w.ends_at,
                &w.message_zh,
                &w.message_en,
            ),
            Governing::Theirs(w) => (ErrorCode::IssuerMaintenance, "issuer", None, w.starts_at, w.ends_at, &w.message_zh, &w.message_en),
        };
        Failure::new(code).retry_at(ends_at).with_details(json!({
            "issuer": issuer,
            "scope": scope,
            "window_id": window_id,
            "starts_at": rfc3339(starts_at),
            "ends_at": rfc3339(ends_at),
            "announcement": { "zh-CN": zh, "en": en },
            "status": "/v1/status",
        }))
    }
}

fn parse_time(field: &str, s: &str) -> Result<OffsetDateTime, Failure> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).map_err(|_| malformed(field, "an RFC 3339 time"))
}

fn parse_message(field: &str, s: &str) -> Result<String, Failure> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > 500 {
        return Err(malformed(field, "1 to 500 characters"));
    }
    Ok(t.to_owned())
}

/// `POST /v1/ops/maintenance-windows` (admin).
pub async fn schedule(app: &AppState, who: &OpsAuth, body: WindowBody) -> ApiResult<Answer<WindowView>> {
    let p = who.require(Duty::Maintenance)?;
    let now = app.clock.now();
    let issuer = match body.issuer.as_deref() {
        None => None,
        Some(i) => Some(ISSUERS.iter().find(|x| x.id == i).ok_or_else(|| malformed("issuer", "not an issuer id from GET /v1/issuers"))?.id),
    };
    let starts_at = parse_time("starts_at", &body.starts_at)?;
    let ends_at = parse_time("ends_at", &body.ends_at)?;
    if ends_at <= starts_at || ends_at <= now {
        return Err(malformed("ends_at", "must be after starts_at and in the future").into());
    }
    if ends_at - starts_at > MAX_WINDOW {
        return Err(malformed("ends_at", "a window lasts at most 7 days").into());
    }
    let (zh, en) = (parse_message("message.zh-CN", &body.message.zh)?, parse_message("message.en", &body.message.en)?);
    let new = NewMaintenance { issuer, starts_at, ends_at, message_zh: &zh, message_en: &en, created_by: &p.key_id };
    let w = app.store.schedule_maintenance(&new, Cause::api(&p.key_id), now).await?;
    tracing::info!(window_id = %w.id, issuer = issuer.unwrap_or("platform"), "maintenance window scheduled");
    Ok(Answer::created(WindowView::new(&w, now)))
}

/// `POST /v1/ops/maintenance-windows/{id}/cancel` (admin).
pub async fn cancel(app: &AppState, who: &OpsAuth, id: &str) -> ApiResult<Answer<crate::views::CancelledView>> {
    let p = who.require(Duty::Maintenance)?;
    let now = app.clock.now();
    if !app.store.cancel_maintenance(id, Cause::api(&p.key_id), now).await? {
        return Err(ErrorCode::NotFound.into());
    }
    Ok(Answer::ok(crate::views::CancelledView { id: id.into(), cancelled: true }))
}

/// `GET /v1/ops/maintenance-windows` (any operator): current and upcoming.
pub async fn list(app: &AppState, who: &OpsAuth, page: &bangka_store::PageRequest) -> ApiResult<WindowList> {
    who.require(Duty::ReadOps)?;
    let now = app.clock.now();
    Ok(WindowList::new(app.store.maintenance_page(now, page).await?.map(|w| WindowView::new(&w, now))))
}

crate::views::list_view!(
    /// Current and upcoming maintenance windows, soonest first.
    WindowList of WindowView
);

/// The maintenance that stops requests needing `issuer`, if one runs now:
/// the service's own windows (that issuer's, or platform-wide) and the
/// issuer's announced ones; the latest end wins.
pub async fn maintenance_until(app: &AppState, issuer: &str, now: OffsetDateTime) -> ApiResult<Option<(OffsetDateTime, Governing)>> {
    let (ours, theirs) = (app.store.open_maintenance(now).await?, app.issuer.maintenance_windows().await);
    Ok(governing(&ours, &theirs, issuer, now).map(|g| (g.ends_at(), g)))
}

/// [`maintenance_until`] over windows already read.
fn governing(ours: &[MaintenanceRow], theirs: &[MaintenanceWindow], issuer: &str, now: OffsetDateTime) -> Option<Governing> {
    let ours = ours.iter().filter(|w| w.is_active(now) && w.covers(issuer)).max_by_key(|w| w.ends_at);
    let theirs = theirs.iter().filter(|w| w.issuer == issuer && w.is_active(now)).max_by_key(|w| w.ends_at);
    match (ours, theirs) {
        (Some(w), Some(t)) if t.ends_at > w.ends_at => Some(Governing::Theirs(t.clone())),
        (Some(w), _) => Some(Governing::Ours(w.clone())),
        (None, Some(t)) => Some(Governing::Theirs(t.clone())),
        (None, None) => None,
    }
}

/// Fails fast while `issuer` (or the platform) is in maintenance, with the
/// window's end and its announcement.
pub async fn check_issuer_open(app: &AppState, issuer: &str) -> ApiResult<()> {
    match maintenance_until(app, issuer, app.clock.now()).await? {
        Some((_, g)) => Err(g.failure(issuer).into()),
        None => Ok(()),
    }
}

/// Bind failures by whose side they were on (the catalog's `fix_by`).
#[derive(Serialize, ToSchema)]
pub struct FailuresBySide {
    pub bank: i64,
    pub holder_input: i64,
    pub wallet: i64,
}

/// One bank on the status page.
#[derive(Serialize, ToSchema)]
pub struct IssuerStatusView {
    pub id: String,
    pub name: Message,
    pub in_maintenance: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub maintenance_ends_at: Option<crate::views::Timestamp>,
    /// Bind attempts in the period.
    pub bind_attempts: i64,
    pub bind_failures: i64,
    /// `null` without attempts.
    pub bind_failure_rate: Option<f64>,
    pub bind_failures_by_side: FailuresBySide,
    /// The bank's own share: what "is it just me?" asks.
    pub bank_failure_rate: Option<f64>,
    /// The bank stopped answering: calls to it fail at once until then
    /// (RFC 3339; `null` while it answers).
    #[schema(value_type = Option<String>, format = DateTime)]
    pub circuit_open_until: Option<crate::views::Timestamp>,
}

#[derive(Serialize, ToSchema)]
pub struct MaintenanceNow {
    pub current: Vec<WindowView>,
    pub upcoming: Vec<WindowView>,
}

/// The public status page.
#[derive(Serialize, ToSchema)]
pub struct StatusView {
    pub now: String,
    pub period_minutes: i64,
    pub maintenance: MaintenanceNow,
    pub issuers: Vec<IssuerStatusView>,
}

/// `GET /v1/status` (public): windows, and per issuer whether it is in
/// maintenance and how binds went over the last 15 minutes.
pub async fn status(app: &AppState) -> ApiResult<Answer<StatusView>> {
    let now = app.clock.now();
    let windows = app.store.open_maintenance(now).await?;
    let announced = app.issuer.maintenance_windows().await;
    let stats = app.store.bind_stats_since(now - STATUS_PERIOD).await?;
    let circuits = app.bank().open_circuits();
    let mut issuers = Vec::new();
    for i in ISSUERS {
        let until = governing(&windows, &announced, i.id, now).map(|g| g.ends_at());
        let s = stats.iter().find(|s| s.issuer == i.id);
        let attempts = s.map_or(0, |s| s.attempts);
        // Whose failure it was, by the catalog's `fix_by`: the bank's side
        // (down, maintenance, the card's state there) is what "is it just
        // me?" asks about; a mistyped phone or CVV is the holder's.
        let (mut bank, mut holder, mut wallet) = (0, 0, 0);
        for (code, n) in s.map(|s| s.failures.as_slice()).unwrap_or_default() {
            match ErrorCode::parse(code).map(|c| c.entry().fix_by) {
                Some(FixBy::Bank) => bank += n,
                Some(FixBy::Holder) => holder += n,
                _ => wallet += n,
            }
        }
        let failures = bank + holder + wallet;
        let rate = |n: i64| (attempts > 0).then(|| (n as f64 / attempts as f64 * 1000.0).round() / 1000.0);
        issuers.push(IssuerStatusView {
            id: i.id.into(),
            name: Message { zh: i.name.zh.into(), en: i.name.en.into() },
            in_maintenance: until.is_some(),
            maintenance_ends_at: until.map(Timestamp),
            bind_attempts: attempts,
            bind_failures: failures,
            bind_failure_rate: rate(failures),
            bind_failures_by_side: FailuresBySide { bank, holder_input: holder, wallet },
            bank_failure_rate: rate(bank),
            circuit_open_until: circuits.iter().find(|(issuer, _)| issuer == i.id).map(|(_, until)| Timestamp(*until)),
        });
    }
    // Ours and the banks' own announced windows, soonest end first.
    let view = |active: bool| -> Vec<WindowView> {
        let ours = windows.iter().filter(|w| w.is_active(now) == active).map(|w| (w.ends_at, WindowView::new(w, now)));
        let theirs = announced.iter().filter(|w| w.is_active(now) == active).map(|w| (w.ends_at, WindowView::announced(w, now)));
        let mut all: Vec<(OffsetDateTime, WindowView)> = ours.chain(theirs).collect();
        all.sort_by_key(|(end, _)| *end);
        all.into_iter().map(|(_, v)| v).collect()
    };
    Ok(Answer::ok(StatusView {
        now: rfc3339(now),
        period_minutes: STATUS_PERIOD.whole_minutes(),
        maintenance: MaintenanceNow { current: view(true), upcoming: view(false) },
        issuers,
    }))
}
