//! Every holder-facing sentence speaks the request's language (issue 16):
//! a tour of the holder's successful answers, then the whole catalog
//! journey (every error code), once with `Accept-Language: zh-CN` and once
//! with `en`; no English sentence may reach a zh-CN holder, and no Chinese
//! an English one.

use serde_json::{Value, json};

use crate::catalog::{reach_every_code, reach_options};
use crate::helpers::{Backend, TestApp, spawn_app_with};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn holder_answers_speak_the_requested_language() {
    for lang in ["zh-CN", "en"] {
        // Two servers, so the tour's cards are free for the journey.
        let mut tour = spawn_app_with(Backend::Sqlite, reach_options()).await.unwrap();
        tour.lang = Some(lang);
        holder_tour(&tour).await;
        let mut app = spawn_app_with(Backend::Sqlite, reach_options()).await.unwrap();
        app.lang = Some(lang);
        reach_every_code(&app).await;
        let mut wrong = Vec::new();
        let mut recorded = tour.recorded.lock().unwrap().clone();
        recorded.extend(app.recorded.lock().unwrap().iter().cloned());
        for (what, r) in &recorded {
            if !holder_facing(what) {
                continue;
            }
            // A failure only the wallet developer can fix explains itself
            // to that developer in its details (which field, what it must
            // be); its message and remediation are still the holder's.
            let developer_details = r.body["error"]["fix_by"] == "wallet";
            walk(&r.body, String::new(), &mut |path, s| {
                if exempt(&path) || (developer_details && path.starts_with("error.details")) {
                    return;
                }
                // Words the holder acts on (not a developer's fix) name no
                // field, role or identifier in English.
                let strict = !developer_details;
                let bad = if lang == "en" { has_chinese(s) } else { english_sentence(s) || (strict && english_in_chinese(s)) };
                if bad {
                    wrong.push(format!("{what} → {path}: {s:?}"));
                }
            });
        }
        wrong.sort();
        wrong.dedup();
        assert!(recorded.len() > 300, "the tour and the journey made {} requests", recorded.len());
        assert!(wrong.is_empty(), "{lang} answers with text in the other language:\n{}", wrong.join("\n"));
    }
}

/// Answers a holder's wallet shows: not the demo helpers, the operators'
/// endpoints or the bilingual references.
fn holder_facing(what: &str) -> bool {
    let path = what.split_once(' ').map(|(_, p)| p).unwrap_or(what);
    !["/v1/demo/", "/v1/ops/", "/v1/errors", "/openapi.json", "/help/", "/metrics", "/healthz", "/readyz"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// Fields that carry what someone typed or an identifier, not Bangka's
/// words, and values labelled with their language (`{"zh-CN": …, "en": …}`,
/// `name_zh`/`name_en`: a bank's name, an announcement, the complaint lines
/// of a signed bundle), which the wallet picks from.
fn exempt(path: &str) -> bool {
    let last = path.rsplit('.').next().unwrap_or(path);
    matches!(last, "en" | "zh-CN")
        || last.ends_with("_en")
        || last.ends_with("_zh")
        || path.split('.').any(|p| p == "developer")
        || matches!(
            last,
            "doc_url" | "statement" | "user_agent" | "device_name" | "device_model" | "os" | "app_version" | "comment" | "body" | "path"
        )
        || last.ends_with("_id")
        || last.ends_with("_masked")
        || last == "id"
}

fn walk(v: &Value, path: String, f: &mut dyn FnMut(String, &str)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(a) => a.iter().for_each(|x| walk(x, path.clone(), f)),
        Value::Object(o) => {
            for (k, x) in o {
                walk(x, if path.is_empty() { k.clone() } else { format!("{path}.{k}") }, f);
            }
        }
        _ => {}
    }
}

fn has_chinese(s: &str) -> bool {
    s.chars()
        .any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c) || ('\u{3000}'..='\u{303f}').contains(&c) || ('\u{ff00}'..='\u{ffef}').contains(&c))
}

/// Three English words in a row make a sentence (codes, ids, times and
/// enum values never have spaces).
fn english_sentence(s: &str) -> bool {
    let word = |w: &str| {
        let w = w.trim_matches(|c: char| c.is_ascii_punctuation());
        w.len() >= 2 && w.chars().all(|c| c.is_ascii_alphabetic())
    };
    s.split_whitespace().collect::<Vec<_>>().windows(3).any(|ws| ws.iter().all(|w| word(w)))
}

/// Names, abbreviations and brands a Chinese sentence writes in Latin
/// letters; any other Latin word in one is English left in it (a field
/// name, a role, an identifier).
const LATIN_IN_CHINESE: &[&str] =
    &["SMS", "App", "APP", "ID", "CVV", "Bangka", "API", "PIN", "IP", "UnionPay", "Visa", "Mastercard", "iOS", "Android", "BK"];

