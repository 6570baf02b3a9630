//! Test and live, walled off (issue 24). The attack pass minted a key with
//! the unauthenticated `POST /v1/demo/keys` and read an account a real key
//! had opened. Now a demo key is a test key: on a server that also holds
//! live data, every live object answers it exactly as one that does not
//! exist, and a live key finds nothing of test mode. A live-mode server has
//! no demo endpoints and refuses test keys.

use bangka_core::mode::Mode;
use bangka_server::auth::{Role, generate_key, hash_key};
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, Options, Resp, TestApp, clock_now, spawn_app_with};
use crate::on_both_backends;
use crate::reviews::new_phone;

async fn key(app: &TestApp, role: Role, mode: Mode) -> String {
    let key = generate_key(role, mode);
    app.state.store.insert_api_key(role.as_str(), mode, &hash_key(&key), None, clock_now(&app.clock)).await.unwrap();
    key
}

/// The error as compared across requests: everything but the request id.
fn comparable(r: &Resp) -> (u16, Value) {
    let mut e = r.body["error"].clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("request_id");
    }
    (r.status, e)
}

async fn a_demo_key_finds_nothing_live_and_a_live_key_nothing_of_test_mode(app: TestApp) {
    // Live data, made with a live key as `bangka keys create` makes one.
    let live = key(&app, Role::Wallet, Mode::Live).await;
    let as_live = |m: Method, path: String, body: Option<Value>| {
        let (app, live) = (&app, &live);
        async move { app.request_as(live, m, &path, body.as_ref()).await }
    };
    let r = as_live(Method::POST, "/v1/accounts".into(), Some(json!({ "phone_verified_by": "wallet", "phone": new_phone() }))).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let acc = r.body["id"].as_str().unwrap().to_owned();
    assert!(acc.starts_with("acc_") && !acc.starts_with("acc_test_"), "a live account: {acc}");
    let card = app.card("ok_debit").await;
    let kyc = json!({ "real_name": card["holder_name"], "id_number": card["id_number"] });
    assert_eq!(as_live(Method::POST, format!("/v1/accounts/{acc}/kyc"), Some(kyc)).await.status, 200);
    let phone = card["phone"].as_str().unwrap();
    let inbox_before = app.get(&format!("/v1/demo/inbox/{phone}")).await.body["messages"].as_array().map_or(0, Vec::len);
    let bind = as_live(Method::POST, format!("/v1/accounts/{acc}/bindings"), Some(TestApp::bind_body(&card))).await;
    assert_eq!(bind.status, 202, "{}", bind.body);
    let inbox_after = app.get(&format!("/v1/demo/inbox/{phone}")).await.body["messages"].as_array().map_or(0, Vec::len);
    assert_eq!(inbox_after, inbox_before, "a live account's code never shows in the demo inbox");
    let na = app.card("not_activated").await;
    let act =
        json!({ "card_number": na["card_number"], "holder_name": na["holder_name"], "id_number": na["id_number"], "phone": na["phone"] });
    let act = as_live(Method::POST, format!("/v1/accounts/{acc}/activations"), Some(act)).await;
    assert_eq!(act.status, 202, "{}", act.body);
    let ticket = as_live(Method::POST, format!("/v1/accounts/{acc}/tickets"), Some(json!({ "note": "a live holder's ticket" }))).await;
    assert_eq!(ticket.status, 201, "{}", ticket.body);
    let review = json!({ "kind": "info_change", "statement": "更名", "real_name": "李四", "id_number": "11010519880512123X",
                         "materials": [{ "type": "id_front", "ref": "wallet://f" }, { "type": "id_back", "ref": "wallet://b" }] });
    let review = as_live(Method::POST, format!("/v1/accounts/{acc}/reviews"), Some(review)).await;
    assert_eq!(review.status, 201, "{}", review.body);
    let session = as_live(Method::POST, format!("/v1/accounts/{acc}/sessions"), Some(json!({ "device_id": "live-phone" }))).await;
    assert_eq!(session.status, 201, "{}", session.body);
    let ids = [
        ("{id}", acc.clone()),
        ("{bid}", bind.body["id"].as_str().unwrap().to_owned()),
        ("{aid}", act.body["id"].as_str().unwrap().to_owned()),
        ("{number}", ticket.body["number"].as_str().unwrap().to_owned()),
        ("{rvid}", review.body["id"].as_str().unwrap().to_owned()),
        ("{sid}", session.body["session_id"].as_str().unwrap().to_owned()),
        ("{did}", "live-phone".to_owned()),
        ("{mid}", "mnd_0000000000000000000000".to_owned()),
        ("{rid}", "rcp_0000000000000000000000".to_owned()),
    ];
    let fake_account = [("{id}", "acc_0000000000000000000000".to_owned())];
    let fill = |path: &str, with: &[(&str, String)]| with.iter().fold(path.to_owned(), |p, (k, x)| p.replace(k, x));

    // The attacker's key, as the demo hands it out.
    let minted = app.post("/v1/demo/keys", json!({})).await;
    assert_eq!(minted.status, 201, "{}", minted.body);
    let demo = minted.body["key"].as_str().unwrap().to_owned();
    assert!(demo.starts_with("bk_test_wallet_"), "a test key says so: {demo}");

    let spec = app.get("/openapi.json").await.body;
    let gets: Vec<String> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, i)| p.starts_with("/v1/accounts/{id}") && i.get("get").is_some())
        .map(|(p, _)| p.clone())
        .collect();
    assert!(gets.len() >= 17, "every account GET is walked: {}", gets.len());
    for path in &gets {
        let attack = app.request_as(&demo, Method::GET, &fill(path, &ids), None).await;
        attack.assert_error("NOT_FOUND");
        let missing = app.request_as(&demo, Method::GET, &fill(&fill(path, &fake_account), &ids), None).await;
        assert_eq!(comparable(&attack), comparable(&missing), "GET {path}: a live account answers like no account");
        // Control: the live key reads it (where every id in the path is real).
        if !path.contains("{mid}") && !path.contains("{rid}") {
            let own = app.request_as(&live, Method::GET, &fill(path, &ids), None).await;
            assert_eq!(own.status, 200, "GET {path} with the live key: {}", own.body);
        }
    }
    // Nor can it act there: open a session, bind, freeze.
    let session = app.request_as(&demo, Method::POST, &format!("/v1/accounts/{acc}/sessions"), Some(&json!({ "device_id": "x" }))).await;
    session.assert_error("NOT_FOUND");
    let b = app.request_as(&demo, Method::POST, &format!("/v1/accounts/{acc}/bindings"), Some(&TestApp::bind_body(&card))).await;
    b.assert_error("NOT_FOUND");
    let f = app.request_as(&demo, Method::POST, &format!("/v1/accounts/{acc}/freeze"), Some(&json!({ "reason": "holder_request" }))).await;
    f.assert_error("NOT_FOUND");
    assert_eq!(as_live(Method::GET, format!("/v1/accounts/{acc}"), None).await.body["status"], "active");

    // The other way round: test data is not there for a live key.
    let p = app.payer("ok_credit").await;
    as_live(Method::GET, format!("/v1/accounts/{}", p.account), None).await.assert_error("NOT_FOUND");
    let (token, cg) = app.cryptogram_ok(&p, 100, "m_modes").await;
    let body = json!({ "token_number": token, "cryptogram": cg, "amount": 100, "currency": "CNY", "merchant_id": "m_modes" });
    as_live(Method::POST, "/v1/payments".into(), Some(body.clone())).await.assert_error("TOKEN_NOT_FOUND");
    let paid = app.post("/v1/payments", body).await;
    assert_eq!(paid.status, 201, "the test key pays with its test token: {}", paid.body);
    let pid = paid.body["id"].as_str().unwrap();
    as_live(Method::GET, format!("/v1/payments/{pid}"), None).await.assert_error("NOT_FOUND");
}
on_both_backends!(a_demo_key_finds_nothing_live_and_a_live_key_nothing_of_test_mode);

