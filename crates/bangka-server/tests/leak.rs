//! Card data never leaks: the real `bangka` binary binds every test card
//! (plus activations and bad input carrying card numbers), then the data
//! directory (database, WAL, key files) and the captured logs are searched
//! for every test card number, ID number and CVV field. Zero occurrences.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

struct Server {
    child: Child,
    base: String,
    data_dir: PathBuf,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn start(log_format: &str) -> (Server, String) {
    let bin = env!("CARGO_BIN_EXE_bangka");
    let data_dir = std::env::temp_dir().join(format!("bangka-leak-{}-{}", log_format, rand::random::<u64>()));
    let out = Command::new(bin).args(["keys", "create", "--role", "wallet", "--data-dir"]).arg(&data_dir).output().unwrap();
    assert!(out.status.success(), "keys create failed: {}", String::from_utf8_lossy(&out.stderr));
    let key = String::from_utf8(out.stdout).unwrap().lines().last().unwrap().trim().to_owned();
    let port = free_port();
    let log = data_dir.with_extension("log");
    let logfile = std::fs::File::create(&log).unwrap();
    let child = Command::new(bin)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--log-format", log_format, "--data-dir"])
        .arg(&data_dir)
        .env("RUST_LOG", "debug,sqlx=debug,hyper=info")
        .stdout(Stdio::from(logfile.try_clone().unwrap()))
        .stderr(Stdio::from(logfile))
        .spawn()
        .unwrap();
    (Server { child, base: format!("http://127.0.0.1:{port}"), data_dir, log }, key)
}

async fn wait_ready(c: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if c.get(format!("{base}/readyz")).send().await.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not become ready");
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() { out.extend(files_under(&p)) } else { out.push(p) }
    }
    out
}

fn occurrences(hay: &[u8], needle: &[u8]) -> usize {
    hay.windows(needle.len()).filter(|w| w.eq_ignore_ascii_case(needle)).count()
}

/// Searches every file for every secret; returns the findings.
fn search(files: &[PathBuf], secrets: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    for f in files {
        let bytes = std::fs::read(f).unwrap();
        for s in secrets {
            let n = occurrences(&bytes, s.as_bytes());
            if n > 0 {
                found.push(format!("{} times {:?} in {}", n, s, f.display()));
            }
        }
    }
    found
}

async fn exercise(c: &reqwest::Client, base: &str, key: &str) -> Vec<Value> {
    let cards: Vec<Value> = c.get(format!("{base}/v1/demo/cards")).send().await.unwrap().json().await.unwrap();
    let post = |path: String, body: Value| {
        let c = c.clone();
        let url = format!("{base}{path}");
        let key = key.to_owned();
        async move {
            let r = c.post(url).bearer_auth(key).json(&body).send().await.unwrap();
            r.json::<Value>().await.unwrap()
        }
    };
    let otp_for = |phone: String| {
        let c = c.clone();
        let url = format!("{base}/v1/demo/inbox/{phone}");
        async move {
            let v: Value = c.get(url).send().await.unwrap().json().await.unwrap();
            let body = v["messages"][0]["body"].as_str().unwrap().to_owned();
            body.split(|ch: char| !ch.is_ascii_digit()).find(|w| w.len() == 6).unwrap().to_owned()
        }
    };
    for (i, card) in cards.iter().enumerate() {
        let acc = post("/v1/accounts".into(), json!({ "phone": format!("135{:08}", i) })).await;
        let acc = acc["id"].as_str().unwrap().to_owned();
        post(format!("/v1/accounts/{acc}/kyc"), json!({ "real_name": card["holder_name"], "id_number": card["id_number"] })).await;
        let mut body = json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": card["phone"] });
        if !card["cvv"].is_null() {
            body["expiry"] = card["expiry"].clone();
            body["cvv"] = card["cvv"].clone();
        }
        if card["expect_code"] == "CARD_NOT_ACTIVATED" {
            let act_body = json!({ "card_number": card["card_number"], "holder_name": card["holder_name"], "id_number": card["id_number"], "phone": card["phone"] });
            let act = post(format!("/v1/accounts/{acc}/activations"), act_body).await;
            let otp = otp_for(card["phone"].as_str().unwrap().to_owned()).await;
            let done = post(format!("/v1/accounts/{acc}/activations/{}/confirm", act["id"].as_str().unwrap()), json!({ "otp": otp })).await;
            assert_eq!(done["status"], "activated", "{done}");
        }
        let r = post(format!("/v1/accounts/{acc}/bindings"), body.clone()).await;
        if r["status"] == "pending_verification" {
            let otp = otp_for(card["phone"].as_str().unwrap().to_owned()).await;
            let r = post(format!("/v1/accounts/{acc}/bindings/{}/confirm", r["id"].as_str().unwrap()), json!({ "otp": otp })).await;
            assert_eq!(r["status"], "active", "{r}");
        }
        // Bad input that carries the card number where it does not belong.
        let mut wrong = body.clone();
        wrong["holder_name"] = card["card_number"].clone();
        post(format!("/v1/accounts/{acc}/bindings"), wrong).await;
        let mut wrong_type = body;
        wrong_type["card_number"] = json!(card["card_number"].as_str().unwrap().parse::<u64>().unwrap_or(0));
        post(format!("/v1/accounts/{acc}/bindings"), wrong_type).await;
    }
    cards
}

async fn no_card_data_in_files_or_logs(log_format: &str) {
    let (mut server, key) = start(log_format);
    let c = reqwest::Client::new();
    wait_ready(&c, &server.base).await;
    let cards = exercise(&c, &server.base, &key).await;
    let mut secrets: Vec<String> = Vec::new();
    for card in &cards {
        let pan = card["card_number"].as_str().unwrap();
        secrets.push(pan.to_owned());
        // More than masking may show: the first 6 with the middle digits, or
        // the middle digits with the last 4 (each long enough not to collide
        // with timestamps by chance).
        secrets.push(pan[..pan.len() - 4].to_owned());
        secrets.push(pan[6..].to_owned());
        secrets.push(card["id_number"].as_str().unwrap().to_owned());
    }
    secrets.sort();
    secrets.dedup();
    // CVVs are three digits, which any timestamp may contain; instead no
    // stored or logged text may carry a CVV field at all.
    for pattern in ["\"cvv\"", "cvv=", "cvv:", "cvv\":"] {
        secrets.push(pattern.to_owned());
    }
    // While running (the WAL holds recent writes) ...
    let found = search(&files_under(&server.data_dir), &secrets);
    assert!(found.is_empty(), "card data in the data directory while running: {found:#?}");
    // ... and after a clean shutdown.
    Command::new("kill").args(["-INT", &server.child.id().to_string()]).status().unwrap();
    let status = server.child.wait().unwrap();
    assert!(status.success(), "server exited with {status}");
    let mut files = files_under(&server.data_dir);
    files.push(server.log.clone());
    assert!(files.iter().any(|f| f.extension().is_some_and(|e| e == "db")), "no database file found");
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(log.contains("bind pending verification") && log.contains("binding active"), "the log captured the binds");
    let found = search(&files, &secrets);
    assert!(found.is_empty(), "card data found: {found:#?}");
    let _ = std::fs::remove_dir_all(&server.data_dir);
    let _ = std::fs::remove_file(&server.log);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_card_data_in_files_or_text_logs() {
    no_card_data_in_files_or_logs("text").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_card_data_in_files_or_json_logs() {
    no_card_data_in_files_or_logs("json").await;
}