/// English words inside a Chinese sentence: `（holder）`, `返回信息中的
/// status`, `m_video`, `sla_breach: the answer was due`.
fn english_in_chinese(s: &str) -> bool {
    if !has_chinese(s) {
        return false;
    }
    s.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .filter(|w| w.len() >= 2 && w.chars().any(|c| c.is_ascii_alphabetic()))
        // Codes (ALL_CAPS_WITH_UNDERSCORES), ids and numbers with letters
        // in them (bnd_…, BK-2026…) are values, not words.
        .filter(|w| !w.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .any(|w| !LATIN_IN_CHINESE.contains(&w))
}

#[test]
fn the_detectors_tell_sentences_from_values() {
    assert!(english_in_chinese("如果是您本人暂停的（holder），恢复即可"));
    assert!(english_in_chinese("账户当前的状态见返回信息中的 status。"));
    assert!(english_in_chinese("视频会员 m_video 扣款 19.90 元"));
    assert!(!english_in_chinese("请在银行App中查看，验证码通过SMS发送，错误码 CARD_FROZEN，工单 BK-20261208-000001"));
    assert!(!english_in_chinese("Unfreeze the card"));
    assert!(english_sentence("Unfreeze the card first."));
    assert!(!english_sentence("先解冻这张卡 (SMS code) 再解绑"));
    assert!(!english_sentence("CARD_FROZEN"));
    assert!(has_chinese("先解冻"));
    assert!(!has_chinese("Unfreeze the card"));
}

/// The holder's successful answers with sentences in them.
async fn holder_tour(app: &TestApp) {
    let acc = app.verified_account().await;
    let base = format!("/v1/accounts/{acc}");
    app.set_payment_password(&acc).await;
    app.get(&base).await;
    // Activation, then its next step.
    let card = app.card("not_activated").await;
    app.bind(&acc, &card).await;
    let act = app
        .post(
            &format!("{base}/activations"),
            json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": card["phone"] }),
        )
        .await;
    let aid = act.body["id"].as_str().unwrap().to_owned();
    let otp = app.latest_otp(card["phone"].as_str().unwrap()).await;
    let done = app.post(&format!("{base}/activations/{aid}/confirm"), json!({ "otp": otp })).await;
    assert_eq!(done.status, 200, "{}", done.body);
    // A failed bind and its diagnosis.
    let failed = app.bind(&acc, &app.card("phone_mismatch").await).await;
    let attempt = failed.body["error"]["attempt_id"].as_str().unwrap().to_owned();
    app.get(&format!("{base}/diagnosis?attempt_id={attempt}")).await;
    app.get(&format!("{base}/diagnosis")).await;
    // A bound card: test authorization (passing and failing), diagnosis.
    let ok = app.bind_confirmed(&acc, "ok_debit").await;
    let ob = format!("{base}/bindings/{}", ok["id"].as_str().unwrap());
    app.post(&format!("{ob}/test-authorization"), json!({})).await;
    let empty = app.bind_confirmed(&acc, "zero_balance").await;
    let eb = format!("{base}/bindings/{}", empty["id"].as_str().unwrap());
    let r = app.post(&format!("{eb}/test-authorization"), json!({})).await;
    assert_eq!(r.body["can_pay_online"], false, "{}", r.body);
    app.get(&format!("{base}/diagnosis?binding_id={}", ok["id"].as_str().unwrap())).await;
    app.get(&format!("{base}/bindings")).await;
    // Blockers: a frozen card, then a frozen account.
    app.post(&format!("{eb}/freeze"), json!({ "reason": "holder_request" })).await;
    let blocked = app.post(&format!("{eb}/unbind"), json!({})).await;
    blocked.assert_error("UNBIND_BLOCKED");
    app.get(&format!("{base}/diagnosis?binding_id={}", empty["id"].as_str().unwrap())).await;
    app.post(&format!("{base}/tickets"), json!({ "binding_id": empty["id"] })).await;
    app.get(&format!("{base}/tickets")).await;
    app.get(&format!("{ob}/evidence")).await;
    app.get(&format!("{base}/receipts")).await;
    app.get("/v1/status").await;
    // A card reported lost while its bank does not answer.
    let lost = app.bind_confirmed(&acc, "ok_debit_abc").await;
    app.post("/v1/demo/cards/ok_debit_abc/bank-state", json!({ "state": "normal", "answering": false })).await;
    let r = app.post(&format!("{base}/bindings/{}/freeze", lost["id"].as_str().unwrap()), json!({ "reason": "card_lost" })).await;
    assert!(r.body["issuer_advice"].is_string(), "{}", r.body);
    app.post(&format!("{base}/bindings/{}/unfreeze", lost["id"].as_str().unwrap()), json!({})).await;
    // Phone change and sign-up steps.
    app.post(&format!("{base}/phone"), json!({ "new_phone": "13512345670", "old_phone_lost": true })).await;
    let fresh = app.post("/v1/accounts", json!({ "phone": "13512345671" })).await;
    let fresh_id = fresh.body["id"].as_str().unwrap().to_owned();
    app.post(&format!("/v1/accounts/{fresh_id}/kyc"), json!({ "real_name": "张三", "id_number": "110105199003071239" })).await;
    let frozen = app.post(&format!("{base}/freeze"), json!({ "reason": "unknown_transactions" })).await;
    assert_eq!(frozen.status, 200, "{}", frozen.body);
    app.post(&format!("{ob}/unbind"), json!({})).await.assert_error("UNBIND_BLOCKED");
    app.post(&format!("{base}/unfreeze"), json!({})).await;
}