/// A live-mode server: no demo endpoint exists, and no test key works.
#[tokio::test]
async fn a_live_server_has_no_demo_and_refuses_test_keys() {
    let app = spawn_app_with(Backend::Sqlite, Options { mode: Mode::Live, ..Options::default() }).await.unwrap();
    let spec = app.get("/openapi.json").await.body;
    let demo: Vec<(String, String)> = spec["paths"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(p, _)| p.starts_with("/v1/demo/"))
        .flat_map(|(p, i)| ["get", "post"].into_iter().filter(|m| i.get(*m).is_some()).map(|m| (m.to_uppercase(), p.clone())))
        .collect();
    assert!(demo.len() >= 5, "{demo:?}");
    for (method, path) in &demo {
        let path = path.replace("{recipient}", "13800138000").replace("{scenario}", "ok_debit");
        let r = app.request(method.parse().unwrap(), &path, Some(&json!({})), &[]).await;
        assert_eq!(r.status, 404, "{method} {path} on a live server: {}", r.body);
    }
    let test_key = key(&app, Role::Wallet, Mode::Test).await;
    let r = app
        .request_as(&test_key, Method::POST, "/v1/accounts", Some(&json!({ "phone_verified_by": "wallet", "phone": new_phone() })))
        .await;
    assert_eq!(r.assert_error("UNAUTHENTICATED")["details"]["reason"].as_str().map(|s| s.contains("live")), Some(true));
    // The live key works, and its accounts are live.
    let r = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": new_phone() })).await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(!r.body["id"].as_str().unwrap().starts_with("acc_test_"));
}
