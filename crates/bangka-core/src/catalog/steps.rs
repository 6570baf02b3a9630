//! How each remediation step is carried out (issue 16: no dead ends).
//!
//! Every step of every catalog entry is one [`Step`]: a Bangka operation
//! that does it ([`Step::Api`], with its method and path, for the wallet
//! developer to wire the step to), the failed request sent again (corrected,
//! or after the time shown), a party outside Bangka who does it (the bank,
//! the phone carrier, the wallet's own app or service), or advice with
//! nothing to send. The error envelope shows each step's action next to its
//! words; a test checks that every step has one and a walk through the API
//! carries out every operation a step names.

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::code::ErrorCode;

/// A Bangka operation a remediation step names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Operation {
    OpenTicket,
    GetTicket,
    SubmitReview,
    ListReviews,
    WithdrawReview,
    VerifyKyc,
    SetPaymentPassword,
    ResetPaymentPassword,
    ChangePhone,
    VerifyPhone,
    Bind,
    ConfirmBind,
    ResendCode,
    ListCards,
    Activate,
    TestAuthorization,
    FreezeCard,
    UnfreezeCard,
    FreezeAccount,
    UnfreezeAccount,
    Unbind,
    RevokeUnbind,
    DeleteCard,
    ListReceipts,
    ListMandates,
    CreateMandate,
    CancelMandate,
    ListPayments,
    ResumeToken,
    ListIssuers,
    ServiceStatus,
    RequestCryptogram,
    RequestPaymentCode,
    OpenSession,
    ListDevices,
    GetPayment,
    AccountRisk,
    CreateApiKey,
}

impl Operation {
    /// `(method, path)` with `{id}` (account), `{bid}` (binding), `{mid}`
    /// (mandate), `{number}` (ticket), `{rvid}` (review) and `{pid}` (payment)
    /// to fill in.
    pub fn route(self) -> (&'static str, &'static str) {
        use Operation::*;
        match self {
            OpenTicket => ("POST", "/v1/accounts/{id}/tickets"),
            GetTicket => ("GET", "/v1/accounts/{id}/tickets/{number}"),
            SubmitReview => ("POST", "/v1/accounts/{id}/reviews"),
            ListReviews => ("GET", "/v1/accounts/{id}/reviews"),
            WithdrawReview => ("POST", "/v1/accounts/{id}/reviews/{rvid}/withdraw"),
            VerifyKyc => ("POST", "/v1/accounts/{id}/kyc"),
            SetPaymentPassword => ("POST", "/v1/accounts/{id}/payment-password"),
            ResetPaymentPassword => ("POST", "/v1/accounts/{id}/payment-password/reset"),
            ChangePhone => ("POST", "/v1/accounts/{id}/phone"),
            VerifyPhone => ("POST", "/v1/accounts/{id}/phone/verify"),
            Bind => ("POST", "/v1/accounts/{id}/bindings"),
            ConfirmBind => ("POST", "/v1/accounts/{id}/bindings/{bid}/confirm"),
            ResendCode => ("POST", "/v1/accounts/{id}/bindings/{bid}/otp/resend"),
            ListCards => ("GET", "/v1/accounts/{id}/bindings"),
            Activate => ("POST", "/v1/accounts/{id}/activations"),
            TestAuthorization => ("POST", "/v1/accounts/{id}/bindings/{bid}/test-authorization"),
            FreezeCard => ("POST", "/v1/accounts/{id}/bindings/{bid}/freeze"),
            UnfreezeCard => ("POST", "/v1/accounts/{id}/bindings/{bid}/unfreeze"),
            FreezeAccount => ("POST", "/v1/accounts/{id}/freeze"),
            UnfreezeAccount => ("POST", "/v1/accounts/{id}/unfreeze"),
            Unbind => ("POST", "/v1/accounts/{id}/bindings/{bid}/unbind"),
            RevokeUnbind => ("POST", "/v1/accounts/{id}/bindings/{bid}/unbind/revoke"),
            DeleteCard => ("POST", "/v1/accounts/{id}/bindings/{bid}/delete"),
            ListReceipts => ("GET", "/v1/accounts/{id}/receipts"),
            ListMandates => ("GET", "/v1/accounts/{id}/mandates"),
            CreateMandate => ("POST", "/v1/accounts/{id}/mandates"),
            CancelMandate => ("POST", "/v1/accounts/{id}/mandates/{mid}/cancel"),
            ListPayments => ("GET", "/v1/accounts/{id}/bindings/{bid}/payments"),
            ResumeToken => ("POST", "/v1/accounts/{id}/bindings/{bid}/token/resume"),
            ListIssuers => ("GET", "/v1/issuers"),
            ServiceStatus => ("GET", "/v1/status"),
            RequestCryptogram => ("POST", "/v1/accounts/{id}/bindings/{bid}/cryptograms"),
            RequestPaymentCode => ("POST", "/v1/accounts/{id}/bindings/{bid}/cryptograms/otp"),
            OpenSession => ("POST", "/v1/accounts/{id}/sessions"),
            ListDevices => ("GET", "/v1/accounts/{id}/devices"),
            GetPayment => ("GET", "/v1/payments/{pid}"),
            AccountRisk => ("GET", "/v1/ops/accounts/{id}/risk"),
            CreateApiKey => ("POST", "/v1/ops/keys"),
        }
    }

