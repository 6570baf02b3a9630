//! No dead ends (issue 16): every remediation step of the catalog says how
//! it is carried out (`bangka_core::catalog::Step`, checked complete by a
//! unit test), every Bangka operation a step names exists in the API
//! document, and this walk carries out each of those operations through
//! the API, in a state where a holder following the step would be. Steps
//! outside Bangka name who does them (the bank, the carrier, the wallet's
//! own app or service, the integrator, the administrator, the merchant).

use std::collections::BTreeMap;

use bangka_core::ErrorCode;
use bangka_core::catalog::{Operation, Party, Step, operations};
use bangka_server::auth::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::{Backend, PAY_PASSWORD, TestApp, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_step_a_remedy_names_can_be_carried_out() {
    let app = spawn_app(Backend::Sqlite).await.unwrap();

    // Every operation a step names is a documented route.
    let doc = app.get("/openapi.json").await.body;
    for op in operations() {
        let (method, path) = op.route();
        assert!(doc["paths"][path][method.to_ascii_lowercase()].is_object(), "{op:?}: {method} {path} is not in the API document");
    }

    // The envelope carries each step's action next to its words.
    let acc = app.verified_account().await;
    let e = app.post(&format!("/v1/accounts/{acc}/bindings/bnd_nope/unfreeze"), json!({})).await;
    let body = e.assert_error("NOT_FOUND");
    assert_eq!(body["steps"].as_array().unwrap().len(), body["remediation"].as_array().unwrap().len());
    let frozen = app.bind(&app.verified_account().await, &app.card("frozen").await).await;
    let steps = frozen.assert_error("CARD_FROZEN")["steps"].clone();
    assert_eq!(steps[0]["action"], json!({ "kind": "outside", "by": "bank" }), "{steps}");
    assert_eq!(steps[3]["action"]["operation"], "open_ticket");
    assert_eq!(steps[3]["action"]["path"], "/v1/accounts/{id}/tickets");

    // Who does the steps Bangka cannot, counted for the closing note.
    let mut outside: BTreeMap<String, usize> = BTreeMap::new();
    for code in ErrorCode::ALL {
        for s in code.steps() {
            if let Step::Outside(p) = s {
                *outside.entry(format!("{p:?}")).or_default() += 1;
            }
        }
    }
    assert!(outside.contains_key(&format!("{:?}", Party::Bank)));

    // The walk: each operation, carried out.
    let w = Walk::new(&app).await;
    let mut done = Vec::new();
    for op in operations() {
        let (status, body) = w.carry_out(op).await;
        assert!((200..300).contains(&status), "{op:?} could not be carried out: {status} {body}");
        done.push(op.as_str());
    }
    println!(
        "carried out {} operations named by remediation steps: {}; steps outside Bangka by party: {outside:?}",
        done.len(),
        done.join(", ")
    );
}

/// The holder and cards the walk works with.
struct Walk<'a> {
    app: &'a TestApp,
    acc: String,
    /// An active card with a payment password on the account.
    card: String,
}

impl<'a> Walk<'a> {
    async fn new(app: &'a TestApp) -> Walk<'a> {
        let p = app.payer("ok_debit").await;
        Walk { app, acc: p.account, card: p.binding }
    }

    fn base(&self) -> String {
        format!("/v1/accounts/{}", self.acc)
    }

    fn card_path(&self, id: &str) -> String {
        format!("{}/bindings/{id}", self.base())
    }

    async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.app.post(path, body).await;
        (r.status, r.body)
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.app.get(path).await;
        (r.status, r.body)
    }

    /// Starts binding a card on the walk's account (with the payment
    /// password: several cards in a row ask for it).
    async fn bind_start(&self, scenario: &str) -> crate::helpers::Resp {
        let mut body = TestApp::bind_body(&self.app.card(scenario).await);
        body["payment_password"] = json!(PAY_PASSWORD);
        self.app.post(&format!("{}/bindings", self.base()), body).await
    }

    /// Another card bound on the walk's account.
    async fn another_card(&self, scenario: &str) -> String {
        let started = self.bind_start(scenario).await;
        assert_eq!(started.status, 202, "{}", started.body);
        let id = started.body["id"].as_str().unwrap().to_owned();
        let otp = self.app.latest_otp(self.app.card(scenario).await["phone"].as_str().unwrap()).await;
        let done = self.post(&format!("{}/confirm", self.card_path(&id)), json!({ "otp": otp })).await;
        assert_eq!(done.0, 200, "{}", done.1);
        id
    }

