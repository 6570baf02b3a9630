//! The token follows its card: it never pays again while the card is
//! frozen or being unbound, and who resumes it comes from the credential.

use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;
use crate::on_both_backends;

async fn a_token_is_not_resumed_while_its_card_cannot_pay(app: TestApp) {
    let p = app.payer("ok_debit").await;
    let base = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
    app.post(&format!("{base}/freeze"), json!({ "reason": "holder_request" })).await;
    app.post(&format!("{base}/token/resume"), json!({})).await.assert_error("BINDING_FROZEN");
    app.post(&format!("{base}/token/resume"), json!({ "by": "wallet" })).await.assert_error("BINDING_FROZEN");
    let b = app.get(&base).await.body;
    assert_eq!((b["status"].as_str(), b["token"]["status"].as_str()), (Some("frozen"), Some("suspended")), "{b}");

    let code_phone = app.card("ok_debit").await["phone"].as_str().unwrap().to_owned();
    app.post(&format!("{base}/unfreeze"), json!({})).await;
    let code = app.latest_otp(&code_phone).await;
    let r = app.post(&format!("{base}/unfreeze"), json!({ "otp": code, "payment_password": crate::helpers::PAY_PASSWORD })).await;
    assert_eq!(r.body["status"], "active", "{}", r.body);
    assert_eq!(app.post(&format!("{base}/unbind"), json!({})).await.status, 202);
    let code = app.latest_otp(&code_phone).await;
    assert_eq!(app.post(&format!("{base}/unbind/confirm"), json!({ "otp": code })).await.body["status"], "unbinding");
    app.post(&format!("{base}/token/resume"), json!({})).await.assert_error("BINDING_UNBINDING");
    let b = app.get(&base).await.body;
    assert_eq!((b["status"].as_str(), b["token"]["status"].as_str()), (Some("unbinding"), Some("suspended")), "{b}");
}
on_both_backends!(a_token_is_not_resumed_while_its_card_cannot_pay);

/// A holder session is the holder: it cannot claim to be the wallet.
async fn a_session_cannot_act_as_the_wallet(app: TestApp) {
    let p = app.payer("ok_debit_ccb").await;
    let s = app.post(&format!("/v1/accounts/{}/sessions", p.account), json!({ "device_id": "phone-1" })).await;
    let token = s.body["token"].as_str().unwrap().to_owned();
    let base = format!("/v1/accounts/{}/bindings/{}/token", p.account, p.binding);
    let e = app.request_as(&token, Method::POST, &format!("{base}/suspend"), Some(&json!({ "by": "wallet" }))).await;
    e.assert_error("FORBIDDEN");
    let r = app.request_as(&token, Method::POST, &format!("{base}/suspend"), Some(&json!({}))).await;
    assert_eq!(r.body["token"]["status"], "suspended", "{}", r.body);
    let e = app.request_as(&token, Method::POST, &format!("{base}/resume"), Some(&json!({ "by": "wallet" }))).await;
    e.assert_error("FORBIDDEN");
    let r = app.request_as(&token, Method::POST, &format!("{base}/resume"), Some(&json!({ "by": "holder" }))).await;
    assert_eq!(r.body["token"]["status"], "active", "{}", r.body);
}
on_both_backends!(a_session_cannot_act_as_the_wallet);