    pub fn as_str(self) -> &'static str {
        use Operation::*;
        match self {
            OpenTicket => "open_ticket",
            GetTicket => "get_ticket",
            SubmitReview => "submit_review",
            ListReviews => "list_reviews",
            WithdrawReview => "withdraw_review",
            VerifyKyc => "verify_kyc",
            SetPaymentPassword => "set_payment_password",
            ResetPaymentPassword => "reset_payment_password",
            ChangePhone => "change_phone",
            VerifyPhone => "verify_phone",
            Bind => "bind",
            ConfirmBind => "confirm_bind",
            ResendCode => "resend_code",
            ListCards => "list_cards",
            Activate => "activate",
            TestAuthorization => "test_authorization",
            FreezeCard => "freeze_card",
            UnfreezeCard => "unfreeze_card",
            FreezeAccount => "freeze_account",
            UnfreezeAccount => "unfreeze_account",
            Unbind => "unbind",
            RevokeUnbind => "revoke_unbind",
            DeleteCard => "delete_card",
            ListReceipts => "list_receipts",
            ListMandates => "list_mandates",
            CreateMandate => "create_mandate",
            CancelMandate => "cancel_mandate",
            ListPayments => "list_payments",
            ResumeToken => "resume_token",
            ListIssuers => "list_issuers",
            ServiceStatus => "service_status",
            RequestCryptogram => "request_cryptogram",
            RequestPaymentCode => "request_payment_code",
            OpenSession => "open_session",
            ListDevices => "list_devices",
            GetPayment => "get_payment",
            AccountRisk => "account_risk",
            CreateApiKey => "create_api_key",
        }
    }
}

/// Who carries out a step that Bangka cannot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    /// The card's bank: its hotline, app or branch.
    Bank,
    /// The holder's phone and its carrier (signal, credit, SIM, SMS blockers).
    Carrier,
    /// The wallet's own app, sign-in or customer service.
    Wallet,
    /// The wallet developer's code (a request built wrong).
    Integrator,
    /// The wallet platform's administrator (keys and roles, by the CLI).
    Administrator,
    /// The merchant's system.
    Merchant,
}

/// How one remediation step is carried out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// A Bangka operation does it.
    Api(Operation),
    /// Correct what was typed or sent, and send the failed request again.
    Correct,
    /// Send the failed request again (after `retry_after`, when given).
    Retry,
    /// Someone outside Bangka does it.
    Outside(Party),
    /// Nothing to send: a caution, or nothing more is needed.
    Advice,
}

impl Serialize for Step {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        match self {
            Step::Api(op) => {
                let (method, path) = op.route();
                m.serialize_entry("kind", "api")?;
                m.serialize_entry("operation", op.as_str())?;
                m.serialize_entry("method", method)?;
                m.serialize_entry("path", path)?;
            }
            Step::Correct => m.serialize_entry("kind", "correct_and_resend")?,
            Step::Retry => m.serialize_entry("kind", "retry")?,
            Step::Outside(p) => {
                m.serialize_entry("kind", "outside")?;
                m.serialize_entry("by", p)?;
            }
            Step::Advice => m.serialize_entry("kind", "advice")?,
        }
        m.end()
    }
}

use ErrorCode as E;
use Operation::*;
use Party::*;
use Step::{Advice, Api, Correct, Outside, Retry};

