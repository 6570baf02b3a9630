//! What the web pages stand on (issue 18): the pages and their assets are
//! served with a strict policy, and the console's endpoints answer by role:
//! who am I, bind statistics over time, the audit log with its chain.
//! The pages themselves are driven in a real browser by .ci/browser-tests.

use bangka_server::auth::Role;
use reqwest::Method;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn page(app: &TestApp, path: &str) -> reqwest::Response {
    app.client.get(format!("{}{path}", app.base)).send().await.unwrap()
}

async fn the_pages_are_served_with_a_strict_policy(app: TestApp) {
    for path in ["/", "/ops", "/docs"] {
        let r = page(&app, path).await;
        assert_eq!(r.status(), 200, "{path}");
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
        let csp = r.headers()["content-security-policy"].to_str().unwrap().to_owned();
        assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-eval") && !csp.contains("http"), "{path}: {csp}");
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let html = r.text().await.unwrap();
        assert!(html.contains("data-demo=\"true\""), "{path}: demo mode is shown to the scripts");
    }
    let css = page(&app, "/assets/bangka.css").await;
    assert_eq!(css.status(), 200);
    assert!(css.headers()["content-type"].to_str().unwrap().starts_with("text/css"));
    assert_eq!(css.headers()["x-content-type-options"], "nosniff");
    // An asset that is not there is the catalog's NOT_FOUND, as JSON.
    let missing = app.get("/assets/nope.js").await;
    missing.assert_error("NOT_FOUND");
    // The pages are not API operations: the document does not list them.
    let doc = app.get("/openapi.json").await;
    assert!(doc.body["paths"].get("/").is_none() && doc.body["paths"].get("/ops").is_none());
}
on_both_backends!(the_pages_are_served_with_a_strict_policy);

async fn an_operator_key_says_what_it_may_do(app: TestApp) {
    let support = app.key_for(Role::Support).await;
    let me = app.request_as(&support, Method::GET, "/v1/ops/me", None).await;
    assert_eq!(me.status, 200, "{}", me.body);
    assert_eq!(me.body["role"], "support");
    let duties: Vec<&str> = me.body["duties"].as_array().unwrap().iter().map(|d| d.as_str().unwrap()).collect();
    assert!(duties.contains(&"unlock") && duties.contains(&"handle_tickets"), "{duties:?}");
    assert!(!duties.contains(&"detokenize") && !duties.contains(&"decide_reviews"), "{duties:?}");
    // What the console does not offer, the server refuses too.
    let refused = app
        .request_as(
            &support,
            Method::POST,
            "/v1/ops/detokenize",
            Some(&serde_json::json!({"token_number": "6200000000000000", "reason": "checking"})),
        )
        .await;
    refused.assert_error("FORBIDDEN");

    let admin = app.key_for(Role::Admin).await;
    let me = app.request_as(&admin, Method::GET, "/v1/ops/me", None).await;
    assert_eq!(
        me.body["duties"].as_array().unwrap().len(),
        bangka_server::auth::Duty::ALL.len(),
        "an admin carries every duty: {}",
        me.body
    );
    // A wallet key is not an operator.
    app.get("/v1/ops/me").await.assert_error("FORBIDDEN");
}
on_both_backends!(an_operator_key_says_what_it_may_do);

async fn the_console_charts_binds_over_time_and_shows_the_audit_chain(app: TestApp) {
    let account = app.verified_account().await;
    app.bind_confirmed(&account, "ok_debit").await;
    let mismatch = app.card("phone_mismatch").await;
    for _ in 0..3 {
        app.bind(&account, &mismatch).await.assert_error("FOUR_ELEMENTS_PHONE_MISMATCH");
    }
    let support = app.key_for(Role::Support).await;
    let stats = app.request_as(&support, Method::GET, "/v1/ops/stats/binds?hours=4", None).await;
    assert_eq!(stats.status, 200, "{}", stats.body);
    assert_eq!(stats.body["bucket_seconds"], 600);
    let series = stats.body["series"].as_array().unwrap();
    let attempts: i64 = series.iter().map(|b| b["attempts"].as_i64().unwrap()).sum();
    let succeeded: i64 = series.iter().map(|b| b["succeeded"].as_i64().unwrap()).sum();
    assert_eq!((attempts, succeeded), (4, 1), "{}", stats.body);
    assert_eq!(stats.body["failures_by_code"][0]["code"], "FOUR_ELEMENTS_PHONE_MISMATCH");
    assert_eq!(stats.body["failures_by_code"][0]["count"], 3);
    // Bad input is refused and explained.
    let bad = app.request_as(&support, Method::GET, "/v1/ops/stats/binds?hours=0", None).await;
    assert_eq!(bad.assert_error("MALFORMED_REQUEST")["details"]["field"], "hours");

    let audit = app.request_as(&support, Method::GET, "/v1/ops/audit?limit=5", None).await;
    assert_eq!(audit.status, 200, "{}", audit.body);
    assert_eq!(audit.body["chain"]["intact"], true, "{}", audit.body);
    let entries = audit.body["data"].as_array().unwrap();
    assert!(!entries.is_empty() && entries.len() <= 5);
    assert!(entries.windows(2).all(|w| w[0]["seq"].as_i64() > w[1]["seq"].as_i64()), "newest first");
    let bad = app.request_as(&support, Method::GET, "/v1/ops/audit?limit=501", None).await;
    assert_eq!(bad.assert_error("MALFORMED_REQUEST")["details"]["field"], "limit");

    // Filters (issue 29): one account's entries, one action, one actor;
    // a key's entries name it by its name and role.
    let admin = app.key_for(bangka_server::auth::Role::Admin).await;
    let made =
        app.request_as(&admin, Method::POST, "/v1/ops/keys", Some(&serde_json::json!({ "role": "support", "name": "night-desk" }))).await;
    let made_id = made.body["api_key"]["id"].as_str().unwrap().to_owned();
    let acc = app.verified_account().await;
    let mine = app.request_as(&support, Method::GET, &format!("/v1/ops/audit?subject={acc}&limit=100"), None).await;
    let entries = mine.list();
    assert!(!entries.is_empty() && entries.iter().all(|e| e["subject"] == acc.as_str()), "{}", mine.body);
    let creates = app.request_as(&support, Method::GET, "/v1/ops/audit?action=api_key.create&limit=100", None).await;
    let entry = creates.list().iter().find(|e| e["subject"] == made_id.as_str()).cloned().expect("the key's creation is audited");
    assert!(creates.list().iter().all(|e| e["action"] == "api_key.create"));
    let by_admin = app.request_as(&support, Method::GET, &format!("/v1/ops/audit?actor={}", entry["actor"].as_str().unwrap()), None).await;
    assert!(by_admin.list().iter().all(|e| e["actor"] == entry["actor"]) && !by_admin.list().is_empty());
    assert_eq!(entry["actor_role"], "admin", "{entry}");
    let bad = app.request_as(&support, Method::GET, "/v1/ops/audit?subject=", None).await;
    assert_eq!(bad.assert_error("MALFORMED_REQUEST")["details"]["field"], "subject");
}
on_both_backends!(the_console_charts_binds_over_time_and_shows_the_audit_chain);
