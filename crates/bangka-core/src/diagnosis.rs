//! The seeds' triage checklist ("绑卡失败怎么办：逐项检查…"), as data.
//!
//! A bind goes through its checks in a fixed order: the card number, the
//! wallet's acceptance, the account's standing and real name, duplicates
//! and the binding limit, maintenance and risk, then the bank (is it up,
//! the card's state, each of the four elements, CVV and expiry), then the
//! SMS code. An attempt that failed with code C failed at C's check: every
//! check before it passed, the ones after it were never reached
//! (`unknown`). The server adds evidence from live state; this module only
//! decides the shape, so it is pure and fully tested.

use serde::Serialize;

use crate::catalog::{ErrorCode, Text};

/// One item of the checklist, in the order a bind meets them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The card number, expiry and CVV are well-formed (length, Luhn, BIN).
    CardFormat,
    /// The wallet accepts this bank and card type.
    CardAccepted,
    /// The account is not frozen and not risk-locked.
    AccountStanding,
    /// Real-name verification is done and the holder's name and ID match it.
    AccountKyc,
    /// The card is not already bound to the account.
    DuplicateCard,
    /// The account has room for another card.
    BindingLimit,
    /// The bank is not in a maintenance window.
    IssuerMaintenance,
    /// No risk rule holds the card, device or account.
    RiskControl,
    /// The bank answered.
    IssuerAvailable,
    /// The card at the bank: activated, not frozen, lost, expired, closed or
    /// restricted, online payments on.
    IssuerCardState,
    /// The four elements, one by one, as the bank checked them.
    HolderName,
    IdNumber,
    ReservedPhone,
    Cvv,
    Expiry,
    /// The SMS code: delivered, typed in time, within its tries.
    Otp,
}

/// Every check, in order.
pub const CHECKLIST: &[Check] = &[
    Check::CardFormat,
    Check::CardAccepted,
    Check::AccountStanding,
    Check::AccountKyc,
    Check::DuplicateCard,
    Check::BindingLimit,
    Check::IssuerMaintenance,
    Check::RiskControl,
    Check::IssuerAvailable,
    Check::IssuerCardState,
    Check::HolderName,
    Check::IdNumber,
    Check::ReservedPhone,
    Check::Cvv,
    Check::Expiry,
    Check::Otp,
];

impl Check {
    pub fn as_str(self) -> &'static str {
        match self {
            Check::CardFormat => "card_format",
            Check::CardAccepted => "card_accepted",
            Check::AccountStanding => "account_standing",
            Check::AccountKyc => "account_kyc",
            Check::DuplicateCard => "duplicate_card",
            Check::BindingLimit => "binding_limit",
            Check::IssuerMaintenance => "issuer_maintenance",
            Check::RiskControl => "risk_control",
            Check::IssuerAvailable => "issuer_available",
            Check::IssuerCardState => "issuer_card_state",
            Check::HolderName => "holder_name",
            Check::IdNumber => "id_number",
            Check::ReservedPhone => "reserved_phone",
            Check::Cvv => "cvv",
            Check::Expiry => "expiry",
            Check::Otp => "otp",
        }
    }

    /// What the item checks, in the holder's words.
    pub fn title(self) -> Text {
        let t = |zh, en| Text { zh, en };
        match self {
            Check::CardFormat => t("卡号、有效期和安全码的格式", "The card number, expiry date and security code are well formed"),
            Check::CardAccepted => t("钱包是否支持这家银行和这种卡", "The wallet accepts this bank and this kind of card"),
            Check::AccountStanding => t("钱包账户没有被冻结或锁定", "The wallet account is not frozen or locked"),
            Check::AccountKyc => t("实名认证已完成，且与卡片信息一致", "Real-name verification is done and matches the card"),
            Check::DuplicateCard => t("这张卡没有重复绑定", "The card is not bound twice"),
            Check::BindingLimit => t("账户还能再绑定卡片", "The account has room for another card"),
            Check::IssuerMaintenance => t("银行和平台不在维护中", "Neither the bank nor the platform is under maintenance"),
            Check::RiskControl => t("没有风控限制", "No risk-control hold"),
            Check::IssuerAvailable => t("银行系统可以正常应答", "The bank's system answers"),
            Check::IssuerCardState => t(
                "卡片在银行的状态正常（已激活、未冻结、未挂失、未过期、已开通网上支付）",
                "The card is in good standing at the bank (activated, not frozen, lost or expired, online payments on)",
            ),
            Check::HolderName => t("持卡人姓名与银行登记的一致", "The holder's name matches the bank's record"),
            Check::IdNumber => t("身份证号与银行登记的一致", "The ID number matches the bank's record"),
            Check::ReservedPhone => t("手机号是银行预留手机号", "The phone number is the one registered with the bank"),
            Check::Cvv => t("安全码（CVV）正确", "The security code (CVV) is right"),
            Check::Expiry => t("有效期正确", "The expiry date is right"),
            Check::Otp => t("短信验证码已送达并在有效期内正确输入", "The SMS code arrived and was entered correctly in time"),
        }
    }

    /// The check a failure with `code` failed, if it is one of the checklist's.
    pub fn failed_by(code: ErrorCode) -> Option<Check> {
        use ErrorCode as E;
        Some(match code {
            E::CardNumberFormat | E::CardNumberLuhn | E::CardBinUnknown | E::ExpiryFormat | E::CvvFormat | E::CreditCardDetailsRequired => {
                Check::CardFormat
            }
            E::IssuerNotSupported | E::CardTypeNotAccepted | E::CardRegionNotAccepted => Check::CardAccepted,
            E::AccountFrozen => Check::AccountStanding,
            E::KycRequired | E::KycRejected | E::HolderNameNotKycName | E::HolderIdNotKycId => Check::AccountKyc,
            E::CardAlreadyBound => Check::DuplicateCard,
            E::BindingLimitReached => Check::BindingLimit,
            E::IssuerMaintenance | E::PlatformMaintenance => Check::IssuerMaintenance,
            E::RiskLocked | E::RiskStepUpRequired | E::RiskReviewRequired => Check::RiskControl,
            E::IssuerUnavailable => Check::IssuerAvailable,
            E::CardNotActivated
            | E::CardFrozen
            | E::CardReportedLost
            | E::CardUnavailable
            | E::CardExpired
            | E::CardClosed
            | E::OnlinePaymentsDisabled
            | E::IssuerRestricted
            | E::CardNotFoundAtIssuer
            | E::InsufficientFunds
            | E::IssuerDeclined => Check::IssuerCardState,
            E::FourElementsNameMismatch => Check::HolderName,
            E::FourElementsIdMismatch => Check::IdNumber,
            E::FourElementsPhoneMismatch => Check::ReservedPhone,
            E::CvvMismatch => Check::Cvv,
            E::ExpiryMismatch => Check::Expiry,
            E::OtpIncorrect | E::OtpExpired | E::OtpAttemptsExhausted | E::OtpResendCooldown => Check::Otp,
            _ => return None,
        })
    }
}

