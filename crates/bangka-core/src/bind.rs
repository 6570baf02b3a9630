//! The bind request and its local checks (SPEC "The bind flow", step 2), in
//! the order the spec gives. Pure: the caller gathers the facts, this decides.

use serde_json::json;
use time::OffsetDateTime;

use crate::bin::{self, CardFacts, WalletPolicy};
use crate::card::{Cvv, Expiry, Pan};
use crate::catalog::ErrorCode;
use crate::failure::Failure;
use crate::holder::{HolderName, IdNumber, Phone};

/// A bind request after parsing: every field valid by construction.
#[derive(Debug)]
pub struct BindRequest {
    pub pan: Pan,
    pub facts: CardFacts,
    pub holder_name: HolderName,
    pub id_number: IdNumber,
    pub phone: Phone,
    pub expiry: Option<Expiry>,
    pub cvv: Option<Cvv>,
}

/// The raw fields as they arrive.
pub struct RawCardHolder<'a> {
    pub card_number: &'a str,
    pub holder_name: &'a str,
    pub id_number: &'a str,
    pub phone: &'a str,
    pub expiry: Option<&'a str>,
    pub cvv: Option<&'a str>,
}

impl BindRequest {
    /// Format, Luhn, BIN, wallet policy, expiry and the ID check digit, in that
    /// order; the first failing check names the error.
    pub fn parse(raw: RawCardHolder<'_>, policy: &WalletPolicy, now: OffsetDateTime) -> Result<BindRequest, Failure> {
        let pan = Pan::parse(raw.card_number)?;
        let facts = bin::lookup(&pan).map_err(|code| match bin::expected_length(&pan) {
            // A known bank's card with too many or too few digits: say how many.
            Some(n) if code == ErrorCode::CardNumberFormat => {
                Failure::new(code).with_details(json!({ "expected_digits": n, "digits_entered": pan.expose().len() }))
            }
            _ => code.into(),
        })?;
        policy.check(&facts).map_err(|code| match code {
            // Which region the card is from, and which the wallet takes.
            ErrorCode::CardRegionNotAccepted => Failure::new(code).with_details(json!({
                "card_region": bin::issuer(facts.issuer).map(|i| i.region),
                "accepted_regions": policy.regions,
            })),
            other => other.into(),
        })?;
        let expiry = raw.expiry.filter(|s| !s.trim().is_empty()).map(Expiry::parse).transpose()?;
        let cvv = raw.cvv.filter(|s| !s.trim().is_empty()).map(Cvv::parse).transpose()?;
        if facts.card_type.needs_expiry_and_cvv() && (expiry.is_none() || cvv.is_none()) {
            return Err(ErrorCode::CreditCardDetailsRequired.into());
        }
        if let Some(e) = expiry
            && e.is_expired_at(now.year(), now.month() as u8)
        {
            return Err(ErrorCode::CardExpired.into());
        }
        let holder_name = HolderName::parse(raw.holder_name)?;
        let id_number = IdNumber::parse(raw.id_number)?;
        let phone = Phone::parse(raw.phone)?;
        Ok(BindRequest { pan, facts, holder_name, id_number, phone, expiry, cvv })
    }
}

/// The account's real-name state, as far as binding cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KycState {
    Unverified,
    Verified,
    Rejected,
}

impl KycState {
    pub fn as_str(self) -> &'static str {
        match self {
            KycState::Unverified => "unverified",
            KycState::Verified => "verified",
            KycState::Rejected => "rejected",
        }
    }

    pub const ALL: [KycState; 3] = [KycState::Unverified, KycState::Verified, KycState::Rejected];

    pub fn parse(s: &str) -> Option<KycState> {
        KycState::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// The account's standing (SPEC "Account"). A risk lock is separate
/// (`locked_until`): it ends by itself, a freeze only by the holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Active,
    /// Frozen by the holder (unknown transactions, a lost phone): nothing
    /// pays, binds or unbinds until it is unfrozen with strong verification.
    Frozen,
    Closed,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::Active => "active",
            AccountStatus::Frozen => "frozen",
            AccountStatus::Closed => "closed",
        }
    }

    pub const ALL: [AccountStatus; 3] = [AccountStatus::Active, AccountStatus::Frozen, AccountStatus::Closed];

    pub fn parse(s: &str) -> Option<AccountStatus> {
        AccountStatus::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Why a holder froze the whole account (seed 001: unknown transactions →
/// freeze the account, then contact support).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountFreezeReason {
    /// Transactions the holder does not recognise.
    UnknownTransactions,
    /// The phone with the wallet on it is lost or stolen.
    PhoneLost,
    /// Someone else may know the password or have used the account.
    AccountCompromised,
    HolderRequest,
}

impl AccountFreezeReason {
    pub const ALL: [AccountFreezeReason; 4] = [
        AccountFreezeReason::UnknownTransactions,
        AccountFreezeReason::PhoneLost,
        AccountFreezeReason::AccountCompromised,
        AccountFreezeReason::HolderRequest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AccountFreezeReason::UnknownTransactions => "unknown_transactions",
            AccountFreezeReason::PhoneLost => "phone_lost",
            AccountFreezeReason::AccountCompromised => "account_compromised",
            AccountFreezeReason::HolderRequest => "holder_request",
        }
    }

    pub fn parse(s: &str) -> Option<AccountFreezeReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The freeze names the phone or the account itself as in someone
    /// else's hands: no recovery may run through it (a password reset or
    /// an unfreeze by a code sent to that phone). Only a reviewed phone
    /// change or an identity review lifts it (issue 24).
    pub fn distrusts_phone(self) -> bool {
        matches!(self, AccountFreezeReason::PhoneLost | AccountFreezeReason::AccountCompromised)
    }
}

