//! The support path in the product (issue 6): maintenance windows with
//! their announcements, failing fast, and the public status page.

use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};
use time::Duration;

use crate::helpers::TestApp;
use crate::on_both_backends;

fn issuer<'a>(status: &'a Value, id: &str) -> &'a Value {
    status["issuers"].as_array().unwrap().iter().find(|i| i["id"] == id).unwrap()
}

/// An ICBC window makes ICBC binds and payments fail fast with the
/// window's end while other issuers go on; `/v1/status` shows the window
/// and the failure rate; cancelling it opens ICBC again.
async fn maintenance_windows_fail_fast_and_show_in_status(app: TestApp) {
    let admin = app.key_for(Role::Admin).await;
    let support = app.key_for(Role::Support).await;
    let payer = app.payer("ok_debit").await; // an ICBC card, bound before the window
    let now = bangka_core::clock::Clock::now(&*app.clock);
    let at = |d: Duration| bangka_store::rfc3339(now + d);
    let window = json!({ "issuer": "ICBC", "starts_at": at(Duration::minutes(-1)), "ends_at": at(Duration::hours(2)),
        "message": { "zh-CN": "工商银行系统升级，预计两小时。", "en": "ICBC is upgrading its systems for about two hours." } });
    let path = "/v1/ops/maintenance-windows";

    // Only an admin schedules; bad windows are refused and change nothing.
    app.request_as(&support, Method::POST, path, Some(&window)).await.assert_error("FORBIDDEN");
    app.post(path, window.clone()).await.assert_error("FORBIDDEN");
    for (field, value) in [
        ("issuer", json!("NOBANK")),
        ("ends_at", json!(at(Duration::minutes(-2)))),
        ("ends_at", json!(at(Duration::days(8)))),
        ("starts_at", json!("next tuesday")),
        ("message", json!({ "zh-CN": "", "en": "x" })),
    ] {
        let mut bad = window.clone();
        bad[field] = value;
        app.request_as(&admin, Method::POST, path, Some(&bad)).await.assert_error("MALFORMED_REQUEST");
    }
    let listed = app.request_as(&support, Method::GET, path, None).await;
    assert_eq!(listed.body.as_array().map(Vec::len), Some(0), "{}", listed.body);

    let r = app.request_as(&admin, Method::POST, path, Some(&window)).await;
    assert_eq!((r.status, r.body["active"].as_bool()), (201, Some(true)), "{}", r.body);
    let wid = r.body["id"].as_str().unwrap().to_owned();
    let upcoming = json!({ "starts_at": at(Duration::days(1)), "ends_at": at(Duration::days(1) + Duration::hours(1)),
        "message": { "zh-CN": "平台例行维护。", "en": "Routine platform maintenance." } });
    assert_eq!(app.request_as(&admin, Method::POST, path, Some(&upcoming)).await.status, 201);

    // ICBC fails fast with the window's end; CMB binds.
    let acc = app.verified_account().await;
    let e = app.bind(&acc, &app.card("ok_debit").await).await;
    assert_eq!(e.assert_error("ISSUER_MAINTENANCE")["retry_after"], at(Duration::hours(2)).as_str());
    assert_eq!(app.bind(&acc, &app.card("ok_credit").await).await.status, 202, "another issuer is not affected");
    let e = app.cryptogram(&payer, 100, "m_tea").await;
    let err = e.assert_error("ISSUER_MAINTENANCE");
    assert_eq!(err["details"]["announcement"]["en"], "ICBC is upgrading its systems for about two hours.");
    assert_eq!(err["retry_after"], at(Duration::hours(2)).as_str());

    // The status page: the window, the announcement, and ICBC's failures.
    let s = app.get("/v1/status").await.body;
    assert_eq!(s["maintenance"]["current"][0]["id"], wid.as_str(), "{s}");
    assert_eq!(s["maintenance"]["upcoming"][0]["issuer"], Value::Null, "a platform-wide window");
    let icbc = issuer(&s, "ICBC");
    assert_eq!(
        (icbc["in_maintenance"].as_bool(), icbc["maintenance_ends_at"].as_str()),
        (Some(true), Some(at(Duration::hours(2)).as_str()))
    );
    assert!(icbc["bind_failures"].as_i64().unwrap() >= 1 && icbc["bind_failure_rate"].as_f64().unwrap() > 0.0, "{icbc}");
    let cmb = issuer(&s, "CMB");
    assert_eq!((cmb["in_maintenance"].as_bool(), cmb["bind_failures"].as_i64()), (Some(false), Some(0)), "{cmb}");
    // 15 minutes later, those attempts are no longer counted.
    app.clock.advance(Duration::minutes(16));
    assert_eq!(issuer(&app.get("/v1/status").await.body, "ICBC")["bind_attempts"], 0);

    // Cancelled: ICBC works again; a second cancel finds nothing.
    let cancel = format!("{path}/{wid}/cancel");
    assert_eq!(app.request_as(&admin, Method::POST, &cancel, None).await.status, 200);
    app.request_as(&admin, Method::POST, &cancel, None).await.assert_error("NOT_FOUND");
    assert_eq!(app.cryptogram(&payer, 100, "m_tea").await.status, 201);
    let trail: Vec<String> = app.state.store.audit_entries(&wid).await.unwrap().into_iter().map(|e| e.action).collect();
    assert_eq!(trail, ["maintenance.schedule", "maintenance.cancel"]);

    // The platform-wide window, once it starts, stops every issuer.
    app.clock.advance(Duration::days(1));
    let e = app.bind(&app.verified_account().await, &app.card("ok_credit").await).await;
    assert!(e.assert_error("ISSUER_MAINTENANCE")["retry_after"].is_string());
}
on_both_backends!(maintenance_windows_fail_fast_and_show_in_status);
