//! What the API shows: response bodies, built from store rows. Only masked
//! card facts ever appear here.

use bangka_core::card::mask_pan_digits;
use bangka_store::{AccountRow, ActivationRow, BindingRow, ChallengeRow, PaymentOp, PaymentRow, TokenRow};
use serde::Serialize;
use utoipa::ToSchema;

pub use crate::error::rfc3339;

/// What a flow answers: a status and its typed body, written to JSON only
/// by the response (or by the runner that keeps an idempotent request's
/// answer for its replay: [`Written`]).
#[derive(Debug)]
pub struct Answer<T> {
    pub status: axum::http::StatusCode,
    pub body: T,
}

impl<T: Serialize> Answer<T> {
    pub fn ok(body: T) -> Self {
        Answer { status: axum::http::StatusCode::OK, body }
    }

    pub fn created(body: T) -> Self {
        Answer { status: axum::http::StatusCode::CREATED, body }
    }

    pub fn accepted(body: T) -> Self {
        Answer { status: axum::http::StatusCode::ACCEPTED, body }
    }

    /// The answer as written: what the runner keeps and replays.
    pub fn written(self) -> crate::error::ApiResult<Written> {
        Ok(Written { status: self.status, body: serde_json::to_value(self.body).map_err(anyhow::Error::from)? })
    }
}

impl<T: Serialize> axum::response::IntoResponse for Answer<T> {
    fn into_response(self) -> axum::response::Response {
        (self.status, axum::Json(self.body)).into_response()
    }
}

/// The answer of a two-step operation: the first call sends a code and
/// waits for it (`202`, `Waiting`), the call with the code does it (`Done`).
/// Written as the one or the other, unchanged (no tag).
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum Stepped<W, D> {
    Waiting(W),
    Done(D),
}

/// A document Bangka signed (a receipt, an evidence bundle): the JSON as
/// signed (`receipt` and its Ed25519 `signature`), carried unchanged, since
/// the signature covers its exact canonical form.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct SignedDocument(pub serde_json::Value);

/// An answer written to JSON: an idempotent request's, kept to be replayed
/// byte for byte (secrets in it sealed: `idempotency::SEALED_FIELDS`).
#[derive(Debug)]
pub struct Written {
    pub status: axum::http::StatusCode,
    pub body: serde_json::Value,
}

/// One page of a list (`?limit=&starting_after=`, `http::list`): the items
/// in the list's order and whether more follow. Each list has its own named
/// type, so generated clients get `BindingList`, not a generic wrapper.
macro_rules! list_view {
    ($(#[$doc:meta])* $name:ident of $item:ty) => {
        $(#[$doc])*
        #[derive(serde::Serialize, utoipa::ToSchema)]
        pub struct $name {
            pub data: Vec<$item>,
            /// More items follow: ask again with `starting_after` set to the
            /// last item's id.
            pub has_more: bool,
        }

        impl $name {
            pub fn new(page: bangka_store::Page<$item>) -> Self {
                $name { data: page.items, has_more: page.has_more }
            }
        }
    };
}
pub(crate) use list_view;

list_view!(
    /// The account's bindings, newest first.
    BindingList of BindingView
);
list_view!(
    /// The card's payments, newest first.
    PaymentList of PaymentView
);
list_view!(
    /// The account's devices, most recently used first.
    DeviceList of DeviceView
);
list_view!(
    /// Tickets: an account's newest first; the agents' queue soonest deadline first.
    TicketList of TicketView
);
list_view!(
    /// Reviews: an account's newest first; the reviewers' queue oldest first.
    ReviewList of ReviewView
);
/// The account's signed receipts, newest first (each as it was signed).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReceiptList {
    #[schema(value_type = Vec<SignedDocumentView>)]
    pub data: Vec<serde_json::Value>,
    /// More items follow: ask again with `starting_after` set to the last
    /// receipt's `receipt.id`.
    pub has_more: bool,
}
list_view!(
    /// The account's attempts, newest first.
    AttemptList of AttemptView
);
list_view!(
    /// Test cards (demo).
    DemoCardList of DemoCardView
);

/// A state held as its enum until it is written, and listed whole in the
/// document: a field of type `T` says `#[schema(schema_with =
/// crate::views::states::<T>)]`, and the document gets an `enum` of every
/// value `T` has (issue 26: states were strings with the values in prose).
pub trait States: Sized + Copy + 'static {
    const ALL: &'static [Self];
    fn name(self) -> &'static str;
}

/// The document's schema for a state of type `T`: a string, one of `T`'s values.
pub fn states<T: States>() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(T::ALL.iter().map(|s| s.name())))
        .build()
}

macro_rules! states {
    ($($t:ty),+ $(,)?) => {$(
        impl States for $t {
            const ALL: &'static [Self] = &<$t>::ALL;
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    )+};
}

states!(
    bangka_core::api_version::ApiVersion,
    bangka_core::bind::AccountStatus,
    bangka_core::bind::KycState,
    bangka_core::binding::BindingStatus,
    bangka_core::binding::ActivationStatus,
    bangka_core::token::TokenStatus,
    bangka_core::payment::PaymentStatus,
    bangka_core::payment::OpStatus,
    bangka_core::mandate::MandateStatus,
    bangka_core::review::ReviewStatus,
    bangka_core::ticket::TicketStatus,
    bangka_core::settlement::SettlementStatus,
    HealthStatus,
);

/// What a health check answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HealthStatus {
    /// Alive (`/healthz`).
    Ok,
    /// Ready to serve (`/readyz`).
    Ready,
    NotReady,
}

impl HealthStatus {
    pub const ALL: [HealthStatus; 3] = [HealthStatus::Ok, HealthStatus::Ready, HealthStatus::NotReady];

    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Ok => "ok",
            HealthStatus::Ready => "ready",
            HealthStatus::NotReady => "not_ready",
        }
    }
}