/// A live binding, as shown in a limit error (masked facts only).
#[derive(Debug, Clone, serde::Serialize)]
pub struct LiveCard {
    pub binding_id: String,
    pub issuer: String,
    pub card_type: String,
    pub last4: String,
}

/// The facts the account-side checks need, gathered by the caller.
pub struct AccountFacts<'a> {
    pub status: AccountStatus,
    pub kyc: KycState,
    pub name_matches_kyc: bool,
    pub id_matches_kyc: bool,
    pub live_cards: &'a [LiveCard],
    /// The live binding of this same card in this account, if any.
    pub duplicate_of: Option<&'a str>,
    pub locked_until: Option<OffsetDateTime>,
    pub issuer_maintenance_until: Option<OffsetDateTime>,
}

/// Account frozen, KYC, name/ID consistency, duplicate card, binding limit,
/// risk lock, issuer maintenance — checked before anything is sent to the
/// issuer.
pub fn check_account(f: &AccountFacts<'_>, policy: &WalletPolicy, now: OffsetDateTime) -> Result<(), Failure> {
    if f.status == AccountStatus::Frozen {
        return Err(ErrorCode::AccountFrozen.into());
    }
    match f.kyc {
        KycState::Unverified => return Err(ErrorCode::KycRequired.into()),
        KycState::Rejected => return Err(ErrorCode::KycRejected.into()),
        KycState::Verified => {}
    }
    if !f.name_matches_kyc {
        return Err(ErrorCode::HolderNameNotKycName.into());
    }
    if !f.id_matches_kyc {
        return Err(ErrorCode::HolderIdNotKycId.into());
    }
    if let Some(existing) = f.duplicate_of {
        return Err(Failure::new(ErrorCode::CardAlreadyBound).with_details(json!({ "binding_id": existing })));
    }
    if f.live_cards.len() as u32 >= policy.binding_limit {
        return Err(
            Failure::new(ErrorCode::BindingLimitReached).with_details(json!({ "limit": policy.binding_limit, "cards": f.live_cards }))
        );
    }
    if let Some(until) = f.locked_until.filter(|u| *u > now) {
        return Err(Failure::new(ErrorCode::RiskLocked).retry_at(until));
    }
    if let Some(until) = f.issuer_maintenance_until.filter(|u| *u > now) {
        return Err(Failure::new(ErrorCode::IssuerMaintenance).retry_at(until));
    }
    Ok(())
}

