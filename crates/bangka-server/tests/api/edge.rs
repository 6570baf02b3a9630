//! The connection edge: no client can hold connections for ever or starve
//! the service, and even a request the HTTP parser rejects is answered
//! with the catalog envelope, in the caller's language.

use std::time::Duration;

use bangka_server::http::conn::Limits;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{Backend, Options, TestApp, spawn_app_with};

fn limits(max_connections: usize) -> Limits {
    Limits { header_timeout: Duration::from_secs(1), body_timeout: Duration::from_secs(1), max_connections }
}

async fn app_with(limits: Limits) -> TestApp {
    spawn_app_with(Backend::Sqlite, Options { limits: Some(limits), ..Options::default() }).await.unwrap()
}

fn addr(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Whether the server closed `s` (read gives end of file or a reset).
async fn closed(s: &mut TcpStream, within: Duration) -> bool {
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(within, s.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return true,
            Ok(Ok(_)) => continue,
            Err(_) => return false,
        }
    }
}

async fn healthz(app: &TestApp) -> u16 {
    let c = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    c.get(format!("{}/healthz", app.base)).send().await.map(|r| r.status().as_u16()).unwrap_or(0)
}

/// 300 connections that send nothing, or half their headers, are closed
/// once the header timeout passes; the service answers throughout. A
/// kept-alive connection left idle is closed the same way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_half_sent_connections_are_closed_and_starve_nothing() {
    let app = app_with(limits(4096)).await;
    let mut idle = Vec::new();
    for i in 0..300 {
        let mut s = TcpStream::connect(addr(&app)).await.unwrap();
        if i % 2 == 0 {
            s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ").await.unwrap();
        }
        idle.push(s);
    }
    assert_eq!(healthz(&app).await, 200, "answers while 300 connections idle");
    let mut kept = TcpStream::connect(addr(&app)).await.unwrap();
    kept.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut first = [0u8; 12];
    kept.read_exact(&mut first).await.unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    for s in idle.iter_mut() {
        assert!(closed(s, Duration::from_secs(5)).await, "an idle connection outlived the header timeout");
    }
    assert!(closed(&mut kept, Duration::from_secs(5)).await, "a kept-alive connection idle past the timeout is closed");
    assert_eq!(healthz(&app).await, 200);
}

/// With the connection cap reached by idle clients, a new client waits in
/// the backlog and is served as soon as the idle ones are cut off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_cap_holds_and_frees_up() {
    let app = app_with(limits(20)).await;
    let mut idle = Vec::new();
    for _ in 0..40 {
        idle.push(TcpStream::connect(addr(&app)).await.unwrap());
    }
    assert_eq!(healthz(&app).await, 200, "served once the idle connections time out");
}

/// A body that stalls ends with REQUEST_TIMEOUT, explained.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_times_out_with_an_explanation() {
    let app = app_with(limits(4096)).await;
    let mut s = TcpStream::connect(addr(&app)).await.unwrap();
    let head = format!(
        "POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nAccept-Language: en\r\nContent-Length: 100\r\n\r\n{{\"phone\":",
        app.key
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    let body: Value = serde_json::from_str(text.split_once("\r\n\r\n").unwrap().1).unwrap();
    assert_eq!((body["error"]["code"].as_str(), body["error"]["lang"].as_str()), (Some("REQUEST_TIMEOUT"), Some("en")));
}

/// What the HTTP parser itself refuses is explained like everything else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_answer_is_the_catalog_envelope() {
    let app = app_with(Limits::default()).await;
    let long_path = format!("GET /v1/accounts/{} HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\n\r\n", "a".repeat(100 * 1024));
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\n");
    for i in 0..10_000 {
        many.push_str(&format!("X-H{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let cases: Vec<(&str, Vec<u8>, u16, &str, &str)> = vec![
        ("NUL in a header", b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\0b\r\n\r\n".to_vec(), 400, "MALFORMED_REQUEST", "zh-CN"),
        (
            "bad Content-Length",
            b"POST /v1/accounts HTTP/1.1\r\nHost: x\r\nAccept-Language: en\r\nContent-Length: ten\r\n\r\n".to_vec(),
            400,
            "MALFORMED_REQUEST",
            "en",
        ),
        ("100 KB path", long_path.into_bytes(), 414, "URI_TOO_LONG", "en"),
        ("10,000 headers", many.into_bytes(), 431, "HEADERS_TOO_LARGE", "en"),
        (
            "path that does not decode",
            format!("GET /v1/accounts/acc_%ff%fe HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nConnection: close\r\n\r\n", app.key)
                .into_bytes(),
            400,
            "MALFORMED_REQUEST",
            "zh-CN",
        ),
    ];
    for (what, bytes, status, code, lang) in cases {
        let r = app.raw_request(&bytes).await;
        let (got, body) = (r.status, &r.body);
        assert_eq!(got, status, "{what}: {body}");
        let ct = r.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or_default();
        assert!(ct.starts_with("application/json"), "{what}: {ct}");
        assert_eq!((body["error"]["code"].as_str(), body["error"]["lang"].as_str()), (Some(code), Some(lang)), "{what}: {body}");
        assert!(body["error"]["remediation"].as_array().is_some_and(|r| !r.is_empty()), "{what}: {body}");
        assert!(body["error"]["request_id"].as_str().is_some_and(|r| r.starts_with("req_")), "{what}: {body}");
    }
    assert_eq!(healthz(&app).await, 200);
}