/// A moment in an answer, typed until it is written: RFC 3339 in UTC to the
/// millisecond (`2026-12-07T22:43:59.285Z`, [`rfc3339`]), `format:
/// date-time` in the document (each field says so: `#[schema(value_type =
/// String, format = DateTime)]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(pub time::OffsetDateTime);

impl From<time::OffsetDateTime> for Timestamp {
    fn from(t: time::OffsetDateTime) -> Timestamp {
        Timestamp(t)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&rfc3339(self.0))
    }
}
use bangka_core::otp::OtpRules;

#[derive(Debug, Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub phone_masked: String,
    /// `unverified`, `verified` or `rejected`.
    #[schema(schema_with = crate::views::states::<bangka_core::bind::KycState>)]
    pub kyc_status: bangka_core::bind::KycState,
    /// `active`, `frozen` (by the holder; see `frozen_reason`) or `closed`.
    #[schema(schema_with = crate::views::states::<bangka_core::bind::AccountStatus>)]
    pub status: bangka_core::bind::AccountStatus,
    /// Why the holder froze the account, while it is frozen.
    pub frozen_reason: Option<String>,
    /// A risk lock's end, while one runs.
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    /// Whether a payment password is set (the password itself is never shown).
    pub payment_password_set: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// The language of the holder's notices (`zh-CN` or `en`).
    pub language: String,
    /// Where notices also go by email, masked (`l***@example.com`).
    pub email_masked: Option<String>,
    /// Whether the account phone was verified (the sign-up is complete).
    pub phone_verified: bool,
    /// On opening: the SMS code that finishes the sign-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_action: Option<NextAction>,
    /// After real-name verification: what was verified, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub real_name_masked: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_number_masked: Option<String>,
    /// After an account freeze: what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<Vec<NextStepView>>,
}

/// One thing to do next, in the holder's words, with the call that does it.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextStepView {
    pub step: String,
    /// The call, for the wallet developer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub developer: Option<serde_json::Value>,
}