/// KYC admission: adults of 16 or more may hold a wallet account.
pub const MIN_KYC_AGE: i32 = 16;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::card::luhn_check_digit;
    use crate::holder::id_check_char;
    use time::Duration;

    fn pan(prefix: &str, len: usize) -> String {
        let p = format!("{prefix}{}", "1".repeat(len - prefix.len() - 1));
        format!("{p}{}", luhn_check_digit(&p))
    }

    fn id() -> String {
        let p = "11010519900307123";
        format!("{p}{}", id_check_char(p))
    }

    fn raw<'a>(card: &'a str, id: &'a str, expiry: Option<&'a str>, cvv: Option<&'a str>) -> RawCardHolder<'a> {
        RawCardHolder { card_number: card, holder_name: "张三", id_number: id, phone: "13800138000", expiry, cvv }
    }

    fn now() -> OffsetDateTime {
        time::macros::datetime!(2026-11-23 12:00 UTC)
    }

    #[test]
    fn parse_orders_checks() {
        let p = WalletPolicy::default();
        let id = id();
        assert_eq!(BindRequest::parse(raw("12ab", &id, None, None), &p, now()).unwrap_err().code, ErrorCode::CardNumberFormat);
        // An ICBC debit number one digit short: the answer says how many it needs.
        let short = pan("622202", 18);
        let e = BindRequest::parse(raw(&short, &id, None, None), &p, now()).unwrap_err();
        assert_eq!((e.code, e.details.unwrap()), (ErrorCode::CardNumberFormat, json!({ "expected_digits": 19, "digits_entered": 18 })));
        let rural = pan("623066", 19);
        assert_eq!(BindRequest::parse(raw(&rural, &id, None, None), &p, now()).unwrap_err().code, ErrorCode::IssuerNotSupported);
        let credit = pan("427020", 16);
        assert_eq!(BindRequest::parse(raw(&credit, &id, None, None), &p, now()).unwrap_err().code, ErrorCode::CreditCardDetailsRequired);
        assert_eq!(BindRequest::parse(raw(&credit, &id, Some("01/25"), Some("123")), &p, now()).unwrap_err().code, ErrorCode::CardExpired);
        assert!(BindRequest::parse(raw(&credit, &id, Some("01/29"), Some("123")), &p, now()).is_ok());
        let bad_id = format!("{}0", &id[..17]);
        let debit = pan("622202", 19);
        if bad_id != id {
            assert_eq!(BindRequest::parse(raw(&debit, &bad_id, None, None), &p, now()).unwrap_err().code, ErrorCode::IdNumberCheckDigit);
        }
    }

    fn facts<'a>(cards: &'a [LiveCard]) -> AccountFacts<'a> {
        AccountFacts {
            status: AccountStatus::Active,
            kyc: KycState::Verified,
            name_matches_kyc: true,
            id_matches_kyc: true,
            live_cards: cards,
            duplicate_of: None,
            locked_until: None,
            issuer_maintenance_until: None,
        }
    }

    #[test]
    fn account_checks() {
        let p = WalletPolicy::default();
        assert!(check_account(&facts(&[]), &p, now()).is_ok());
        let f = AccountFacts { kyc: KycState::Unverified, ..facts(&[]) };
        assert_eq!(check_account(&f, &p, now()).unwrap_err().code, ErrorCode::KycRequired);
        let f = AccountFacts { name_matches_kyc: false, ..facts(&[]) };
        assert_eq!(check_account(&f, &p, now()).unwrap_err().code, ErrorCode::HolderNameNotKycName);
        let f = AccountFacts { duplicate_of: Some("bnd_1"), ..facts(&[]) };
        let e = check_account(&f, &p, now()).unwrap_err();
        assert_eq!(e.details.unwrap()["binding_id"], "bnd_1");
        let cards: Vec<LiveCard> = (0..5)
            .map(|i| LiveCard { binding_id: format!("b{i}"), issuer: "ICBC".into(), card_type: "debit".into(), last4: "0000".into() })
            .collect();
        let e = check_account(&facts(&cards), &p, now()).unwrap_err();
        assert_eq!(e.code, ErrorCode::BindingLimitReached);
        assert_eq!(e.details.unwrap()["cards"].as_array().unwrap().len(), 5);
        let until = now() + Duration::minutes(30);
        let f = AccountFacts { locked_until: Some(until), ..facts(&[]) };
        assert_eq!(check_account(&f, &p, now()).unwrap_err().retry_after, Some(until));
        let f = AccountFacts { locked_until: Some(now() - Duration::minutes(1)), ..facts(&[]) };
        assert!(check_account(&f, &p, now()).is_ok());
        let f = AccountFacts { issuer_maintenance_until: Some(until), ..facts(&[]) };
        assert_eq!(check_account(&f, &p, now()).unwrap_err().code, ErrorCode::IssuerMaintenance);
        let f = AccountFacts { status: AccountStatus::Frozen, kyc: KycState::Unverified, ..facts(&[]) };
        assert_eq!(check_account(&f, &p, now()).unwrap_err().code, ErrorCode::AccountFrozen, "a frozen account is named first");
    }

    #[test]
    fn account_status_and_freeze_reason_names() {
        for s in [AccountStatus::Active, AccountStatus::Frozen, AccountStatus::Closed] {
            assert_eq!(AccountStatus::parse(s.as_str()), Some(s));
        }
        for r in AccountFreezeReason::ALL {
            assert_eq!(AccountFreezeReason::parse(r.as_str()), Some(r));
            let json = format!("\"{}\"", r.as_str());
            assert_eq!(serde_json::from_str::<AccountFreezeReason>(&json).unwrap(), r);
        }
        assert_eq!(AccountStatus::parse("locked"), None);
    }
}
