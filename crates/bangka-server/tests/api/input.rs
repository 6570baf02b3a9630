//! Bad input gets a specific error and changes nothing.

use serde_json::{Value, json};

use crate::helpers::TestApp;
use crate::on_both_backends;

/// Row counts of every table that holds state (attempts are the diagnosis
/// log of tries and are expected to grow).
pub async fn state_counts(app: &TestApp) -> Vec<(String, i64)> {
    let mut out = Vec::new();
    for t in ["accounts", "bindings", "vault_cards", "challenges", "tokens", "activations", "outbox", "idempotency", "demo_inbox"] {
        let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {t}")).fetch_one(app.state.store.pool()).await.unwrap();
        out.push((t.to_owned(), n));
    }
    out
}

fn with(card: &Value, field: &str, value: Value) -> Value {
    let mut b = TestApp::bind_body(card);
    b[field] = value;
    b
}

async fn bad_bind_input_is_refused_and_changes_nothing(app: TestApp) {
    let acc = app.verified_account().await;
    let debit = app.card("ok_debit").await;
    let credit = app.card("ok_credit").await;
    let number = debit["card_number"].as_str().unwrap();
    let mut bad_luhn = number.to_owned();
    let last = bad_luhn.pop().unwrap();
    bad_luhn.push(if last == '9' { '0' } else { char::from(last as u8 + 1) });
    let mut bad_id = debit["id_number"].as_str().unwrap().to_owned();
    let check = bad_id.pop().unwrap();
    bad_id.push(if check == '0' { '1' } else { '0' });
    let cases: Vec<(&str, Value, &str)> = vec![
        ("non-digit card number", with(&debit, "card_number", json!("6222 02ab cd")), "CARD_NUMBER_FORMAT"),
        ("too long card number", with(&debit, "card_number", json!("1".repeat(400))), "CARD_NUMBER_FORMAT"),
        ("bad Luhn", with(&debit, "card_number", json!(bad_luhn)), "CARD_NUMBER_LUHN"),
        ("unknown BIN", with(&debit, "card_number", json!("4111111111111111")), "CARD_BIN_UNKNOWN"),
        ("bad ID check digit", with(&debit, "id_number", json!(bad_id)), "ID_NUMBER_CHECK_DIGIT"),
        ("short ID", with(&debit, "id_number", json!("1101")), "ID_NUMBER_FORMAT"),
        ("bad phone", with(&debit, "phone", json!("12345")), "PHONE_FORMAT"),
        ("over-long name", with(&debit, "holder_name", json!("张".repeat(500))), "HOLDER_NAME_FORMAT"),
        ("name with digits", with(&debit, "holder_name", json!("张3")), "HOLDER_NAME_FORMAT"),
        ("wrong type", with(&debit, "card_number", json!(12345)), "MALFORMED_REQUEST"),
        ("missing field", json!({ "card_number": number }), "MALFORMED_REQUEST"),
        (
            "credit without CVV",
            json!({ "card_number": credit["card_number"], "holder_name": credit["holder_name"], "id_number": credit["id_number"], "phone": credit["phone"] }),
            "CREDIT_CARD_DETAILS_REQUIRED",
        ),
        ("bad expiry", with(&credit, "expiry", json!("13/99")), "EXPIRY_FORMAT"),
        ("bad CVV", with(&credit, "cvv", json!("12x")), "CVV_FORMAT"),
        ("expired card", with(&credit, "expiry", json!("01/20")), "CARD_EXPIRED"),
    ];
    let before = state_counts(&app).await;
    let path = format!("/v1/accounts/{acc}/bindings");
    for (what, body, code) in cases {
        let r = app.post(&path, body).await;
        assert!((400..500).contains(&r.status), "{what}: status {}", r.status);
        r.assert_error(code);
        assert!(!r.body.to_string().contains(number), "{what}: error echoes the card number");
    }
    // Not JSON at all, and not declared as JSON.
    let raw = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let raw = app.client.post(format!("{}{path}", app.base)).bearer_auth(&app.key).body("card_number=1").send().await.unwrap();
    assert_eq!(raw.status(), 415);
    let big = app
        .client
        .post(format!("{}{path}", app.base))
        .bearer_auth(&app.key)
        .header("content-type", "application/json")
        .body(vec![b' '; 64 * 1024])
        .send()
        .await
        .unwrap();
    assert_eq!(big.status(), 413);
    assert_eq!(big.json::<Value>().await.unwrap()["error"]["code"], "PAYLOAD_TOO_LARGE");
    assert_eq!(state_counts(&app).await, before, "bad input changed stored state");
}
on_both_backends!(bad_bind_input_is_refused_and_changes_nothing);