impl AccountView {
    /// The account at `now` (a risk lock that has ended is not shown).
    pub fn from_row(a: &AccountRow, now: time::OffsetDateTime) -> Self {
        let masked = bangka_core::holder::Phone::parse(&a.phone).map(|p| p.masked()).unwrap_or_else(|_| "***".into());
        AccountView {
            id: a.id.clone(),
            phone_masked: masked,
            kyc_status: a.kyc,
            status: a.status,
            frozen_reason: a.frozen_reason.map(|r| r.as_str().into()),
            locked_until: a.locked_until.filter(|u| *u > now).map(Timestamp),
            payment_password_set: a.payment_password_set_at.is_some(),
            created_at: Timestamp(a.created_at),
            language: a.language.clone(),
            email_masked: a.email.as_deref().map(bangka_core::holder::mask_email),
            phone_verified: a.phone_verified_at.is_some(),
            next_action: None,
            real_name_masked: None,
            id_number_masked: None,
            next_steps: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CardView {
    pub bin: String,
    pub last4: String,
    /// First 6 and last 4 digits at most.
    pub masked: String,
    pub brand: String,
    #[serde(rename = "type")]
    pub card_type: String,
    pub issuer: String,
    pub expiry: Option<String>,
}

fn masked_from_parts(bin: &str, last4: &str, card_type_len: usize) -> String {
    // Rebuild a mask of the right length without the PAN: BIN + stars + last 4.
    let middle = card_type_len.saturating_sub(bin.len() + 4);
    mask_pan_digits(&format!("{bin}{}{last4}", "0".repeat(middle)))
}

/// A card as support may see it, from its BIN and last four alone.
pub fn masked_card(bin: &str, last4: &str) -> String {
    masked_from_parts(bin, last4, card_length(bin))
}

fn card_length(bin: &str) -> usize {
    bangka_core::bin::BIN_TABLE.iter().find(|r| r.prefix == bin).map(|r| r.length).unwrap_or(16)
}

impl CardView {
    pub fn from_binding(b: &BindingRow) -> Self {
        CardView {
            bin: b.bin.clone(),
            last4: b.last4.clone(),
            masked: masked_from_parts(&b.bin, &b.last4, card_length(&b.bin)),
            brand: b.brand.clone(),
            card_type: b.card_type.clone(),
            issuer: b.issuer.clone(),
            expiry: b.expiry.clone(),
        }
    }

    pub fn from_activation(a: &ActivationRow) -> Self {
        let range = bangka_core::bin::BIN_TABLE.iter().find(|r| r.prefix == a.bin);
        CardView {
            bin: a.bin.clone(),
            last4: a.last4.clone(),
            masked: masked_from_parts(&a.bin, &a.last4, card_length(&a.bin)),
            brand: range.map(|r| r.brand.as_str()).unwrap_or("unknown").into(),
            card_type: range.map(|r| r.card_type.as_str()).unwrap_or("unknown").into(),
            issuer: a.issuer.clone(),
            expiry: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub number_last4: String,
    /// `active`, `suspended` or `deleted`.
    #[schema(schema_with = crate::views::states::<bangka_core::token::TokenStatus>)]
    pub status: bangka_core::token::TokenStatus,
    /// Who suspended it: `holder`, `wallet`, `issuer`, `risk` or `system`.
    /// A suspension by the issuer or risk control can only be lifted by them.
    pub suspended_by: Option<String>,
    /// Why, e.g. `holder_request`, `lost`, `stolen`, `fraud`, `card_reissued`.
    pub reason: Option<String>,
    /// The application transaction counter: cryptograms issued so far.
    pub atc: i64,
}

impl TokenView {
    pub fn from_row(t: &TokenRow) -> Self {
        TokenView {
            number_last4: t.number[t.number.len() - 4..].to_owned(),
            status: t.state.status,
            suspended_by: t.state.suspended_by.map(|a| a.as_str().into()),
            reason: t.state.reason.map(|r| r.as_str().into()),
            atc: t.atc,
        }
    }
}

/// What the holder must do next.
#[derive(Debug, Serialize, ToSchema)]
pub struct NextAction {
    /// `otp`: enter the SMS code sent to `masked_phone`.
    #[serde(rename = "type")]
    pub kind: String,
    pub challenge_id: String,
    pub masked_phone: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub resend_available_at: Timestamp,
    pub attempts_remaining: u32,
}

impl NextAction {
    pub fn otp(c: &ChallengeRow, rules: &OtpRules) -> Self {
        let masked = bangka_core::holder::Phone::parse(&c.phone).map(|p| p.masked()).unwrap_or_else(|_| "***".into());
        NextAction {
            kind: "otp".into(),
            challenge_id: c.challenge.id.clone(),
            masked_phone: masked,
            expires_at: Timestamp(c.challenge.expires_at),
            resend_available_at: Timestamp(c.challenge.resend_available_at(rules)),
            attempts_remaining: rules.max_attempts.saturating_sub(c.challenge.attempts),
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BindingView {
    pub id: String,
    /// `pending_verification`, `active`, `frozen`, `unbinding`, `unbound`, `deleted` or `failed`.
    #[schema(schema_with = crate::views::states::<bangka_core::binding::BindingStatus>)]
    pub status: bangka_core::binding::BindingStatus,
    pub card: CardView,
    /// While frozen: `holder_request`, `phone_lost`, `suspicious_activity`, `card_lost` or `card_stolen`.
    pub frozen_reason: Option<String>,
    pub token: Option<TokenView>,
    pub next_action: Option<NextAction>,
    pub attempt_id: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub activated_at: Option<Timestamp>,
    /// After a lost or stolen report: whether the bank was told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_notified: Option<bool>,
    /// When the bank could not be told: what to do, in the holder's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_advice: Option<String>,
    /// After an unbind is confirmed: when the cooling-off ends.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub cooling_off_ends_at: Option<Timestamp>,
    /// After an unbind is confirmed: the autopay agreements it cancelled.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cancelled_mandates: Option<Vec<String>>,
    /// After an unbind is confirmed: how to take it back.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoke: Option<Link>,
}

impl BindingView {
    pub fn new(b: &BindingRow, token: Option<&TokenRow>, next: Option<NextAction>, attempt_id: Option<String>) -> Self {
        BindingView {
            id: b.id.clone(),
            status: b.status,
            card: CardView::from_binding(b),
            frozen_reason: b.frozen_reason.map(|r| r.as_str().into()),
            token: token.map(TokenView::from_row),
            next_action: next,
            attempt_id,
            created_at: Timestamp(b.created_at),
            activated_at: b.activated_at.map(Timestamp),
            issuer_notified: None,
            issuer_advice: None,
            cooling_off_ends_at: None,
            cancelled_mandates: None,
            revoke: None,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationView {
    pub id: String,
    /// `pending_verification`, `activating` (the bank was asked and has not
    /// confirmed yet), `activated` or `failed`.
    #[schema(schema_with = crate::views::states::<bangka_core::binding::ActivationStatus>)]
    pub status: bangka_core::binding::ActivationStatus,
    pub card: CardView,
    pub next_action: Option<NextAction>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// After activation: what to do next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_steps: Option<Vec<ActivationStepView>>,
    /// While the bank has not confirmed the activation (its answer was
    /// lost): what the holder is told and when to look again. Bangka asks
    /// the bank in the background and tells the holder by SMS.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<ConfirmationView>,
}

/// After an activation: the next thing to do.
#[derive(Debug, Serialize, ToSchema)]
pub struct ActivationStepView {
    /// `bind`.
    #[serde(rename = "type")]
    pub kind: String,
    /// In the holder's language.
    pub hint: String,
    pub developer: Link,
}

impl ActivationView {
    pub fn new(a: &ActivationRow, next: Option<NextAction>) -> Self {
        ActivationView {
            id: a.id.clone(),
            status: a.status,
            card: CardView::from_activation(a),
            next_action: next,
            created_at: Timestamp(a.created_at),
            next_steps: None,
            confirmation: (a.status == bangka_core::binding::ActivationStatus::Activating).then(|| ConfirmationView {
                message: crate::i18n::say(
                    "银行尚未确认激活。我们会继续向银行查询，有结果后短信通知您；在此之前无需重新激活。",
                    "The bank has not confirmed the activation yet. We keep asking and will text you as soon as it does; there is no need to activate again meanwhile.",
                )
                .get(crate::i18n::current())
                .to_owned(),
                check_again_at: Timestamp(a.updated_at + bangka_core::payment::RETRY_OPS_AFTER),
            }),
        }
    }
}

/// An amount in minor units with its currency.
#[derive(Debug, Serialize, ToSchema)]
pub struct AmountView {
    /// Minor units (fen).
    pub minor: i64,
    pub currency: String,
}

/// Why a payment did not go through: a catalog code and its help page.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReasonView {
    pub code: String,
    pub doc_url: String,
}

impl ReasonView {
    fn of(code: &str) -> Self {
        ReasonView { code: code.into(), doc_url: format!("/help/errors/{code}") }
    }
}

/// One call to the issuer a payment made or is making.
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentOpView {
    /// `authorize`, `capture` or `refund`.
    pub kind: String,
    pub amount: i64,
    /// `pending` (the bank has not confirmed yet; retried automatically), `done` or `failed`.
    #[schema(schema_with = crate::views::states::<bangka_core::payment::OpStatus>)]
    pub status: bangka_core::payment::OpStatus,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A payment (a consumption record, 消费记录).
#[derive(Debug, Serialize, ToSchema)]
pub struct PaymentView {
    pub id: String,
    /// `pending`, `authorized`, `declined`, `failed`, `voided`, `captured`,
    /// `partially_refunded` or `refunded`.
    #[schema(schema_with = crate::views::states::<bangka_core::payment::PaymentStatus>)]
    pub status: bangka_core::payment::PaymentStatus,
    pub amount: AmountView,
    pub captured: i64,
    pub refunded: i64,
    pub merchant_id: String,
    /// The autopay agreement it was charged under (absent when the holder
    /// confirmed this payment itself).
    pub mandate_id: Option<String>,
    pub binding_id: String,
    pub card: CardView,
    /// Why it was declined or failed, as the payer is told.
    pub reason: Option<ReasonView>,
    /// Operators only: the issuer's precise reason (e.g. the card was
    /// reported lost), which the payer is not told.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer_reason: Option<ReasonView>,
    pub operations: Vec<PaymentOpView>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub updated_at: Timestamp,
    /// While the bank has not confirmed the payment (its answer was lost on
    /// the way): what the holder is told and when to look again. Bangka asks
    /// the bank in the background and tells the holder when it knows.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub confirmation: Option<ConfirmationView>,
}

/// A payment or activation waiting for the bank's confirmation.
#[derive(Debug, Serialize, ToSchema)]
pub struct ConfirmationView {
    pub message: String,
    /// RFC 3339: read the payment (`GET /v1/payments/{pid}`) or activation
    /// again from then.
    #[schema(value_type = String, format = DateTime)]
    pub check_again_at: Timestamp,
}

impl PaymentView {
    pub fn new(p: &PaymentRow, b: &BindingRow, ops: &[PaymentOp], for_ops: bool) -> Self {
        PaymentView {
            id: p.id.clone(),
            status: p.status,
            amount: AmountView { minor: p.amount, currency: p.currency.clone() },
            captured: p.captured,
            refunded: p.refunded,
            merchant_id: p.merchant_id.clone(),
            mandate_id: p.mandate_id.clone(),
            binding_id: p.binding_id.clone(),
            card: CardView::from_binding(b),
            reason: p.shown_code.as_deref().map(ReasonView::of),
            issuer_reason: if for_ops { p.decline_code.as_deref().map(ReasonView::of) } else { None },
            operations: ops
                .iter()
                .map(|o| PaymentOpView {
                    kind: o.kind.as_str().into(),
                    amount: o.amount,
                    status: o.status,
                    created_at: Timestamp(o.created_at),
                })
                .collect(),
            created_at: Timestamp(p.created_at),
            updated_at: Timestamp(p.updated_at),
            confirmation: (p.status.as_str() == "pending").then(|| ConfirmationView {
                message: crate::i18n::say(
                    "银行尚未确认这笔付款。我们会继续向银行查询，有结果后立即通知您；在此之前请不要重复付款。",
                    "The bank has not confirmed this payment yet. We keep asking and will tell you as soon as it does; please do not pay again meanwhile.",
                )
                .get(crate::i18n::current())
                .to_owned(),
                check_again_at: Timestamp(p.updated_at + bangka_core::payment::RETRY_OPS_AFTER),
            }),
        }
    }
}

/// A time as a holder reads it in a notice: Beijing time (UTC+8), to the
/// minute, in each language's way ("11月26日 09:22", "26 Nov 09:22 Beijing
/// time"); answers keep RFC 3339 for programs.
pub fn holder_time(t: time::OffsetDateTime) -> (String, String) {
    let b = t.to_offset(time::macros::offset!(+8));
    const MONTHS: [&str; 12] = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
    let month = u8::from(b.month());
    (
        format!("{month}月{}日 {:02}:{:02}", b.day(), b.hour(), b.minute()),
        format!("{} {} {:02}:{:02} Beijing time", b.day(), MONTHS[usize::from(month - 1)], b.hour(), b.minute()),
    )
}

/// Today's date in China (UTC+8): ages and birthdays count by it.
pub fn beijing_date(t: time::OffsetDateTime) -> time::Date {
    t.to_offset(time::macros::offset!(+8)).date()
}

#[cfg(test)]
mod holder_time_tests {
    #[test]
    fn notices_read_beijing_time_to_the_minute() {
        let t = time::macros::datetime!(2026-11-26 01:22:17.118 UTC);
        assert_eq!(super::holder_time(t), ("11月26日 09:22".to_owned(), "26 Nov 09:22 Beijing time".to_owned()));
        let late = time::macros::datetime!(2026-12-31 16:05 UTC);
        assert_eq!(super::holder_time(late).0, "1月1日 00:05");
    }
}

/// A method and path to call next (for the wallet developer).
#[derive(Debug, Serialize, ToSchema)]
pub struct Link {
    pub method: String,
    pub path: String,
}

impl Link {
    pub fn post(path: String) -> Link {
        Link { method: "POST".into(), path }
    }
}

/// An SMS code was sent for a payment's terms (`POST …/cryptograms/otp`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeSentView {
    pub binding_id: String,
    pub next_action: NextAction,
}

/// A one-time cryptogram for exactly these terms (`POST …/cryptograms`).
#[derive(Debug, Serialize, ToSchema)]
pub struct CryptogramView {
    /// The card's token number (never the card number).
    pub token_number: String,
    /// 16 hexadecimal digits; good for one payment until `expires_at`.
    pub cryptogram: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    /// The token's application transaction counter.
    pub atc: i64,
    /// In minor units (fen).
    pub amount: i64,
    pub currency: String,
    pub merchant_id: String,
    pub binding_id: String,
}

/// An unbind (or delete) waiting for its SMS code (`POST …/unbind`, `POST …/delete`).
#[derive(Debug, Serialize, ToSchema)]
pub struct UnbindRequestedView {
    pub unbind_request_id: String,
    pub binding_id: String,
    pub next_action: NextAction,
    /// `sms_code`, and `payment_password` when it is needed too.
    pub verification: Vec<String>,
    /// Autopay agreements the unbind will cancel.
    pub will_cancel_mandates: Vec<String>,
    /// The card's data is destroyed when the unbind completes.
    pub delete: bool,
    pub cooling_off_seconds: i64,
    pub confirm: Link,
}

/// Where a holder takes a matter support could not resolve.
#[derive(Debug, Serialize, ToSchema)]
pub struct EscalationRoute {
    pub name: String,
    pub how: Option<String>,
    pub phone: Option<String>,
}

/// One event of a ticket's history, as the holder sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketEventView {
    /// `open`, `escalate`, `resolve`, `close`, `close_unresolved` (and, for agents, `comment`, `unlock`,
    /// `message`, `reply`, `attachment`: the thread is also in the ticket's `messages`).
    pub kind: String,
    /// `holder`, `support` or `system` (agents see the operator).
    pub by: String,
    pub body: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// Who wrote a message on a ticket.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageFrom {
    Holder,
    Agent,
}

impl MessageFrom {
    pub const ALL: [MessageFrom; 2] = [MessageFrom::Holder, MessageFrom::Agent];

    pub fn as_str(self) -> &'static str {
        match self {
            MessageFrom::Holder => "holder",
            MessageFrom::Agent => "agent",
        }
    }
}

states!(MessageFrom);

/// A document attached to a ticket message: a typed reference.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttachmentView {
    /// `screenshot`, `bank_proof` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

/// One message of a ticket's thread: the holder's words (the opening note
/// first) and the agents' replies; an agent's internal notes only to agents.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketMessageView {
    #[schema(schema_with = crate::views::states::<MessageFrom>)]
    pub from: MessageFrom,
    pub text: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    pub attachments: Vec<AttachmentView>,
    /// Agents only: a note the holder never sees.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub internal: bool,
}

/// A support ticket.
#[derive(Debug, Serialize, ToSchema)]
pub struct TicketView {
    /// `BK-YYYYMMDD-NNNNNN`.
    pub number: String,
    /// `open`, `escalated`, `resolved` or `closed`.
    #[schema(schema_with = crate::views::states::<bangka_core::ticket::TicketStatus>)]
    pub status: bangka_core::ticket::TicketStatus,
    /// `issuer`, `account`, `risk`, `payment`, `card` or `other`.
    pub category: String,
    #[schema(value_type = String, format = DateTime)]
    pub sla_due_at: Timestamp,
    pub overdue: bool,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    pub error_code: Option<String>,
    pub note: Option<String>,
    /// What was attached automatically: the error, the attempt, the card, the
    /// account (masked), the device, the diagnosis, recent payments, attachments.
    #[schema(value_type = Object)]
    pub context: serde_json::Value,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub escalated_at: Option<Timestamp>,
    pub escalation_reason: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<Timestamp>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub closed_at: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// `resolved`, or `unresolved` for a ticket closed without a resolution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// For an unresolved ticket: where to take the matter next.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalation_routes: Option<Vec<EscalationRoute>>,
    /// The history (on `GET` of one ticket).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub events: Option<Vec<TicketEventView>>,
    /// The thread (on `GET` of one ticket), oldest first.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<TicketMessageView>>,
    /// Agents only: the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Agents only: the bank's precise answer on the attempt.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt_code: Option<String>,
}

/// A review's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewDecisionView {
    /// Why, as told to the holder.
    pub reason: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub decided_at: Timestamp,
}

/// A supporting document: a reference the wallet stored, never the image.
#[derive(Debug, Serialize, ToSchema)]
pub struct MaterialView {
    /// `id_front`, `id_back`, `bank_card`, `selfie` or `other`.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(rename = "ref")]
    pub reference: String,
}

/// A manual review.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: String,
    /// `risk_lock`, `bind`, `unbind`, `info_change`, `kyc`, `phone_change` or `unfreeze`.
    pub kind: String,
    /// `submitted`, `approved`, `rejected`, `withdrawn` (by the holder) or
    /// `void` (the account changed under it before a decision).
    #[schema(schema_with = crate::views::states::<bangka_core::review::ReviewStatus>)]
    pub status: bangka_core::review::ReviewStatus,
    pub statement: String,
    pub materials: Vec<MaterialView>,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    /// A phone change's requested number, masked.
    pub new_phone_masked: Option<String>,
    pub decision: Option<ReviewDecisionView>,
    /// A waiting `phone_change` or `unfreeze` review: the earliest time a
    /// reviewer may approve it (a day after it was sent, so the holder can
    /// withdraw one they did not send).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub approvable_from: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
    /// Reviewers only: the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// On approval: the locks the decision lifted (`account`, `card`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub released: Option<Vec<String>>,
    /// `info_change` and `kyc`, while waiting: the name and ID number asked
    /// for, masked (what a reviewer decides on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested: Option<KycValuesView>,
    /// Reviewers only: the account as it is now, masked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account: Option<ReviewAccountView>,
}

/// A real name and ID number, masked.
#[derive(Debug, Serialize, ToSchema)]
pub struct KycValuesView {
    pub real_name_masked: String,
    pub id_number_masked: String,
}

/// The account a review is about, as a reviewer sees it (masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewAccountView {
    pub phone_masked: String,
    /// `active`, `frozen` or `closed`.
    #[schema(schema_with = crate::views::states::<bangka_core::bind::AccountStatus>)]
    pub status: bangka_core::bind::AccountStatus,
    pub frozen_reason: Option<String>,
    /// `unverified`, `verified` or `rejected`.
    #[schema(schema_with = crate::views::states::<bangka_core::bind::KycState>)]
    pub kyc_status: bangka_core::bind::KycState,
    /// The real-name record on file, if any.
    pub real_name_masked: Option<String>,
    pub id_number_masked: Option<String>,
}

/// A message the demo phone (or push, or email) received.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxMessageView {
    pub id: String,
    /// `sms`, `voice`, `push` or `email`.
    pub channel: String,
    pub to: String,
    pub body: String,
    #[schema(value_type = String, format = DateTime)]
    pub received_at: Timestamp,
}

/// Demo: what a phone number, account (push) or email address received, newest first.
#[derive(Debug, Serialize, ToSchema)]
pub struct InboxView {
    pub recipient: String,
    pub phone: String,
    pub messages: Vec<InboxMessageView>,
}

/// Demo: a simulator test card as a person types it, and how a bind of it ends.
#[derive(Debug, Serialize, ToSchema)]
pub struct DemoCardView {
    pub scenario: String,
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
    /// `MM/YY`, credit cards only.
    pub expiry: Option<String>,
    /// Credit cards only.
    pub cvv: Option<String>,
    pub issuer: String,
    /// `debit`, `credit` or `prepaid`.
    pub card_type: String,
    /// The code a bind answers (`null`: it binds).
    pub expect_code: Option<String>,
    /// The bank's own code, when the holder is told a safe form instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bank_code: Option<String>,
    pub note: String,
}

/// A test card as the demo shows it: what a bind answers (a fraud-sensitive
/// cause in its safe form), with the bank's own code beside it
/// (docs/safe-messages.md).
impl From<bangka_issuer::TestCard> for DemoCardView {
    fn from(c: bangka_issuer::TestCard) -> DemoCardView {
        let code = c.expect_code.and_then(bangka_core::ErrorCode::parse);
        let safe = code.map(|c| c.for_new_card());
        DemoCardView {
            scenario: c.scenario.into(),
            card_number: c.card_number,
            holder_name: c.holder_name,
            id_number: c.id_number,
            phone: c.phone,
            expiry: c.expiry,
            cvv: c.cvv,
            issuer: c.issuer.into(),
            card_type: c.card_type.into(),
            expect_code: safe.map(|c| c.as_str().into()),
            bank_code: code.filter(|c| Some(*c) != safe).map(|c| c.as_str().into()),
            note: c.note.into(),
        }
    }
}

/// Who an operator key belongs to and what it may do.
#[derive(Debug, Serialize, ToSchema)]
pub struct OperatorView {
    /// `support`, `risk` or `admin`.
    pub role: String,
    /// `read_ops`, `handle_tickets`, `unlock`, `decide_reviews`,
    /// `suspend_tokens`, `maintenance`, `detokenize`, `manage_keys`.
    pub duties: Vec<String>,
    /// The key signed in with (its id, never the key).
    pub key_id: String,
    /// `test` or `live`: the objects and keys this key sees.
    pub mode: String,
}

/// An operator lifted an account's risk locks.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnlockView {
    pub account_id: String,
    /// The scopes unlocked: `account`, `card`, `device`, `ip`.
    pub released: Vec<String>,
    pub account: AccountView,
}

/// `{"status":"ok"}` (liveness) or `ready` / `not_ready` (readiness).
#[derive(Debug, Serialize, ToSchema)]
pub struct HealthView {
    #[schema(schema_with = crate::views::states::<HealthStatus>)]
    pub status: HealthStatus,
    /// On `not_ready`: what is down.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<String>,
    /// On `not_ready`: the bank over the network (`--issuer-url`) does not answer.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// A text in both languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct BilingualText {
    #[serde(rename = "zh-CN")]
    pub zh: String,
    pub en: String,
}

impl From<bangka_core::catalog::Text> for BilingualText {
    fn from(t: bangka_core::catalog::Text) -> Self {
        BilingualText { zh: t.zh.into(), en: t.en.into() }
    }
}

/// One error code of the catalog, in both languages.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogEntryView {
    pub code: String,
    pub category: String,
    pub http_status: u16,
    /// `holder`, `bank` or `wallet`.
    pub fix_by: String,
    pub ticket_advised: bool,
    /// `never` or `at` (the error carries `retry_after`).
    pub retry: String,
    pub message: BilingualText,
    pub cause: BilingualText,
    pub remediation: Vec<BilingualText>,
    pub doc_url: String,
}

/// The whole error catalog.
#[derive(Debug, Serialize, ToSchema)]
pub struct CatalogView {
    pub errors: Vec<CatalogEntryView>,
}

/// Demo: a key handed out for a load generator.
#[derive(Debug, Serialize, ToSchema)]
pub struct DemoKeyView {
    pub role: String,
    /// Shown once.
    pub key: String,
}

/// Demo: a test card's state at its bank, as set.
#[derive(Debug, Serialize, ToSchema)]
pub struct BankStateView {
    pub scenario: String,
    pub state: String,
    pub answering: bool,
}

/// Demo: the service's clock after a move.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClockView {
    pub now: String,
    pub offset_seconds: i64,
}

