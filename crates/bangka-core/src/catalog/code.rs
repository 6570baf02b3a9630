//! The codes and the shape of their entries: what the entries and the
//! steps are written in (a leaf below both, and below the catalog that
//! joins them).

use serde::Serialize;

/// Who can fix the problem.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FixBy {
    Holder,
    Bank,
    Wallet,
}

/// The broad kind of a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    Input,
    Account,
    Card,
    Issuer,
    Policy,
    Risk,
    /// Tokens, cryptograms and payments.
    Payment,
    System,
}

/// A text in both languages Bangka speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Text {
    #[serde(rename = "zh-CN")]
    pub zh: &'static str,
    pub en: &'static str,
}

/// The holder's language, from `Accept-Language` (zh-CN is the default).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    /// Picks the first supported language of an `Accept-Language` header,
    /// honouring q-values; anything unknown falls back to zh-CN.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(header) = header else { return Lang::Zh };
        let mut best: Option<(f32, Lang)> = None;
        for part in header.split(',') {
            let mut pieces = part.trim().split(';');
            let tag = pieces.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = pieces.find_map(|p| p.trim().strip_prefix("q=").and_then(|q| q.parse::<f32>().ok())).unwrap_or(1.0);
            let lang = if tag.starts_with("en") {
                Lang::En
            } else if tag.starts_with("zh") {
                Lang::Zh
            } else {
                continue;
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map(|(_, l)| l).unwrap_or_default()
    }

    pub fn tag(self) -> &'static str {
        match self {
            Lang::Zh => "zh-CN",
            Lang::En => "en",
        }
    }

    /// A holder's chosen language: exactly `zh-CN` or `en`.
    pub fn from_tag(tag: &str) -> Option<Lang> {
        match tag {
            "zh-CN" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }
}

impl Text {
    pub fn get(&self, lang: Lang) -> &'static str {
        match lang {
            Lang::Zh => self.zh,
            Lang::En => self.en,
        }
    }
}

/// When waiting is (part of) the remedy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryHint {
    /// Retrying later does not help by itself.
    Never,
    /// The error carries a concrete `retry_after` time.
    At,
}

/// One catalog entry. See the module docs.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Entry {
    pub code: ErrorCode,
    pub category: Category,
    pub http_status: u16,
    pub fix_by: FixBy,
    pub ticket_advised: bool,
    pub retry: RetryHint,
    pub message: Text,
    pub cause: Text,
    pub remediation: &'static [Text],
}

macro_rules! error_codes {
    ($($(#[$doc:meta])* $variant:ident => $code:literal,)+) => {
        /// Every stable error code. Codes are never reused or renamed.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum ErrorCode { $($(#[$doc])* $variant,)+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant,)+];

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code,)+ }
            }

            pub fn parse(s: &str) -> Option<ErrorCode> {
                match s { $($code => Some(ErrorCode::$variant),)+ _ => None }
            }
        }
    };
}