async fn bad_account_input_and_unknown_routes(app: TestApp) {
    let before = state_counts(&app).await;
    app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "not a phone" })).await.assert_error("PHONE_FORMAT");
    app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": 13800138000u64 })).await.assert_error("MALFORMED_REQUEST");
    app.post("/v1/accounts/acc_nope/kyc", json!({ "real_name": "张三", "id_number": "11010519491231002X" }))
        .await
        .assert_error("NOT_FOUND");
    let r = app.get("/v1/no/such/route").await;
    assert_eq!(r.status, 404);
    r.assert_error("NOT_FOUND");
    let r = app.request(reqwest::Method::DELETE, "/v1/accounts", None, &[]).await;
    assert_eq!(r.status, 405);
    r.assert_error("METHOD_NOT_ALLOWED");
    let r = app
        .request(
            reqwest::Method::POST,
            "/v1/accounts",
            Some(&json!({ "phone_verified_by": "wallet", "phone": "13800138000" })),
            &[("idempotency-key", "")],
        )
        .await;
    r.assert_error("IDEMPOTENCY_KEY_INVALID");
    assert_eq!(state_counts(&app).await, before);
}
on_both_backends!(bad_account_input_and_unknown_routes);

/// A field the API does not know is refused, named, and changes nothing
/// (a misspelled `langauge` used to make a zh-CN account silently); a wrong
/// type names its field; the document says the bodies are closed.
async fn unknown_fields_are_refused_by_name(app: TestApp) {
    let phone = "+8613912345678";
    let r = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone, "langauge": "en" })).await;
    let e = r.assert_error("UNKNOWN_FIELD");
    assert_eq!((r.status, e["details"]["field"].as_str()), (400, Some("langauge")), "{e}");
    assert!(e["message"].as_str().is_some_and(|m| m.contains("langauge")), "{e}");
    // Nested fields are named by their path, and a value typed as a key is not repeated.
    let acc = app.verified_account().await;
    let before = state_counts(&app).await;
    let review = json!({ "kind": "risk_lock", "statement": "我没有做过这些操作", "materials": [{ "type": "id_front", "ref": "r1", "colour": "red" }] });
    let e = app.post(&format!("/v1/accounts/{acc}/reviews"), review).await.assert_error("UNKNOWN_FIELD").clone();
    assert_eq!(e["details"]["field"], "materials.0.colour", "{e}");
    let card = app.card("ok_debit").await;
    let number = card["card_number"].as_str().unwrap().to_owned();
    let mut bind = TestApp::bind_body(&card);
    bind[number.as_str()] = json!(1);
    let r = app.post(&format!("/v1/accounts/{acc}/bindings"), bind).await;
    let e = r.assert_error("UNKNOWN_FIELD");
    assert!(e["details"]["field"].is_null() && !r.body.to_string().contains(&number[6..]), "{}", r.body);
    let e = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": phone, "language": 7 })).await;
    assert_eq!(e.assert_error("MALFORMED_REQUEST")["details"]["field"], "language");
    assert!(app.state.store.account_by_phone(phone).await.unwrap().is_none(), "nothing was created");
    assert_eq!(state_counts(&app).await, before, "refused input changed stored state");
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    assert_eq!(doc["components"]["schemas"]["NewAccountBody"]["additionalProperties"], json!(false));
    assert_eq!(doc["components"]["schemas"]["MaterialBody"]["additionalProperties"], json!(false));
}
on_both_backends!(unknown_fields_are_refused_by_name);