/// One bin range of a bank.
#[derive(Debug, Serialize, ToSchema)]
pub struct BinView {
    pub prefix: String,
    #[serde(rename = "type")]
    pub card_type: String,
    pub brand: String,
    pub length: usize,
}

/// A maintenance window of a bank, as it announced it.
#[derive(Debug, Serialize, ToSchema)]
pub struct WindowSpanView {
    #[schema(value_type = String, format = DateTime)]
    pub starts_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub ends_at: Timestamp,
}

/// A bank, what of it the wallet accepts, and its maintenance.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuerView {
    pub id: String,
    pub name: BilingualText,
    /// `mainland`, `hong_kong` or `macau`.
    pub region: String,
    pub supported: bool,
    pub accepted_card_types: Vec<String>,
    pub bins: Vec<BinView>,
    pub in_maintenance: bool,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub maintenance_ends_at: Option<Timestamp>,
    pub maintenance_windows: Vec<WindowSpanView>,
}

/// The banks this wallet binds, with their maintenance state.
#[derive(Debug, Serialize, ToSchema)]
pub struct IssuersView {
    pub binding_limit: u32,
    pub accepted_regions: Vec<String>,
    pub issuers: Vec<IssuerView>,
}

/// The device a session was opened on.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDeviceView {
    pub device_id: String,
    /// A short label safe to show ("device tag 49f9bd92").
    pub device_tag: String,
    /// First time this device was seen on the account.
    pub new_device: bool,
}