/// Each code's steps, in the order of its remediation.
const STEPS: &[(ErrorCode, &[Step])] = &[
    (E::MalformedRequest, &[Correct, Correct, Correct, Outside(Wallet)]),
    (E::UnknownField, &[Correct, Correct, Outside(Wallet)]),
    (E::ApiVersionUnknown, &[Correct, Correct, Outside(Wallet)]),
    (E::UnsupportedMediaType, &[Correct, Correct, Correct]),
    (E::PayloadTooLarge, &[Correct, Outside(Integrator), Correct]),
    (E::NotFound, &[Correct, Outside(Integrator), Outside(Integrator)]),
    (E::MethodNotAllowed, &[Outside(Integrator), Correct]),
    (E::UriTooLong, &[Correct, Outside(Integrator), Correct]),
    (E::HeadersTooLarge, &[Correct, Outside(Integrator), Correct]),
    (E::RequestTimeout, &[Retry, Outside(Integrator)]),
    (E::CardNumberFormat, &[Correct, Correct, Correct]),
    (E::CardNumberLuhn, &[Correct, Correct, Correct]),
    (E::CardBinUnknown, &[Correct, Advice, Api(OpenTicket)]),
    (E::ExpiryFormat, &[Correct, Correct, Correct]),
    (E::CvvFormat, &[Correct, Correct, Advice]),
    (E::CreditCardDetailsRequired, &[Correct, Correct, Correct]),
    (E::HolderNameFormat, &[Correct, Correct, Correct]),
    (E::IdNumberFormat, &[Correct, Correct, Correct]),
    (E::IdNumberCheckDigit, &[Correct, Correct, Correct]),
    (E::PhoneFormat, &[Correct, Correct, Correct]),
    (E::EmailFormat, &[Correct, Correct]),
    (E::LanguageNotSupported, &[Correct]),
    (E::OtpFormat, &[Correct, Correct, Advice]),
    (E::PaymentPasswordFormat, &[Correct, Advice]),
    (E::PaymentPasswordWeak, &[Correct, Advice]),
    (E::IdempotencyKeyInvalid, &[Correct, Correct, Outside(Integrator)]),
    (E::IdempotencyKeyReused, &[Correct, Correct, Outside(Integrator)]),
    (E::IdempotencyInProgress, &[Retry, Advice, Outside(Integrator)]),
    (E::RateLimited, &[Retry, Advice, Outside(Integrator)]),
    (E::AmountFormat, &[Correct, Correct, Correct]),
    (E::AmountOutOfRange, &[Correct, Correct, Correct]),
    (E::CurrencyNotSupported, &[Correct, Correct, Correct]),
    (E::MerchantIdFormat, &[Correct, Correct, Correct]),
    (E::TokenNumberFormat, &[Correct, Advice, Correct]),
    (E::CryptogramFormat, &[Correct, Correct, Api(RequestCryptogram)]),
    (E::OpsReasonRequired, &[Correct, Advice, Correct]),
    (E::DeviceInfoFormat, &[Outside(Wallet), Correct]),
    (E::Unauthenticated, &[Correct, Outside(Integrator), Outside(Administrator), Outside(Wallet)]),
    (E::SessionExpired, &[Api(OpenSession), Api(ListDevices), Api(OpenSession)]),
    (E::Forbidden, &[Outside(Integrator), Outside(Administrator)]),
    (E::MerchantKeyMismatch, &[Correct, Outside(Administrator)]),
    (E::IssuerNotSupported, &[Api(ListIssuers), Api(Bind)]),
    (E::CardTypeNotAccepted, &[Api(ListIssuers), Api(Bind)]),
    (E::CardRegionNotAccepted, &[Api(Bind), Api(ListIssuers), Outside(Wallet)]),
    (E::BindingLimitReached, &[Api(ListCards), Api(Unbind), Api(Bind)]),
    (E::CardAlreadyBound, &[Api(ListCards), Api(ListCards)]),
    (E::AccountPhoneTaken, &[Outside(Wallet), Outside(Wallet), Outside(Wallet)]),
    (E::KycRequired, &[Api(VerifyKyc), Api(Bind)]),
    (E::AccountIncomplete, &[Api(VerifyPhone), Api(VerifyPhone), Api(ChangePhone)]),
    (E::AccountFrozen, &[Api(ListPayments), Api(UnfreezeAccount), Api(OpenTicket), Api(ChangePhone)]),
    (E::AccountNotFrozen, &[Api(ListCards), Api(ListCards)]),
    (E::UnfreezeReviewRequired, &[Api(SubmitReview), Api(ChangePhone), Api(ListReviews), Api(OpenTicket)]),
    (E::KycAlreadyVerified, &[Api(Bind), Api(SubmitReview)]),
    (E::KycRejected, &[Api(VerifyKyc), Api(VerifyKyc), Api(VerifyKyc)]),
    (E::PaymentPasswordIncorrect, &[Correct, Api(ResetPaymentPassword), Api(FreezeAccount)]),
    (E::PaymentPasswordNotSet, &[Api(SetPaymentPassword), Api(RequestCryptogram), Api(RequestPaymentCode)]),
    (E::PaymentVerificationRequired, &[Api(RequestCryptogram), Api(RequestPaymentCode), Correct, Api(RequestPaymentCode)]),
    (E::HolderNameNotKycName, &[Correct, Correct, Api(Bind)]),
    (E::HolderIdNotKycId, &[Correct, Correct, Api(Bind)]),
    (E::CardExpired, &[Api(Bind), Outside(Bank), Api(Activate)]),
    (E::CardNotActivated, &[Api(Activate), Outside(Carrier), Outside(Bank), Api(Bind), Api(TestAuthorization)]),
    (E::CardAlreadyActivated, &[Api(Bind), Api(OpenTicket)]),
    (E::CardFrozen, &[Outside(Bank), Outside(Bank), Api(Bind), Api(OpenTicket)]),
    (E::CardReportedLost, &[Api(Bind), Api(Unbind), Outside(Bank), Advice]),
    (E::CardClosed, &[Api(Bind), Api(Unbind), Outside(Bank)]),
    (E::OnlinePaymentsDisabled, &[Outside(Bank), Outside(Bank), Api(Bind)]),
    (E::CardUnavailable, &[Outside(Bank), Api(Bind), Advice]),
    (E::InsufficientFunds, &[Outside(Bank), Outside(Bank), Api(RequestCryptogram)]),
    (E::FourElementsNameMismatch, &[Correct, Advice, Outside(Bank), Advice]),
    (E::FourElementsIdMismatch, &[Correct, Advice, Outside(Bank), Advice]),
    (E::FourElementsPhoneMismatch, &[Correct, Outside(Bank), Api(Bind)]),
    (E::CvvMismatch, &[Correct, Correct, Advice]),
    (E::ExpiryMismatch, &[Correct, Correct, Advice]),
    (E::IssuerRestricted, &[Outside(Bank), Api(Bind), Api(Bind), Api(OpenTicket)]),
    (E::CardNotFoundAtIssuer, &[Correct, Correct, Advice, Outside(Bank)]),
    (E::IssuerMaintenance, &[Retry, Api(ServiceStatus), Api(Bind)]),
    (E::PlatformMaintenance, &[Retry, Api(ServiceStatus)]),
    (E::IssuerUnavailable, &[Retry, Api(ServiceStatus), Api(OpenTicket)]),
    (E::OtpIncorrect, &[Correct, Advice, Advice]),
    (E::OtpExpired, &[Api(ResendCode), Api(ConfirmBind), Outside(Carrier)]),
    (E::OtpAttemptsExhausted, &[Api(Bind), Advice, Advice, Api(OpenTicket)]),
    (E::OtpResendCooldown, &[Api(ConfirmBind), Outside(Carrier), Outside(Bank), Api(ResendCode)]),
    (E::BindingNotPending, &[Api(ListCards), Api(Bind)]),
    (E::BindingNotActive, &[Api(ConfirmBind), Api(UnfreezeCard)]),
    (E::ActivationNotPending, &[Api(Bind), Api(Activate)]),
    (E::BindingFrozen, &[Api(UnfreezeCard), Api(OpenTicket), Api(RequestCryptogram)]),
    (E::MandateAlreadyExists, &[Api(ListMandates), Api(CancelMandate)]),
    (E::MandateNotActive, &[Api(ListMandates), Advice]),
    (E::MandateLimitExceeded, &[Outside(Merchant), Api(CancelMandate)]),
    (E::UnbindBlocked, &[Advice, Api(CancelMandate), Retry, Api(UnfreezeCard)]),
    (E::UnbindInProgress, &[Advice, Api(RevokeUnbind), Api(RevokeUnbind)]),
    (E::UnbindNotRequested, &[Api(ListCards), Api(Unbind)]),
    (E::CoolingOffOver, &[Api(Bind), Api(CreateMandate), Api(OpenTicket)]),
    (E::BindingUnbinding, &[Api(RevokeUnbind), Api(RequestCryptogram), Api(RevokeUnbind)]),
    (E::DeleteRequiresUnbind, &[Api(Unbind), Api(DeleteCard)]),
    (E::BindingAlreadyDeleted, &[Api(ListReceipts), Api(Bind)]),
    (E::BindingNotFrozen, &[Api(ListCards), Advice]),
    (E::StrongVerificationRequired, &[Correct, Correct, Api(ResetPaymentPassword)]),
    (E::TokenNotFound, &[Correct, Outside(Integrator), Api(RequestCryptogram)]),
    (E::TokenSuspended, &[Api(ResumeToken), Outside(Bank), Api(RequestCryptogram)]),
    (E::TokenDeleted, &[Api(Bind), Api(Bind), Api(RequestCryptogram), Api(OpenTicket)]),
    (E::TokenDomainMismatch, &[Outside(Integrator), Api(Bind), Api(FreezeCard)]),
    (E::TokenStateConflict, &[Api(ListCards), Api(ResumeToken), Api(Bind)]),
    (E::TokenResumeNotAllowed, &[Outside(Bank), Api(OpenTicket), Api(RequestCryptogram)]),
    (E::CryptogramInvalid, &[Api(RequestCryptogram), Advice, Outside(Integrator)]),
    (E::CryptogramReplayed, &[Api(GetPayment), Api(RequestCryptogram), Retry]),
    (E::CryptogramMismatch, &[Advice, Correct, Api(RequestCryptogram)]),
    (E::CryptogramExpired, &[Api(RequestCryptogram), Advice, Outside(Integrator)]),
    (E::IssuerDeclined, &[Outside(Bank), Api(RequestCryptogram), Api(FreezeCard), Api(OpenTicket)]),
    (E::PaymentStateConflict, &[Api(GetPayment), Advice, Correct]),
    (E::AmountExceedsRemaining, &[Advice, Correct, Api(RequestCryptogram)]),
    (E::RiskLocked, &[Retry, Advice, Api(SubmitReview), Outside(Bank)]),
    (E::RiskStepUpRequired, &[Correct, Api(SetPaymentPassword), Api(FreezeAccount)]),
    (E::RiskReviewRequired, &[Api(SubmitReview), Api(ListReviews), Api(OpenTicket), Advice]),
    (E::AccountNotLocked, &[Api(AccountRisk), Advice]),
    (E::TicketStateConflict, &[Api(GetTicket), Api(OpenTicket)]),
    (E::ReviewMaterialsInvalid, &[Correct, Correct]),
    (E::ReviewNotApplicable, &[Advice, Api(OpenTicket)]),
    (E::ReviewAlreadyPending, &[Api(ListReviews), Api(OpenTicket)]),
    (E::ReviewAlreadyDecided, &[Api(ListReviews), Api(SubmitReview)]),
    (E::ReviewWaitingPeriod, &[Retry, Api(WithdrawReview)]),
    (E::ApiKeyNotActive, &[Api(CreateApiKey)]),
    (E::Internal, &[Retry, Api(OpenTicket), Advice]),
];

impl ErrorCode {
    /// How each of this code's remediation steps is carried out, in order.
    pub fn steps(self) -> &'static [Step] {
        // The completeness test guarantees one row per code.
        STEPS.iter().find(|(c, _)| *c == self).map(|(_, s)| *s).unwrap_or(&[])
    }
}

/// Every operation some step names.
pub fn operations() -> std::collections::BTreeSet<Operation> {
    STEPS.iter().flat_map(|(_, s)| s.iter()).filter_map(|s| if let Step::Api(op) = s { Some(*op) } else { None }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_step_of_every_code_says_how_it_is_carried_out() {
        for code in ErrorCode::ALL {
            let n = STEPS.iter().filter(|(c, _)| c == code).count();
            assert_eq!(n, 1, "{} has {n} rows of steps", code.as_str());
            assert_eq!(code.steps().len(), code.entry().remediation.len(), "{}: one action per remediation step", code.as_str());
        }
    }
}