async fn authentication_is_required(app: TestApp) {
    let anon = app.client.post(format!("{}/v1/accounts", app.base)).json(&json!({ "phone": "13800138000" })).send().await.unwrap();
    assert_eq!(anon.status(), 401);
    let body: Value = anon.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHENTICATED");
    let wrong = app.client.get(format!("{}/v1/accounts/x", app.base)).bearer_auth("bk_wallet_nope").send().await.unwrap();
    assert_eq!(wrong.status(), 401);
    // A key of another role cannot use the wallet API.
    let support = bangka_server::auth::generate_key(bangka_server::auth::Role::Support, bangka_core::mode::Mode::Test);
    app.state
        .store
        .insert_api_key(
            "support",
            bangka_core::mode::Mode::Test,
            &bangka_server::auth::hash_key(&support),
            None,
            time::OffsetDateTime::now_utc(),
        )
        .await
        .unwrap();
    let r = app.client.get(format!("{}/v1/accounts/x", app.base)).bearer_auth(&support).send().await.unwrap();
    assert_eq!(r.status(), 403);
    assert_eq!(r.json::<Value>().await.unwrap()["error"]["code"], "FORBIDDEN");
}
on_both_backends!(authentication_is_required);

/// Every time in the document is typed as one (issue 26): each `*_at`
/// property, at any depth, is a `date-time` string.
#[test]
fn every_time_in_the_document_is_a_date_time() {
    fn walk(path: &str, v: &Value, bad: &mut Vec<String>) {
        let Some(map) = v.as_object() else {
            if let Some(a) = v.as_array() {
                a.iter().for_each(|x| walk(path, x, bad));
            }
            return;
        };
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                if name.ends_with("_at") && p["format"] != "date-time" {
                    bad.push(format!("{path}.{name}"));
                }
            }
        }
        for (k, x) in map {
            walk(&format!("{path}.{k}"), x, bad);
        }
    }
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let mut bad = Vec::new();
    walk("", &doc, &mut bad);
    assert!(bad.is_empty(), "times without format: date-time: {bad:?}");
}

/// Every state in the document lists its values (issue 26): each `status`
/// or `*_status` property, at any depth, has an `enum`, and the values
/// are what the answers carry.
#[test]
fn every_state_in_the_document_lists_its_values() {
    fn walk(path: &str, v: &Value, bad: &mut Vec<String>, seen: &mut usize) {
        let Some(map) = v.as_object() else {
            if let Some(a) = v.as_array() {
                a.iter().for_each(|x| walk(path, x, bad, seen));
            }
            return;
        };
        if let Some(props) = map.get("properties").and_then(Value::as_object) {
            for (name, p) in props {
                if name == "status" || (name.ends_with("_status") && name != "http_status") {
                    *seen += 1;
                    if p["enum"].as_array().is_none_or(|e| e.is_empty()) {
                        bad.push(format!("{path}.{name}"));
                    }
                }
            }
        }
        for (k, x) in map {
            walk(&format!("{path}.{k}"), x, bad, seen);
        }
    }
    let doc = serde_json::to_value(bangka_server::http::openapi()).unwrap();
    let (mut bad, mut seen) = (Vec::new(), 0);
    walk("", &doc, &mut bad, &mut seen);
    assert!(bad.is_empty() && seen >= 15, "states without an enum: {bad:?} ({seen} seen)");
    let binding = &doc["components"]["schemas"]["BindingView"]["properties"]["status"]["enum"];
    let want: Vec<&str> = bangka_core::binding::BindingStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(binding, &json!(want));
}