error_codes! {
    // input: the request itself is wrong
    MalformedRequest => "MALFORMED_REQUEST",
    UnknownField => "UNKNOWN_FIELD",
    ApiVersionUnknown => "API_VERSION_UNKNOWN",
    UnsupportedMediaType => "UNSUPPORTED_MEDIA_TYPE",
    PayloadTooLarge => "PAYLOAD_TOO_LARGE",
    NotFound => "NOT_FOUND",
    MethodNotAllowed => "METHOD_NOT_ALLOWED",
    UriTooLong => "URI_TOO_LONG",
    HeadersTooLarge => "HEADERS_TOO_LARGE",
    RequestTimeout => "REQUEST_TIMEOUT",
    CardNumberFormat => "CARD_NUMBER_FORMAT",
    CardNumberLuhn => "CARD_NUMBER_LUHN",
    CardBinUnknown => "CARD_BIN_UNKNOWN",
    ExpiryFormat => "EXPIRY_FORMAT",
    CvvFormat => "CVV_FORMAT",
    CreditCardDetailsRequired => "CREDIT_CARD_DETAILS_REQUIRED",
    HolderNameFormat => "HOLDER_NAME_FORMAT",
    IdNumberFormat => "ID_NUMBER_FORMAT",
    IdNumberCheckDigit => "ID_NUMBER_CHECK_DIGIT",
    PhoneFormat => "PHONE_FORMAT",
    /// An email address that cannot receive mail (`name@domain.tld`).
    EmailFormat => "EMAIL_FORMAT",
    /// A notification language other than `zh-CN` or `en`.
    LanguageNotSupported => "LANGUAGE_NOT_SUPPORTED",
    OtpFormat => "OTP_FORMAT",
    PaymentPasswordFormat => "PAYMENT_PASSWORD_FORMAT",
    PaymentPasswordWeak => "PAYMENT_PASSWORD_WEAK",
    IdempotencyKeyInvalid => "IDEMPOTENCY_KEY_INVALID",
    IdempotencyKeyReused => "IDEMPOTENCY_KEY_REUSED",
    IdempotencyInProgress => "IDEMPOTENCY_IN_PROGRESS",
    /// An amount that is not a whole number of minor units (fen), e.g. 12.345 or "12.34".
    AmountFormat => "AMOUNT_FORMAT",
    /// Zero, negative, or above the per-payment maximum.
    AmountOutOfRange => "AMOUNT_OUT_OF_RANGE",
    /// A currency code that is malformed or not one Bangka settles in (CNY only).
    CurrencyNotSupported => "CURRENCY_NOT_SUPPORTED",
    MerchantIdFormat => "MERCHANT_ID_FORMAT",
    /// Not a 16-digit, Luhn-valid number from the token BIN.
    TokenNumberFormat => "TOKEN_NUMBER_FORMAT",
    /// Not 16 hexadecimal digits.
    CryptogramFormat => "CRYPTOGRAM_FORMAT",
    /// An operator action without a stated reason (detokenization, ops suspension).
    OpsReasonRequired => "OPS_REASON_REQUIRED",
    /// A holder session's device id, device name or client IP that does not parse.
    DeviceInfoFormat => "DEVICE_INFO_FORMAT",
    // policy: the wallet's rules or access control
    Unauthenticated => "UNAUTHENTICATED",
    /// A holder session past its expiry or ended (logout, device removed):
    /// the wallet signs the holder in again and opens a new one.
    SessionExpired => "SESSION_EXPIRED",
    Forbidden => "FORBIDDEN",
    /// Too many requests from one API key, account or client address
    /// (`details.limit` names which); `retry_after` says when.
    RateLimited => "RATE_LIMITED",
    /// A merchant key used for another merchant, or an autopay charge with a
    /// key not bound to any merchant.
    MerchantKeyMismatch => "MERCHANT_KEY_MISMATCH",
    IssuerNotSupported => "ISSUER_NOT_SUPPORTED",
    CardTypeNotAccepted => "CARD_TYPE_NOT_ACCEPTED",
    /// A card from a region (Hong Kong, Macau) this wallet does not accept.
    CardRegionNotAccepted => "CARD_REGION_NOT_ACCEPTED",
    BindingLimitReached => "BINDING_LIMIT_REACHED",
    CardAlreadyBound => "CARD_ALREADY_BOUND",
    // account: the wallet account's state
    AccountPhoneTaken => "ACCOUNT_PHONE_TAKEN",
    /// The sign-up is not finished: the account phone was never verified
    /// (`details.missing` names the step).
    AccountIncomplete => "ACCOUNT_INCOMPLETE",
    KycRequired => "KYC_REQUIRED",
    /// The holder froze the account: nothing pays, binds or unbinds until
    /// it is unfrozen.
    AccountFrozen => "ACCOUNT_FROZEN",
    /// Unfreeze of an account that is not frozen.
    AccountNotFrozen => "ACCOUNT_NOT_FROZEN",
    /// A recovery (unfreeze by SMS code, payment-password reset) through a
    /// phone the freeze named as lost or compromised: only a reviewed phone
    /// change or an identity review lifts such a freeze.
    UnfreezeReviewRequired => "UNFREEZE_REVIEW_REQUIRED",
    KycAlreadyVerified => "KYC_ALREADY_VERIFIED",
    KycRejected => "KYC_REJECTED",
    PaymentPasswordIncorrect => "PAYMENT_PASSWORD_INCORRECT",
    /// A payment confirmation by password, but the account has none set.
    PaymentPasswordNotSet => "PAYMENT_PASSWORD_NOT_SET",
    /// A cryptogram request with neither a payment password nor an SMS code
    /// (or both, or a code when none was requested).
    PaymentVerificationRequired => "PAYMENT_VERIFICATION_REQUIRED",
    HolderNameNotKycName => "HOLDER_NAME_NOT_KYC_NAME",
    HolderIdNotKycId => "HOLDER_ID_NOT_KYC_ID",
    // card: the card's state (locally or at the issuer)
    CardExpired => "CARD_EXPIRED",
    CardNotActivated => "CARD_NOT_ACTIVATED",
    CardAlreadyActivated => "CARD_ALREADY_ACTIVATED",
    CardFrozen => "CARD_FROZEN",
    CardReportedLost => "CARD_REPORTED_LOST",
    CardClosed => "CARD_CLOSED",
    OnlinePaymentsDisabled => "ONLINE_PAYMENTS_DISABLED",
    /// A card that cannot be bound for a reason only the bank may tell its
    /// owner (reported lost or stolen): what a bind or activation says
    /// instead of `CARD_REPORTED_LOST` (docs/safe-messages.md).
    CardUnavailable => "CARD_UNAVAILABLE",
    InsufficientFunds => "INSUFFICIENT_FUNDS",
    // issuer: the bank's answer or availability
    FourElementsNameMismatch => "FOUR_ELEMENTS_NAME_MISMATCH",
    FourElementsIdMismatch => "FOUR_ELEMENTS_ID_MISMATCH",
    FourElementsPhoneMismatch => "FOUR_ELEMENTS_PHONE_MISMATCH",
    CvvMismatch => "CVV_MISMATCH",
    ExpiryMismatch => "EXPIRY_MISMATCH",
    IssuerRestricted => "ISSUER_RESTRICTED",
    CardNotFoundAtIssuer => "CARD_NOT_FOUND_AT_ISSUER",
    IssuerMaintenance => "ISSUER_MAINTENANCE",
    PlatformMaintenance => "PLATFORM_MAINTENANCE",
    IssuerUnavailable => "ISSUER_UNAVAILABLE",
    // OTP challenges
    OtpIncorrect => "OTP_INCORRECT",
    OtpExpired => "OTP_EXPIRED",
    OtpAttemptsExhausted => "OTP_ATTEMPTS_EXHAUSTED",
    OtpResendCooldown => "OTP_RESEND_COOLDOWN",
    BindingNotPending => "BINDING_NOT_PENDING",
    BindingNotActive => "BINDING_NOT_ACTIVE",
    ActivationNotPending => "ACTIVATION_NOT_PENDING",
    /// The binding is frozen (by the holder or the wallet): unfreeze it first.
    BindingFrozen => "BINDING_FROZEN",
    /// An autopay agreement with this merchant already stands on this card.
    MandateAlreadyExists => "MANDATE_ALREADY_EXISTS",
    /// Cancel of an agreement already revoked, expired or failed.
    MandateNotActive => "MANDATE_NOT_ACTIVE",
    /// An autopay charge above the agreement's per-charge limit, or in
    /// another currency.
    MandateLimitExceeded => "MANDATE_LIMIT_EXCEEDED",
    /// Unbind refused: preconditions not met; `details.blockers` lists every
    /// one at once (standing mandates, unsettled payments, a frozen binding,
    /// a locked account) with what resolves each.
    UnbindBlocked => "UNBIND_BLOCKED",
    /// An unbind of this card is already under way (cooling-off running).
    UnbindInProgress => "UNBIND_IN_PROGRESS",
    /// Confirm or revoke with no unbind requested for this card.
    UnbindNotRequested => "UNBIND_NOT_REQUESTED",
    /// Revoke after the cooling-off ended: the card is unbound.
    CoolingOffOver => "COOLING_OFF_OVER",
    /// A payment with a card whose unbind is in its cooling-off.
    BindingUnbinding => "BINDING_UNBINDING",
    /// Delete of a card that is not unbound yet (unbind it with
    /// `delete: true`, or delete it once the unbind completed).
    DeleteRequiresUnbind => "DELETE_REQUIRES_UNBIND",
    /// Delete of a card whose data was already destroyed.
    BindingAlreadyDeleted => "BINDING_ALREADY_DELETED",
    /// Unfreeze of a binding that is not frozen.
    BindingNotFrozen => "BINDING_NOT_FROZEN",
    /// Unfreezing needs the SMS code and, when one is set, the payment password.
    StrongVerificationRequired => "STRONG_VERIFICATION_REQUIRED",
    // payment: tokens, cryptograms and payments
    /// No token with this number.
    TokenNotFound => "TOKEN_NOT_FOUND",
    /// The token is suspended; details say by whom (holder, wallet, issuer, risk).
    TokenSuspended => "TOKEN_SUSPENDED",
    /// The token was deleted (card unbound or replaced); it can never pay again.
    TokenDeleted => "TOKEN_DELETED",
    /// The token is used outside the domain it was provisioned for (another wallet).
    TokenDomainMismatch => "TOKEN_DOMAIN_MISMATCH",
    /// A suspend of a token that is not active, or a resume of one that is not suspended.
    TokenStateConflict => "TOKEN_STATE_CONFLICT",
    /// The suspension was made by the issuer or risk control; only they can lift it.
    TokenResumeNotAllowed => "TOKEN_RESUME_NOT_ALLOWED",
    /// Not a cryptogram this token was given.
    CryptogramInvalid => "CRYPTOGRAM_INVALID",
    /// The cryptogram was already used for a payment.
    CryptogramReplayed => "CRYPTOGRAM_REPLAYED",
    /// The payment's amount, currency or merchant differs from the cryptogram's.
    CryptogramMismatch => "CRYPTOGRAM_MISMATCH",
    CryptogramExpired => "CRYPTOGRAM_EXPIRED",
    /// The bank declined for a reason it does not want told to the payer
    /// (card frozen, lost or stolen, restricted, closed); ops see the precise one.
    IssuerDeclined => "ISSUER_DECLINED",
    /// Capture of a payment that is not authorized, refund of one not captured.
    PaymentStateConflict => "PAYMENT_STATE_CONFLICT",
    /// Capture above the authorized amount, refund above what is left to refund.
    AmountExceedsRemaining => "AMOUNT_EXCEEDS_REMAINING",
    // risk
    RiskLocked => "RISK_LOCKED",
    /// A risk rule asks for the payment password with this request (step-up).
    RiskStepUpRequired => "RISK_STEP_UP_REQUIRED",
    /// A risk rule holds the request for a human review.
    RiskReviewRequired => "RISK_REVIEW_REQUIRED",
    /// An ops unlock of an account with no risk lock running.
    AccountNotLocked => "ACCOUNT_NOT_LOCKED",
    /// A ticket change its status does not allow (escalating one already
    /// escalated or resolved, closing one not resolved).
    TicketStateConflict => "TICKET_STATE_CONFLICT",
    /// A review's materials are malformed, too many, or miss a required type.
    ReviewMaterialsInvalid => "REVIEW_MATERIALS_INVALID",
    /// A review of something there is nothing to review for (no lock, no
    /// held bind, an unverified account for an info change).
    ReviewNotApplicable => "REVIEW_NOT_APPLICABLE",
    /// The account already has a review of this kind waiting.
    ReviewAlreadyPending => "REVIEW_ALREADY_PENDING",
    /// A decision on a review that was already decided.
    ReviewAlreadyDecided => "REVIEW_ALREADY_DECIDED",
    /// An approval before the review's waiting period ended (a lost-phone
    /// change or an identity unfreeze waits a day after submission).
    ReviewWaitingPeriod => "REVIEW_WAITING_PERIOD",
    /// A rotation of an API key that is revoked, expired or rotated already.
    ApiKeyNotActive => "API_KEY_NOT_ACTIVE",
    // system
    Internal => "INTERNAL",
}