/// A holder session: its token is shown once (a replay has `token: null`).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub token: Option<String>,
    pub session_id: String,
    #[schema(value_type = String, format = DateTime)]
    pub expires_at: Timestamp,
    pub device: SessionDeviceView,
}

/// A session ended (sign-out).
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionEndedView {
    pub session_id: String,
    pub ended: bool,
    /// It had ended before this request.
    pub already_ended: bool,
}

/// A device the account was used on.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceView {
    pub device_id: String,
    pub device_tag: Option<String>,
    pub name: Option<String>,
    pub last_ip_masked: Option<String>,
    #[schema(value_type = String, format = DateTime)]
    pub first_seen_at: Timestamp,
    #[schema(value_type = String, format = DateTime)]
    pub last_seen_at: Timestamp,
}

/// A device removed, its sessions ended.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeviceRemovedView {
    pub device_id: String,
    pub removed: bool,
    pub sessions_ended: bool,
}

/// A delete waiting for its SMS code and payment password.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeleteRequestedView {
    pub binding_id: String,
    pub next_action: NextAction,
    pub verification: Vec<String>,
    pub confirm: Link,
}

/// One attempt as support sees it: the bank's precise code and what the
/// holder was shown.
#[derive(Debug, Serialize, ToSchema)]
pub struct AttemptView {
    pub id: String,
    /// `bind`, `activate`, `confirm`, `cryptogram`, `unbind`, …
    pub kind: String,
    pub code: Option<String>,
    /// The safe form, when the holder was not told the precise cause.
    pub holder_was_shown: Option<String>,
    pub issuer: Option<String>,
    pub card_masked: Option<String>,
    pub binding_id: Option<String>,
    pub device_id: Option<String>,
    /// The phone typed for a bind or activation, masked.
    pub phone_used_masked: Option<String>,
    /// The app, OS and device model the request named.
    #[schema(value_type = Option<Object>)]
    pub client: Option<serde_json::Value>,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
}