/// An item's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Passed,
    Failed,
    Unknown,
}

impl Verdict {
    /// The result in the holder's words.
    pub fn summary(self) -> Text {
        match self {
            Verdict::Passed => Text { zh: "这一项没有问题。", en: "This item is fine." },
            Verdict::Failed => Text { zh: "问题出在这一项。", en: "This is where the problem is." },
            Verdict::Unknown => Text {
                zh: "这次操作没有进行到这一步，还无法判断。",
                en: "The operation did not get this far, so this cannot be told yet.",
            },
        }
    }
}

/// The checklist for an attempt that ended with `code` (`None`: it
/// succeeded). A code outside the checklist (a malformed request, our own
/// failure) leaves every item unknown.
pub fn triage(code: Option<ErrorCode>) -> Vec<(Check, Verdict)> {
    let failed_at = match code {
        None => None,
        Some(c) => match Check::failed_by(c) {
            Some(check) => Some(check),
            None => return CHECKLIST.iter().map(|c| (*c, Verdict::Unknown)).collect(),
        },
    };
    let position = failed_at.and_then(|f| CHECKLIST.iter().position(|c| *c == f));
    CHECKLIST
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let v = match position {
                None => Verdict::Passed,
                Some(p) if i < p => Verdict::Passed,
                Some(p) if i == p => Verdict::Failed,
                Some(_) => Verdict::Unknown,
            };
            (*c, v)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(items: &[(Check, Verdict)], c: Check) -> Verdict {
        items.iter().find(|(x, _)| *x == c).unwrap().1
    }

    #[test]
    fn a_phone_mismatch_fails_the_reserved_phone_and_nothing_before_it() {
        let t = triage(Some(ErrorCode::FourElementsPhoneMismatch));
        assert_eq!(verdict(&t, Check::ReservedPhone), Verdict::Failed);
        assert_eq!(verdict(&t, Check::HolderName), Verdict::Passed);
        assert_eq!(verdict(&t, Check::AccountKyc), Verdict::Passed);
        assert_eq!(verdict(&t, Check::Otp), Verdict::Unknown, "never reached");
        assert_eq!(t.iter().filter(|(_, v)| *v == Verdict::Failed).count(), 1);
    }

    #[test]
    fn every_check_has_a_title_in_both_languages() {
        for c in CHECKLIST {
            let t = c.title();
            assert!(!t.zh.is_empty() && t.en.is_ascii() && !t.en.is_empty(), "{c:?}");
        }
    }

    #[test]
    fn success_passes_all_and_unrelated_codes_know_nothing() {
        assert!(triage(None).iter().all(|(_, v)| *v == Verdict::Passed));
        assert!(triage(Some(ErrorCode::MalformedRequest)).iter().all(|(_, v)| *v == Verdict::Unknown));
        assert_eq!(triage(None).len(), CHECKLIST.len());
    }

    #[test]
    fn every_bind_failure_has_its_check() {
        use ErrorCode as E;
        for c in [
            E::CardNumberLuhn,
            E::CardTypeNotAccepted,
            E::AccountFrozen,
            E::KycRequired,
            E::CardAlreadyBound,
            E::BindingLimitReached,
            E::IssuerMaintenance,
            E::RiskLocked,
            E::IssuerUnavailable,
            E::CardNotActivated,
            E::CardReportedLost,
            E::FourElementsNameMismatch,
            E::FourElementsIdMismatch,
            E::CvvMismatch,
            E::ExpiryMismatch,
            E::OtpExpired,
        ] {
            assert!(Check::failed_by(c).is_some(), "{c:?}");
            assert_eq!(triage(Some(c)).iter().filter(|(_, v)| *v == Verdict::Failed).count(), 1);
        }
    }
}
