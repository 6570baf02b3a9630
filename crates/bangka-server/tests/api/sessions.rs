//! Holder sessions, known devices, and the BOLA suite: every holder
//! endpoint, tried with another holder's session, is refused and tells
//! nothing, not even whether the account or the object exists.

use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{PAY_PASSWORD, Resp, TestApp};
use crate::on_both_backends;

impl TestApp {
    /// Opens a holder session for `account` on `device`: (token, session id).
    pub async fn session(&self, account: &str, device: &str) -> (String, String) {
        let r = self
            .post(
                &format!("/v1/accounts/{account}/sessions"),
                json!({ "device_id": device, "device_name": "测试手机", "client_ip": "203.0.113.9" }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.body);
        (r.body["token"].as_str().unwrap().to_owned(), r.body["session_id"].as_str().unwrap().to_owned())
    }
}

/// The error as it would be compared across requests: everything but the
/// request id.
fn comparable(r: &Resp) -> (u16, Value) {
    let mut e = r.body["error"].clone();
    if let Some(o) = e.as_object_mut() {
        o.remove("request_id");
    }
    (r.status, e)
}

async fn sessions_act_on_their_account_only_and_expire(app: TestApp) {
    let acc = app.verified_account().await;
    let other = app.verified_account().await;
    let phone = app.get(&format!("/v1/demo/inbox/{acc}")).await;
    assert_eq!(phone.status, 200);

    let r = app
        .post(
            &format!("/v1/accounts/{acc}/sessions"),
            json!({ "device_id": "dev-a1", "device_name": "小米 14", "client_ip": "203.0.113.9" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(r.body["token"].as_str().unwrap().starts_with("bk_hs_"));
    assert_eq!(r.body["device"]["new_device"], true);
    let expires =
        time::OffsetDateTime::parse(r.body["expires_at"].as_str().unwrap(), &time::format_description::well_known::Rfc3339).unwrap();
    let lasts = expires - crate::helpers::clock_now(&app.clock);
    assert!((lasts - time::Duration::minutes(15)).abs() < time::Duration::seconds(1), "short-lived: 15 minutes by default, not {lasts}");
    let token = r.body["token"].as_str().unwrap().to_owned();

    // The new device is announced on every channel, with the IP masked.
    let tag = r.body["device"]["device_tag"].as_str().unwrap().to_owned();
    let push = app.get(&format!("/v1/demo/inbox/{acc}")).await.body["messages"][0]["body"].as_str().unwrap().to_owned();
    assert!(push.contains("新设备") && push.contains(&tag) && push.contains("203.0.113.*"), "{push}");
    assert!(!push.contains("小米"), "the app's free text never goes into a message Bangka signs");
    assert!(!push.contains("203.0.113.9"), "the full IP stays out of messages");
    let account = app.get(&format!("/v1/accounts/{acc}")).await.body.clone();
    let sms_before = app.get(&format!("/v1/demo/inbox/{}", phone_of(&app, &acc).await)).await.body["messages"].as_array().unwrap().len();
    assert!(sms_before >= 1, "new-device notice by SMS too: {account}");

    // The session acts on its own account.
    let own = app.request_as(&token, Method::GET, &format!("/v1/accounts/{acc}"), None).await;
    assert_eq!(own.status, 200, "{}", own.body);
    let bindings = app.request_as(&token, Method::GET, &format!("/v1/accounts/{acc}/bindings"), None).await;
    assert_eq!(bindings.status, 200);

    // Another account is exactly as invisible as one that does not exist.
    let theirs = app.request_as(&token, Method::GET, &format!("/v1/accounts/{other}"), None).await;
    let nobody = app.request_as(&token, Method::GET, "/v1/accounts/acc_0000000000000000000000", None).await;
    theirs.assert_error("NOT_FOUND");
    assert_eq!(comparable(&theirs), comparable(&nobody));

    // Nothing outside the account's paths.
    let forbidden: [(Method, &str, Option<Value>); 6] = [
        (Method::POST, "/v1/accounts", Some(json!({ "phone_verified_by": "wallet", "phone": "13900001111" }))),
        (Method::POST, &format!("/v1/accounts/{acc}/sessions"), Some(json!({ "device_id": "dev-x" }))),
        (Method::POST, "/v1/payments", Some(json!({}))),
        (Method::GET, "/v1/ops/tickets", None),
        (Method::GET, "/v1/ops/maintenance-windows", None),
        (Method::POST, "/v1/mandates/mnd_x/charges", Some(json!({}))),
    ];
    for (m, path, body) in forbidden {
        let r = app.request_as(&token, m.clone(), path, body.as_ref()).await;
        assert!(r.status == 403 || r.status == 404, "{m} {path}: {} {}", r.status, r.body);
        if r.status == 403 {
            r.assert_error("FORBIDDEN");
        }
    }

    // A known device: no new-device notice, only a push/email sign-in alert.
    let r = app.post(&format!("/v1/accounts/{acc}/sessions"), json!({ "device_id": "dev-a1" })).await;
    assert_eq!(r.body["device"]["new_device"], false);
    let sms_after = app.get(&format!("/v1/demo/inbox/{}", phone_of(&app, &acc).await)).await.body["messages"].as_array().unwrap().len();
    assert_eq!(sms_after, sms_before, "a known device sends no SMS");
    let push = app.get(&format!("/v1/demo/inbox/{acc}")).await.body["messages"][0]["body"].as_str().unwrap().to_owned();
    assert!(push.contains("登录提醒"), "{push}");
    let devices = app.request_as(&token, Method::GET, &format!("/v1/accounts/{acc}/devices"), None).await;
    assert_eq!(devices.list().len(), 1);
    assert_eq!(devices.list()[0]["last_ip_masked"], "203.0.113.*");
    assert_eq!(devices.list()[0]["device_tag"], tag.as_str());

    // Bad device details change nothing and say which field.
    for (body, field) in [
        (json!({ "device_id": "has space" }), "device_id"),
        (json!({ "device_id": "d1", "device_name": "" }), "device_name"),
        (json!({ "device_id": "d1", "client_ip": "999.1.1.1" }), "client_ip"),
    ] {
        let r = app.post(&format!("/v1/accounts/{acc}/sessions"), body).await;
        assert_eq!(r.assert_error("DEVICE_INFO_FORMAT")["details"]["field"], field);
    }
    let devices = app.get(&format!("/v1/accounts/{acc}/devices")).await;
    assert_eq!(devices.list().len(), 1, "no device recorded by a refused request");

    // A repeat with the same Idempotency-Key opens no second session, and
    // the token is not kept for the replay: only its hash is ever stored.
    let keyed = app
        .request(
            Method::POST,
            &format!("/v1/accounts/{acc}/sessions"),
            Some(&json!({ "device_id": "dev-a1" })),
            &[("idempotency-key", "s-1")],
        )
        .await;
    assert_eq!(keyed.status, 201);
    let keyed_token = keyed.body["token"].as_str().unwrap().to_owned();
    let (stored,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM idempotency WHERE response LIKE '%bk_hs_%'").fetch_one(app.state.store.pool()).await.unwrap();
    assert_eq!(stored, 0, "no session token in the idempotency table");
    let again = app
        .request(
            Method::POST,
            &format!("/v1/accounts/{acc}/sessions"),
            Some(&json!({ "device_id": "dev-a1" })),
            &[("idempotency-key", "s-1")],
        )
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(again.body["session_id"], keyed.body["session_id"], "one session");
    assert!(again.body["token"].is_null(), "the token is shown once");
    let live = app.request_as(&keyed_token, Method::GET, &format!("/v1/accounts/{acc}"), None).await;
    assert_eq!(live.status, 200, "the first answer's token works");

    // Expiry: 15 minutes later the token is refused with its own code.
    app.clock.advance(time::Duration::minutes(15));
    app.request_as(&token, Method::GET, &format!("/v1/accounts/{acc}"), None).await.assert_error("SESSION_EXPIRED");
    // A made-up token is just unauthenticated.
    let fake = format!("bk_hs_{}", crate::helpers::hex(32));
    app.request_as(&fake, Method::GET, &format!("/v1/accounts/{acc}"), None).await.assert_error("UNAUTHENTICATED");

    // Sign-out, and "that was not me": removing a device ends its sessions.
    let (t1, s1) = app.session(&acc, "dev-a2").await;
    let r = app.request_as(&t1, Method::POST, &format!("/v1/accounts/{acc}/sessions/{s1}/end"), None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.request_as(&t1, Method::GET, &format!("/v1/accounts/{acc}"), None).await.assert_error("SESSION_EXPIRED");
    let (t2, _) = app.session(&acc, "dev-a3").await;
    let r = app.post(&format!("/v1/accounts/{acc}/devices/dev-a3/remove"), json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    app.request_as(&t2, Method::GET, &format!("/v1/accounts/{acc}"), None).await.assert_error("SESSION_EXPIRED");
    let (t3, _) = app.session(&acc, "dev-a3").await;
    assert_eq!(
        app.request_as(&t3, Method::GET, &format!("/v1/accounts/{acc}"), None).await.status,
        200,
        "a removed device can sign in again, announced anew"
    );
}
on_both_backends!(sessions_act_on_their_account_only_and_expire);

async fn phone_of(app: &TestApp, acc: &str) -> String {
    let id = app.state.store.get_account(acc).await.unwrap().unwrap();
    id.phone
}

/// What a victim's account looks like to its own wallet key: compared
/// before and after the attack.
async fn snapshot(app: &TestApp, acc: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for p in ["", "/bindings", "/mandates", "/receipts", "/settlements", "/devices", "/tickets", "/reviews"] {
        let r = app.get(&format!("/v1/accounts/{acc}{p}")).await;
        assert_eq!(r.status, 200, "{p}: {}", r.body);
        out.push(r.body);
    }
    out.push(json!(app.state.store.verify_audit().await.unwrap().entries));
    out
}

async fn every_holder_endpoint_refuses_another_holders_session(app: TestApp) {
    // The victim: a bound card, a mandate, an activation under way, a receipt, a session.
    let victim = app.payer("ok_debit").await;
    let v = victim.account.clone();
    let mandate = app
        .post(
            &format!("/v1/accounts/{v}/mandates"),
            json!({ "binding_id": victim.binding, "merchant_id": "m_bola", "kind": "subscription", "max_amount": 100, "currency": "CNY", "payment_password": PAY_PASSWORD }),
        )
        .await;
    assert_eq!(mandate.status, 201, "{}", mandate.body);
    let card = app.card("not_activated").await;
    let act = app
        .post(
            &format!("/v1/accounts/{v}/activations"),
            json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": card["phone"] }),
        )
        .await;
    assert_eq!(act.status, 202, "{}", act.body);
    let receipts = app.get(&format!("/v1/accounts/{v}/receipts")).await;
    let ticket = app.post(&format!("/v1/accounts/{v}/tickets"), json!({ "binding_id": victim.binding, "note": "victim's ticket" })).await;
    assert_eq!(ticket.status, 201, "{}", ticket.body);
    let review = app
        .post(
            &format!("/v1/accounts/{v}/reviews"),
            json!({ "kind": "info_change", "statement": "更名", "real_name": "李四", "id_number": "11010519880512123X",
                    "materials": [{ "type": "id_front", "ref": "wallet://f" }, { "type": "id_back", "ref": "wallet://b" }] }),
        )
        .await;
    assert_eq!(review.status, 201, "{}", review.body);
    let (victim_token, victim_session) = app.session(&v, "victim-phone").await;
    let ids = [
        ("{id}", v.clone()),
        ("{bid}", victim.binding.clone()),
        ("{mid}", mandate.body["id"].as_str().unwrap().to_owned()),
        ("{aid}", act.body["id"].as_str().unwrap().to_owned()),
        ("{rid}", receipts.list()[0]["receipt"]["id"].as_str().expect("the bind's receipt").to_owned()),
        ("{sid}", victim_session.clone()),
        ("{did}", "victim-phone".to_owned()),
        ("{number}", ticket.body["number"].as_str().unwrap().to_owned()),
        ("{rvid}", review.body["id"].as_str().unwrap().to_owned()),
    ];
    let fake = [
        ("{id}", "acc_0000000000000000000000".to_owned()),
        ("{bid}", "bnd_0000000000000000000000".to_owned()),
        ("{mid}", "mnd_0000000000000000000000".to_owned()),
        ("{aid}", "act_0000000000000000000000".to_owned()),
        ("{rid}", "rcp_0000000000000000000000".to_owned()),
        ("{sid}", "hs_0000000000000000000000".to_owned()),
        ("{did}", "no-such-device".to_owned()),
        ("{number}", "BK-20000101-000001".to_owned()),
        ("{rvid}", "rev_0000000000000000000000".to_owned()),
    ];

    // The attacker: a holder of their own account, with a session.
    let attacker = app.verified_account().await;
    app.bind_confirmed(&attacker, "ok_credit").await;
    let (token, _) = app.session(&attacker, "attacker-phone").await;

    let spec = app.get("/openapi.json").await.body;
    let mut operations = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        if !path.starts_with("/v1/accounts/{id}") {
            continue;
        }
        for method in ["get", "post"] {
            if item.get(method).is_some() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(operations.len() >= 46, "every holder endpoint is in the suite: {}", operations.len());

    let before = snapshot(&app, &v).await;
    let fill = |path: &str, with: &[(&str, String)]| with.iter().fold(path.to_owned(), |p, (k, x)| p.replace(k, x));
    let body = json!({ "otp": "123456", "payment_password": PAY_PASSWORD, "reason": "holder_request", "cancel_mandates": true, "delete": true, "amount": 1, "currency": "CNY", "merchant_id": "m_bola", "binding_id": victim.binding, "device_id": "x" });
    for (method, path) in &operations {
        let m: Method = method.parse().unwrap();
        let b = (m == Method::POST).then_some(&body);
        // 1. The victim's account in the path: the session's own account is not it.
        let attack = app.request_as(&token, m.clone(), &fill(path, &ids), b).await;
        let missing = app.request_as(&token, m.clone(), &fill(path, &fake), b).await;
        let is_open_session = path == "/v1/accounts/{id}/sessions";
        let expected = if is_open_session { "FORBIDDEN" } else { "NOT_FOUND" };
        attack.assert_error(expected);
        assert_eq!(comparable(&attack), comparable(&missing), "{method} {path}: the victim's account answers like no account");
        // 2. The attacker's own account in the path, the victim's objects in it.
        if path.contains("{bid}")
            || path.contains("{mid}")
            || path.contains("{aid}")
            || path.contains("{rid}")
            || path.contains("{sid}")
            || path.contains("{did}")
        {
            let mut own = ids.to_vec();
            own[0].1 = attacker.clone();
            let mut own_fake = fake.to_vec();
            own_fake[0].1 = attacker.clone();
            let attack = app.request_as(&token, m.clone(), &fill(path, &own), b).await;
            let missing = app.request_as(&token, m.clone(), &fill(path, &own_fake), b).await;
            assert!(attack.status >= 400, "{method} {path}: {} {}", attack.status, attack.body);
            assert_eq!(comparable(&attack), comparable(&missing), "{method} {path}: the victim's object answers like no object");
        }
    }
    assert_eq!(snapshot(&app, &v).await, before, "the victim's account is untouched");

    // Control: the victim's own session reaches every GET in the suite, so
    // the refusals above came from the ownership check, not a wrong path.
    for (method, path) in operations.iter().filter(|(m, _)| m == "GET") {
        let r = app.request_as(&victim_token, Method::GET, &fill(path, &ids), None).await;
        assert_eq!(r.status, 200, "{method} {path}: {}", r.body);
    }
}
on_both_backends!(every_holder_endpoint_refuses_another_holders_session);