/// One of the holder's own attempts: what they tried, when, what they were
/// told, and where to ask about it.
#[derive(Debug, Serialize, ToSchema)]
pub struct HolderAttemptView {
    /// Name it to diagnosis or a ticket.
    pub id: String,
    /// `bind`, `activate`, `confirm`, `cryptogram`, `payment`, …
    pub kind: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// Whether it went through.
    pub succeeded: bool,
    /// What the holder was told when it failed (for a card not yet shown
    /// to be theirs, the safe form: docs/safe-messages.md).
    pub code: Option<String>,
    /// That code's message, in the request's language.
    pub message: Option<String>,
    pub card_masked: Option<String>,
    pub binding_id: Option<String>,
    /// What went wrong, checked step by step on the live state
    /// (`GET …/diagnosis?attempt_id=`); failed attempts only.
    pub diagnose: Option<Link>,
    /// Ask support about it: `POST …/tickets` with `{"attempt_id": id}`,
    /// so the ticket arrives with the attempt and its diagnosis attached;
    /// failed attempts only.
    pub ask_support: Option<Link>,
}

list_view!(
    /// The holder's own attempts, newest first.
    HolderAttemptList of HolderAttemptView
);

/// A risk rule's decision.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskDecisionView {
    pub id: String,
    pub rule: String,
    /// `account`, `card`, `device` or `ip`.
    pub subject: String,
    /// `lock`, `step_up` or `review`.
    pub outcome: String,
    pub count: i64,
    pub attempt_id: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// An account's risk decisions and its lock.
