//! Connections: accepting them, bounding them, and explaining the answers
//! hyper gives on its own.
//!
//! # Bounds
//! A client that connects and sends nothing, sends its headers a byte at a
//! time, or never finishes its body must not hold a connection (and its
//! memory and file descriptor) for ever, and many such clients must not
//! starve the service. So:
//! - at most [`Limits::max_connections`] connections are open at once; past
//!   that, new ones wait in the kernel's backlog until one closes;
//! - a request's headers must arrive within [`Limits::header_timeout`], and
//!   the same bound closes a kept-alive connection idle for that long
//!   (hyper's header-read timer runs whenever it waits for a request head);
//! - a request's body must arrive within [`Limits::body_timeout`]
//!   ([`read_body_in_time`]);
//! - an accept error (out of file descriptors, say) backs off instead of
//!   spinning.
//!
//! # Every answer explains itself
//! hyper answers a request it cannot parse (a NUL in a header, a bad
//! `Content-Length`, a 100 KB path, 10,000 headers) itself, with an empty
//! body, before Bangka sees the request. [`Explained`] wraps each connection
//! and replaces such an answer, as it is written, with the catalog envelope
//! in the caller's language (read from the bytes the request sent).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bangka_core::ErrorCode;
use bangka_core::catalog::Lang;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use crate::error::{ApiError, PendingError, code_for_status, envelope};

/// How long and how many: `bangka serve --header-timeout --body-timeout
/// --max-connections`.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { header_timeout: Duration::from_secs(10), body_timeout: Duration::from_secs(10), max_connections: 4096 }
    }
}

impl Limits {
    /// The connection cap, lowered to fit the process's file limit (each
    /// connection is a descriptor; the database and key files need some).
    pub fn fitted(self) -> Limits {
        match open_files_limit() {
            Some(n) if (n as usize) < self.max_connections + 64 => {
                let max = (n as usize).saturating_sub(64).max(16);
                tracing::warn!(
                    configured = self.max_connections,
                    open_files_limit = n,
                    max_connections = max,
                    "the open-files limit is lower than the connection cap; capping connections below it"
                );
                Limits { max_connections: max, ..self }
            }
            _ => self,
        }
    }
}

/// The soft limit on open files (Linux), if it can be read.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

/// Serves `router` on `listener` within `limits` until `shutdown`, then
/// stops accepting and lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let limits = limits.fitted();
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_timeout).keep_alive(true);
    tokio::pin!(shutdown);
    let mut backoff = Duration::from_millis(5);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    backoff = Duration::from_millis(5);
                    (stream, peer)
                }
                Err(e) => {
                    // Out of descriptors or memory: wait for some to free up.
                    tracing::warn!(error = %e, retry_in_ms = backoff.as_millis() as u64, "accept failed; backing off");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        // The connection's address, for the per-address rate limit.
        let service = TowerToHyperService::new(tower_layer_peer(router.clone(), peer));
        let conn = builder.serve_connection(TokioIo::new(Explained::new(stream)), service);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // Timeouts and resets end connections all the time: not errors.
            let _ = conn.await;
            drop(slot);
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

/// The address a request's connection came from (the TCP peer: behind a
/// proxy, the proxy's).
#[derive(Debug, Clone, Copy)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// The router with every request of one connection carrying its peer.
fn tower_layer_peer(router: Router, peer: std::net::SocketAddr) -> axum::middleware::AddExtension<Router, PeerAddr> {
    use tower_layer::Layer;
    axum::Extension(PeerAddr(peer)).layer(router)
}

/// Middleware: reads the request body within the body timeout (and within
/// `limit` bytes), so a client that trickles or stalls its body ends with
/// `REQUEST_TIMEOUT` instead of holding the request open.
pub async fn read_body_in_time(
    axum::extract::State((timeout, limit)): axum::extract::State<(Duration, usize)>,
    req: Request,
    next: Next,
) -> Response {
    let (parts, body) = req.into_parts();
    let bytes = match tokio::time::timeout(timeout, axum::body::to_bytes(body, limit)).await {
        Ok(Ok(b)) => b,
        Ok(Err(_)) => return ApiError::from(ErrorCode::PayloadTooLarge).into_response(),
        Err(_) => return ApiError::from(ErrorCode::RequestTimeout).into_response(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes))).await
}