    /// An account frozen for a lost phone whose holder kept the number asks
    /// for an identity review: (the answer, the review's path).
    async fn identity_review(&self) -> (crate::helpers::Resp, String) {
        let lost = self.app.verified_account().await;
        self.app.post(&format!("/v1/accounts/{lost}/freeze"), json!({ "reason": "phone_lost" })).await;
        let body = json!({ "kind": "unfreeze", "statement": "号码已补办", "materials": crate::reviews::id_docs_and_selfie() });
        let r = self.app.post(&format!("/v1/accounts/{lost}/reviews"), body).await;
        let path = format!("/v1/accounts/{lost}/reviews/{}", r.body["id"].as_str().unwrap_or_default());
        (r, path)
    }

    async fn carry_out(&self, op: Operation) -> (u16, Value) {
        let app = self.app;
        let base = self.base();
        let card = self.card_path(&self.card);
        match op {
            Operation::OpenTicket => self.post(&format!("{base}/tickets"), json!({ "binding_id": self.card })).await,
            Operation::GetTicket => {
                let (_, t) = self.post(&format!("{base}/tickets"), json!({})).await;
                self.get(&format!("{base}/tickets/{}", t["number"].as_str().unwrap())).await
            }
            Operation::SubmitReview => self.identity_review().await.0.pipe(),
            Operation::ListReviews => self.get(&format!("{base}/reviews")).await,
            Operation::WithdrawReview => {
                // Taken back during its waiting period.
                let (_, review) = self.identity_review().await;
                self.post(&format!("{review}/withdraw"), json!({})).await
            }
            Operation::VerifyKyc => {
                let acc = app.post("/v1/accounts", json!({ "phone_verified_by": "wallet", "phone": "13512340001" })).await.body["id"]
                    .as_str()
                    .unwrap()
                    .to_owned();
                let c = app.card("ok_debit").await;
                self.post(&format!("/v1/accounts/{acc}/kyc"), json!({ "real_name": c["holder_name"], "id_number": c["id_number"] })).await
            }
            Operation::SetPaymentPassword => {
                self.post(&format!("{base}/payment-password"), json!({ "password": "246813", "current_password": PAY_PASSWORD })).await;
                self.post(&format!("{base}/payment-password"), json!({ "password": PAY_PASSWORD, "current_password": "246813" })).await
            }
            Operation::ResetPaymentPassword => {
                let c = app.card("ok_debit").await;
                self.post(&format!("{base}/payment-password/reset"), json!({ "real_name": c["holder_name"], "id_number": c["id_number"] }))
                    .await
            }
            Operation::ChangePhone => self.post(&format!("{base}/phone"), json!({ "new_phone": "13512340002" })).await,
            Operation::VerifyPhone => {
                let opened = app.post("/v1/accounts", json!({ "phone": "13512340003" })).await;
                assert_eq!(opened.body["phone_verified"], false, "{}", opened.body);
                let acc = opened.body["id"].as_str().unwrap().to_owned();
                let otp = app.latest_otp("13512340003").await;
                self.post(&format!("/v1/accounts/{acc}/phone/verify"), json!({ "otp": otp })).await
            }
            Operation::Bind => self.bind_start("ok_credit").await.pipe(),
            Operation::ConfirmBind => {
                let c = app.card("ok_debit_ccb").await;
                let started = self.bind_start("ok_debit_ccb").await;
                let otp = app.latest_otp(c["phone"].as_str().unwrap()).await;
                self.post(&format!("{}/confirm", self.card_path(started.body["id"].as_str().unwrap())), json!({ "otp": otp })).await
            }
            Operation::ResendCode => {
                let started = self.bind_start("ok_debit_abc").await;
                app.clock.advance(time::Duration::seconds(61));
                self.post(&format!("{}/otp/resend", self.card_path(started.body["id"].as_str().unwrap())), json!({ "channel": "voice" }))
                    .await
            }
            Operation::ListCards => self.get(&format!("{base}/bindings")).await,
            Operation::Activate => {
                let c = app.card("not_activated").await;
                let body = json!({ "card_number": c["card_number"], "holder_name": c["holder_name"], "id_number": c["id_number"], "phone": c["phone"] });
                self.post(&format!("{base}/activations"), body).await
            }
            Operation::TestAuthorization => self.post(&format!("{card}/test-authorization"), json!({})).await,
            Operation::FreezeCard => {
                let other = self.another_card("ok_debit_boc").await;
                self.post(&format!("{}/freeze", self.card_path(&other)), json!({ "reason": "holder_request" })).await
            }
            Operation::UnfreezeCard => {
                let other = self.another_card("ok_prepaid").await;
                self.post(&format!("{}/freeze", self.card_path(&other)), json!({ "reason": "holder_request" })).await;
                self.post(&format!("{}/unfreeze", self.card_path(&other)), json!({})).await
            }
            Operation::FreezeAccount | Operation::UnfreezeAccount => {
                let acc = app.verified_account().await;
                let frozen = self.post(&format!("/v1/accounts/{acc}/freeze"), json!({ "reason": "holder_request" })).await;
                if op == Operation::FreezeAccount {
                    return frozen;
                }
                self.post(&format!("/v1/accounts/{acc}/unfreeze"), json!({})).await
            }
            Operation::Unbind | Operation::RevokeUnbind | Operation::DeleteCard => {
                let p = app.payer("ok_credit_ccb").await;
                let phone = app.card("ok_credit_ccb").await["phone"].as_str().unwrap().to_owned();
                let path = format!("/v1/accounts/{}/bindings/{}", p.account, p.binding);
                let started = self.post(&format!("{path}/unbind"), json!({})).await;
                if op == Operation::Unbind {
                    return started;
                }
                let otp = app.latest_otp(&phone).await;
                let confirmed = self.post(&format!("{path}/unbind/confirm"), json!({ "otp": otp })).await;
                assert_eq!(confirmed.0, 202, "{}", confirmed.1);
                if op == Operation::RevokeUnbind {
                    return self.post(&format!("{path}/unbind/revoke"), json!({})).await;
                }
                app.clock.advance(time::Duration::hours(25));
                bangka_server::flows::unbind::complete_due(&app.state).await.unwrap();
                self.post(&format!("{path}/delete"), json!({})).await
            }
            Operation::ListReceipts => self.get(&format!("{base}/receipts")).await,
            Operation::ListMandates => self.get(&format!("{base}/mandates")).await,
            Operation::CreateMandate => self.post(&format!("{base}/mandates"), mandate(&self.card, "m_walk_a")).await,
            Operation::CancelMandate => {
                let (_, m) = self.post(&format!("{base}/mandates"), mandate(&self.card, "m_walk_b")).await;
                self.post(&format!("{base}/mandates/{}/cancel", m["id"].as_str().unwrap()), json!({})).await
            }
            Operation::ListPayments => self.get(&format!("{card}/payments")).await,
            Operation::ResumeToken => {
                let other = self.another_card("credit_limit_low").await;
                let path = self.card_path(&other);
                self.post(&format!("{path}/token/suspend"), json!({})).await;
                self.post(&format!("{path}/token/resume"), json!({})).await
            }
            Operation::ListIssuers => self.get("/v1/issuers").await,
            Operation::ServiceStatus => self.get("/v1/status").await,
            Operation::RequestCryptogram => {
                let body = json!({ "amount": 100, "currency": "CNY", "merchant_id": "m_walk", "payment_password": PAY_PASSWORD });
                self.post(&format!("{card}/cryptograms"), body).await
            }
            Operation::RequestPaymentCode => {
                self.post(&format!("{card}/cryptograms/otp"), json!({ "amount": 100, "currency": "CNY", "merchant_id": "m_walk_sms" }))
                    .await
            }
            Operation::OpenSession => {
                self.post(&format!("{base}/sessions"), json!({ "device_id": "walk-phone", "device_name": "测试手机" })).await
            }
            Operation::ListDevices => self.get(&format!("{base}/devices")).await,
            Operation::GetPayment => {
                let body = json!({ "amount": 250, "currency": "CNY", "merchant_id": "m_walk_pay", "payment_password": PAY_PASSWORD });
                let (_, c) = self.post(&format!("{card}/cryptograms"), body).await;
                let token = c["token_number"].as_str().or(c["token"].as_str()).unwrap_or_default().to_owned();
                let paid = app.pay(&token, c["cryptogram"].as_str().unwrap(), 250, "m_walk_pay").await;
                assert_eq!(paid.status, 201, "{}", paid.body);
                // Whoever made the payment looks it up.
                self.get(&format!("/v1/payments/{}", paid.body["id"].as_str().unwrap())).await
            }
            Operation::AccountRisk => {
                let support = app.key_for(Role::Support).await;
                let r = app.request_as(&support, Method::GET, &format!("/v1/ops/accounts/{}/risk", self.acc), None).await;
                (r.status, r.body)
            }
            Operation::CreateApiKey => {
                let admin = app.key_for(Role::Admin).await;
                let r = app.request_as(&admin, Method::POST, "/v1/ops/keys", Some(&json!({ "role": "wallet", "name": "walk" }))).await;
                (r.status, r.body)
            }
        }
    }
}

fn mandate(binding: &str, merchant: &str) -> Value {
    json!({ "binding_id": binding, "merchant_id": merchant, "kind": "subscription", "max_amount": 3000, "currency": "CNY", "payment_password": PAY_PASSWORD })
}

trait Pipe {
    fn pipe(self) -> (u16, Value);
}

impl Pipe for crate::helpers::Resp {
    fn pipe(self) -> (u16, Value) {
        (self.status, self.body)
    }
}