#[derive(Debug, Serialize, ToSchema)]
pub struct RiskView {
    pub account_id: String,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub locked_until: Option<Timestamp>,
    pub decisions: Vec<RiskDecisionView>,
}

/// The public key receipts and evidence bundles are signed with.
#[derive(Debug, Serialize, ToSchema)]
pub struct PublicKeyView {
    /// `Ed25519`.
    pub alg: String,
    pub key_id: String,
    /// Hex.
    pub public_key: String,
}

/// A document's Ed25519 signature over its canonical JSON (keys sorted, no
/// whitespace).
#[derive(Debug, Serialize, ToSchema)]
pub struct SignatureView {
    pub alg: String,
    pub key_id: String,
    pub public_key: String,
    /// Hex.
    pub value: String,
}

/// A signed document: a receipt or an evidence bundle. The signer writes it
/// as JSON (the bytes the signature covers are the canonical form of
/// `receipt`), so this type describes it for the API document.
#[derive(Debug, Serialize, ToSchema)]
#[allow(dead_code)] // built by bangka_store::ReceiptSigner::sign, described here
pub struct SignedDocumentView {
    /// The document: `operation`, `id`, `at` and the operation's facts.
    #[schema(value_type = Object)]
    pub receipt: serde_json::Value,
    pub signature: SignatureView,
}

/// Admin only: the card number behind a token, audited before it is shown.
#[derive(Serialize, ToSchema)]
pub struct DetokenizedView {
    pub token_number: String,
    /// The full card number (the only answer that holds one).
    pub card_number: String,
    pub binding_id: String,
    pub account_id: String,
    /// The audit entry recording who asked and why.
    pub audit_id: String,
}

/// A maintenance window cancelled.
#[derive(Debug, Serialize, ToSchema)]
pub struct CancelledView {
    pub id: String,
    pub cancelled: bool,
}