/// A connection whose automatic error answers are explained (see the
/// module docs).
pub struct Explained<IO> {
    io: IO,
    /// The start of the current request as read (for its language).
    seen: Vec<u8>,
    /// A replacement answer being written, and how far.
    pending: Option<(Vec<u8>, usize)>,
    /// The buffer hyper is writing was replaced: report it written once the
    /// replacement is out (hyper repeats a write that returned pending).
    swallowed: bool,
}

/// How much of a request's start is kept to find its `Accept-Language`:
/// as much as hyper reads for a head (its read buffer), so the header is
/// found even after a 100 KB path. Only a huge request keeps much, and only
/// until it is answered.
const SEEN_MAX: usize = 400 * 1024;

impl<IO> Explained<IO> {
    pub fn new(io: IO) -> Self {
        Explained { io, seen: Vec::new(), pending: None, swallowed: false }
    }
}

/// hyper's own answer to a request it could not parse: an error status, no
/// body, no content type. (Bangka's own errors always carry the envelope.)
fn automatic_error(buf: &[u8]) -> Option<StatusCode> {
    let head = buf.strip_prefix(b"HTTP/1.1 ")?;
    let status: u16 = std::str::from_utf8(head.get(..3)?).ok()?.parse().ok()?;
    let text = String::from_utf8_lossy(buf).to_ascii_lowercase();
    let bare = text.contains("\r\ncontent-length: 0\r\n") && !text.contains("\r\ncontent-type:");
    (status >= 400 && bare).then(|| StatusCode::from_u16(status).ok()).flatten()
}

/// The language a raw request asked for (`Accept-Language`), if it got as
/// far as saying.
fn lang_of(seen: &[u8]) -> Lang {
    let text = String::from_utf8_lossy(seen).to_ascii_lowercase();
    let value = text.split("\r\n").find_map(|l| l.strip_prefix("accept-language:")).map(str::trim);
    Lang::from_accept_language(value)
}

fn explained_answer(status: StatusCode, seen: &[u8]) -> Vec<u8> {
    let code = code_for_status(status);
    let lang = lang_of(seen);
    let request_id = bangka_store::new_id("req");
    let pending = PendingError { failure: code.into(), attempt_id: None };
    let body = envelope(&pending, lang, &request_id).to_string();
    let status = StatusCode::from_u16(code.entry().http_status).unwrap_or(status);
    tracing::info!(code = code.as_str(), status = status.as_u16(), request_id, "request could not be parsed");
    format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json; charset=utf-8\r\ncontent-language: {}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        status.as_u16(),
        status.canonical_reason().unwrap_or(""),
        lang.tag(),
        body.len()
    )
    .into_bytes()
}

impl<IO: AsyncWrite + Unpin> Explained<IO> {
    /// Writes what is left of a replacement answer.
    fn drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, at)) = &mut self.pending {
            if *at == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.io).poll_write(cx, &bytes[*at..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *at += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncRead + Unpin> AsyncRead for Explained<IO> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        ready!(Pin::new(&mut self.io).poll_read(cx, buf))?;
        let fresh = &buf.filled()[before..];
        // A new request starts after the previous answer was written.
        if self.seen.len() < SEEN_MAX {
            let take = fresh.len().min(SEEN_MAX - self.seen.len());
            let fresh = fresh[..take].to_vec();
            self.seen.extend_from_slice(&fresh);
        }
        Poll::Ready(Ok(()))
    }
}

impl<IO: AsyncWrite + Unpin> AsyncWrite for Explained<IO> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        ready!(self.drain(cx))?;
        if std::mem::take(&mut self.swallowed) {
            return Poll::Ready(Ok(buf.len()));
        }
        if let Some(status) = automatic_error(buf) {
            let answer = explained_answer(status, &self.seen);
            self.pending = Some((answer, 0));
            self.swallowed = true;
            ready!(self.drain(cx))?;
            self.swallowed = false;
            return Poll::Ready(Ok(buf.len()));
        }
        // An answer is going out: the next bytes read are a new request.
        self.seen.clear();
        Pin::new(&mut self.io).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        ready!(self.drain(cx))?;
        Pin::new(&mut self.io).poll_shutdown(cx)
    }

    // One contiguous buffer per write, so an automatic answer is seen whole.
    fn is_write_vectored(&self) -> bool {
        false
    }
}
