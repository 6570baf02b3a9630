//! [`Idempotent`]: the extractor every state-changing handler takes last.
//! It reads what makes a request the same request — the `Idempotency-Key`,
//! the route (method and path, so one key cannot be replayed against
//! another resource) and the raw body — and runs the flow once per key as
//! one unit of work ([`crate::idempotency::run`]), parsing the body the way
//! the operation takes it: [`Idempotent::json`], [`Idempotent::optional_json`]
//! or [`Idempotent::empty`] (and `*_shown_once` for an answer holding a
//! secret). No handler types its route by hand.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::body::{parse_json, parse_optional_json};
use crate::auth::Principal;
use crate::error::ApiResult;
use crate::idempotency;
use crate::state::AppState;
use crate::views::Answer as Typed;

/// A state-changing request: its key (checked: 1–255 visible ASCII), its
/// route and its body, not yet parsed.
pub struct Idempotent {
    key: Option<String>,
    route: String,
    headers: HeaderMap,
    body: Bytes,
}

impl FromRequest<AppState> for Idempotent {
    /// A bad key is a catalog error; a body too large or cut off is axum's
    /// own answer, which the error renderer explains like any other.
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        // The key is judged before the body: a bad key is the first thing wrong.
        let key = idempotency::key_from(req.headers()).map_err(IntoResponse::into_response)?;
        let route = format!("{} {}", req.method(), req.uri().path());
        let headers = req.headers().clone();
        let body = Bytes::from_request(req, state).await.map_err(IntoResponse::into_response)?;
        Ok(Idempotent { key, route, headers, body })
    }
}

impl Idempotent {
    /// The operation takes a JSON object body. The flow is in the
    /// read-decide-apply shape (see [`idempotency::run`]): it may run twice,
    /// so it is called with its own copy of the state, and a second run
    /// parses the body again (a card number is not copied around to run
    /// again).
    pub async fn json<T, F, B>(self, app: &AppState, who: &Principal, flow: impl Fn(AppState, T) -> F + Sync) -> ApiResult<Response>
    where
        T: DeserializeOwned + Send,
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        self.run(app, who, &[], |h, b| Ok(parse_json::<T>(h, b)?), flow).await
    }

    /// As [`Idempotent::json`], for an answer holding a secret
    /// shown once (`shown_once` fields are not kept in the stored answer).
    pub async fn json_shown_once<T, F, B>(
        self,
        app: &AppState,
        who: &Principal,
        shown_once: &[&str],
        flow: impl Fn(AppState, T) -> F + Sync,
    ) -> ApiResult<Response>
    where
        T: DeserializeOwned + Send,
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        self.run(app, who, shown_once, |h, b| Ok(parse_json::<T>(h, b)?), flow).await
    }

    /// As [`Idempotent::json_shown_once`], for a body that may be
    /// left out.
    pub async fn optional_json_shown_once<T, F, B>(
        self,
        app: &AppState,
        who: &Principal,
        shown_once: &[&str],
        flow: impl Fn(AppState, T) -> F + Sync,
    ) -> ApiResult<Response>
    where
        T: DeserializeOwned + Default + Send,
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        self.run(app, who, shown_once, |h, b| Ok(parse_optional_json::<T>(h, b)?), flow).await
    }

    /// As [`Idempotent::json`], for a body that may be left out.
    pub async fn optional_json<T, F, B>(
        self,
        app: &AppState,
        who: &Principal,
        flow: impl Fn(AppState, T) -> F + Sync,
    ) -> ApiResult<Response>
    where
        T: DeserializeOwned + Default + Send,
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        self.run(app, who, &[], |h, b| Ok(parse_optional_json::<T>(h, b)?), flow).await
    }

    /// The path is the whole request (a body, if any, is not read), for a flow
    /// in the read-decide-apply shape.
    pub async fn empty<F, B>(mut self, app: &AppState, who: &Principal, flow: impl Fn(AppState) -> F + Sync) -> ApiResult<Response>
    where
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        // The path is the whole request: its body is neither read nor part
        // of the request's fingerprint.
        self.body = Bytes::new();
        self.run(app, who, &[], |_, _| Ok(()), |app, ()| flow(app)).await
    }

    async fn run<T, F, B>(
        self,
        app: &AppState,
        who: &Principal,
        shown_once: &[&str],
        parse: impl Fn(&HeaderMap, &[u8]) -> ApiResult<T> + Sync,
        flow: impl Fn(AppState, T) -> F + Sync,
    ) -> ApiResult<Response>
    where
        T: Send,
        F: Future<Output = ApiResult<Typed<B>>> + Send,
        B: serde::Serialize,
    {
        let (headers, body) = (&self.headers, &self.body);
        // Parsed once for the first run; again only if it decides again.
        let first = std::sync::Mutex::new(Some(parse(headers, body)?));
        let run = |app| {
            let parsed = first.lock().unwrap_or_else(std::sync::PoisonError::into_inner).take();
            let req = parsed.map_or_else(|| parse(headers, body), Ok);
            let flow = &flow;
            async move { flow(app, req?).await?.written() }
        };
        idempotency::run(app, who, self.key, &self.route, body, shown_once, run).await
    }
}