/// The small test authorization's verdict: whether the card can pay online.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestAuthorizationView {
    pub binding_id: String,
    pub amount: AmountView,
    /// The 0.01 hold was released at once.
    pub voided: bool,
    pub can_pay_online: bool,
    pub attempt_id: String,
    /// Why not, when it cannot.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<TestAuthorizationReason>,
}

/// A refusal's cause in the holder's language.
#[derive(Debug, Serialize, ToSchema)]
pub struct TestAuthorizationReason {
    pub code: String,
    pub message: String,
    pub remediation: Vec<String>,
    pub doc_url: String,
}

/// One item of the triage checklist.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisItemView {
    /// `card_format`, `card_accepted`, `account_standing`, …, `otp`, `binding_state`.
    pub name: String,
    /// What the item checks, in the holder's language.
    pub title: String,
    /// `passed`, `failed` or `unknown`.
    pub result: String,
    /// The result in the holder's words (the cause, when it failed).
    pub summary: String,
    /// What to do, in order, when it failed.
    pub remedy: Vec<String>,
    pub error_code: Option<String>,
    /// The facts the item was judged on.
    #[schema(value_type = Object)]
    pub evidence: serde_json::Value,
}

/// What to have at hand when contacting support, filled in (masked).
#[derive(Debug, Serialize, ToSchema)]
pub struct PrepareForSupportView {
    pub error_code: Option<String>,
    pub attempt_id: Option<String>,
    pub time: Option<String>,
    pub operation: Option<String>,
    pub card_masked: Option<String>,
    pub issuer: Option<String>,
    pub account_phone_masked: Option<String>,
    pub device_id: Option<String>,
    /// What never to tell anyone, support included.
    pub never_share: Vec<String>,
}

/// The triage checklist evaluated on live state.
#[derive(Debug, Serialize, ToSchema)]
pub struct DiagnosisView {
    pub as_of: String,
    pub attempt_id: Option<String>,
    pub binding_id: Option<String>,
    /// The code the holder saw (its safe form where it applies).
    pub error_code: Option<String>,
    pub items: Vec<DiagnosisItemView>,
    pub prepare_for_support: PrepareForSupportView,
}

/// Step one of an unfreeze: the SMS code was sent.
#[derive(Debug, Serialize, ToSchema)]
pub struct UnfreezeCodeSentView {
    /// The card being unfrozen (a card unfreeze).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_id: Option<String>,
    /// The account being unfrozen (an account unfreeze).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    pub next_action: NextAction,
    /// Step two also takes the payment password.
    pub payment_password_required: bool,
}

/// Step one of an account-phone operation (sign-up verification, password
/// reset): the SMS code was sent to the account phone.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCodeSentView {
    pub account_id: String,
    pub next_action: NextAction,
    /// What to do next, in the holder's language.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub then: Option<String>,
    /// The next call, for the wallet developer.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub developer: Option<serde_json::Value>,
}

/// Step one of a phone change: codes sent to the new phone (and the old one,
/// unless it is lost).
#[derive(Debug, Serialize, ToSchema)]
pub struct PhoneChangeStartedView {
    pub account_id: String,
    pub new_phone_masked: String,
    /// The code to the new phone.
    pub next_action: NextAction,
    /// The code to the current phone (`null` when it is lost).
    pub old_phone_next_action: Option<NextAction>,
    /// With the old phone lost, the change goes to a `phone_change` review.
    pub review_required: bool,
    /// What to do next, in the holder's language.
    pub then: String,
    /// The next call, for the wallet developer.
    #[schema(value_type = Object)]
    pub developer: serde_json::Value,
}

/// A count of one error code.
#[derive(Debug, Serialize, ToSchema)]
pub struct CodeCountView {
    pub code: String,
    pub count: i64,
}

/// Bind attempts at one issuer in one period.
#[derive(Debug, Serialize, ToSchema)]
pub struct BindBucketView {
    /// The period's start (RFC 3339); it lasts `bucket_seconds`.
    pub start: String,
    pub issuer: String,
    pub attempts: i64,
    /// Attempts the bank accepted (a code was sent to the holder).
    pub succeeded: i64,
    pub failures: Vec<CodeCountView>,
}

/// Bind attempts over time by issuer, and failures by code (the console's charts).
#[derive(Debug, Serialize, ToSchema)]
pub struct BindStatsView {
    pub since: String,
    pub bucket_seconds: i64,
    pub series: Vec<BindBucketView>,
    /// Every failure in the span by code, most frequent first.
    pub failures_by_code: Vec<CodeCountView>,
}

/// One audit entry.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    /// Its number in the hash chain; `null` for an entry written in the
    /// last moment and not sealed yet (the sealer runs every second).
    pub seq: Option<i64>,
    pub id: String,
    #[schema(value_type = String, format = DateTime)]
    pub at: Timestamp,
    /// The key, holder session or job that acted (its id, or `system`).
    pub actor: String,
    /// The acting key's name, when it has one.
    pub actor_name: Option<String>,
    /// `wallet`, `merchant`, `support`, `risk` or `admin` for a key;
    /// `holder` for a holder session.
    pub actor_role: Option<String>,
    pub origin: String,
    pub action: String,
    pub subject: String,
    pub before: Option<String>,
    pub after: Option<String>,
    /// The operator's stated reason, if any.
    pub reason: Option<String>,
}

/// What walking the whole hash chain found.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditChainView {
    pub intact: bool,
    pub entries: i64,
    pub head: String,
    /// The first entry where the chain breaks, if it does.
    pub broken_entry: Option<i64>,
    pub problem: Option<String>,
}

/// The latest audit entries, newest first, and the chain's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct AuditView {
    /// The entries, newest first.
    pub data: Vec<AuditEntryView>,
    /// Older entries follow: ask again with `starting_after` set to the last
    /// entry's id.
    pub has_more: bool,
    pub chain: AuditChainView,
}
