//! Manual review (seeds 000/003: "提交身份证照片等材料人工审核", "实名信息
//! 与绑卡信息不一致 → 修改实名信息"). A holder stopped by risk control, or
//! whose real-name record is wrong, sends a review with materials; a risk
//! reviewer approves or rejects it with a reason.

use serde::Serialize;

use crate::catalog::ErrorCode;

/// What the holder asks to be reviewed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewKind {
    /// Lift a risk lock on the account (and the card/device/IP locks its attempts caused).
    RiskLock,
    /// Let a card held for review (`RISK_REVIEW_REQUIRED`) be bound to this account.
    Bind,
    /// An unbind stopped by a risk lock: lift it so the unbind can go on.
    Unbind,
    /// Change the account's real-name record (name and ID number).
    InfoChange,
    /// Verify the real name by a person, when the automatic check rejected
    /// it wrongly (an ID number whose birth date is wrong on record, say).
    Kyc,
    /// Move the account to a new phone when the old one is lost (its SMS
    /// codes cannot arrive); approving also lifts a `phone_lost` or
    /// `account_compromised` freeze.
    PhoneChange,
    /// Lift an account freeze that distrusts the phone (`phone_lost`,
    /// `account_compromised`) while keeping the number (the carrier gave it
    /// back): an identity check by a person, which the lost phone cannot
    /// pass. Approving unfreezes the account and counts the phone as proven
    /// again, so a card frozen `phone_lost` can then be unfrozen by code.
    Unfreeze,
}

impl ReviewKind {
    pub const ALL: [ReviewKind; 7] = [
        ReviewKind::RiskLock,
        ReviewKind::Bind,
        ReviewKind::Unbind,
        ReviewKind::InfoChange,
        ReviewKind::Kyc,
        ReviewKind::PhoneChange,
        ReviewKind::Unfreeze,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ReviewKind::RiskLock => "risk_lock",
            ReviewKind::Bind => "bind",
            ReviewKind::Unbind => "unbind",
            ReviewKind::InfoChange => "info_change",
            ReviewKind::Kyc => "kyc",
            ReviewKind::PhoneChange => "phone_change",
            ReviewKind::Unfreeze => "unfreeze",
        }
    }

    pub fn parse(s: &str) -> Option<ReviewKind> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Materials a review of this kind cannot do without: proving who the
    /// holder is takes both sides of the ID card; a card held for review
    /// also takes a photo of the card.
    pub fn required_materials(self) -> &'static [MaterialType] {
        match self {
            ReviewKind::RiskLock | ReviewKind::Unbind | ReviewKind::InfoChange => &[MaterialType::IdFront, MaterialType::IdBack],
            ReviewKind::Bind => &[MaterialType::IdFront, MaterialType::IdBack, MaterialType::BankCard],
            // Who asks matters most when the account's own phone cannot
            // confirm it: the holder holding the ID card too.
            ReviewKind::Kyc | ReviewKind::PhoneChange | ReviewKind::Unfreeze => {
                &[MaterialType::IdFront, MaterialType::IdBack, MaterialType::Selfie]
            }
        }
    }

    /// How long after submission a reviewer may approve (issue 24, finding
    /// 3). The kinds that hand the account to a phone it has not proven —
    /// a new one, or one it had reported lost — wait a day, so whoever still
    /// has the account's phone, push or email hears of it (each step is
    /// told there) and can withdraw it before it takes effect.
    pub fn waiting_period(self) -> time::Duration {
        match self {
            ReviewKind::PhoneChange | ReviewKind::Unfreeze => LOST_PHONE_WAIT,
            _ => time::Duration::ZERO,
        }
    }
}

/// The waiting period of a review that moves an account off a phone that
/// cannot answer.
pub const LOST_PHONE_WAIT: time::Duration = time::Duration::hours(24);

/// `submitted → approved | rejected | withdrawn | void`, ended once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewStatus {
    Submitted,
    Approved,
    Rejected,
    /// The holder took it back before a reviewer decided.
    Withdrawn,
    /// The account changed under it (the phone moved by another way) before
    /// a reviewer decided: deciding it now would act on a stale request.
    Void,
}

impl ReviewStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewStatus::Submitted => "submitted",
            ReviewStatus::Approved => "approved",
            ReviewStatus::Rejected => "rejected",
            ReviewStatus::Withdrawn => "withdrawn",
            ReviewStatus::Void => "void",
        }
    }

    pub const ALL: [ReviewStatus; 5] =
        [ReviewStatus::Submitted, ReviewStatus::Approved, ReviewStatus::Rejected, ReviewStatus::Withdrawn, ReviewStatus::Void];

    pub fn parse(s: &str) -> Option<ReviewStatus> {
        ReviewStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// A kind of supporting document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MaterialType {
    IdFront,
    IdBack,
    BankCard,
    /// The holder holding the ID card (手持身份证).
    Selfie,
    Other,
}

impl MaterialType {
    pub fn parse(s: &str) -> Option<MaterialType> {
        [MaterialType::IdFront, MaterialType::IdBack, MaterialType::BankCard, MaterialType::Selfie, MaterialType::Other]
            .into_iter()
            .find(|m| m.as_str() == s)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MaterialType::IdFront => "id_front",
            MaterialType::IdBack => "id_back",
            MaterialType::BankCard => "bank_card",
            MaterialType::Selfie => "selfie",
            MaterialType::Other => "other",
        }
    }
}

/// A reference to a document the wallet stored (Bangka keeps the reference,
/// never the image): 1–200 characters of `A–Z a–z 0–9 . _ : / -`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Material {
    #[serde(rename = "type")]
    pub kind: MaterialType,
    #[serde(rename = "ref")]
    pub reference: String,
}

impl Material {
    pub fn parse(kind: &str, reference: &str) -> Result<Material, ErrorCode> {
        let kind = MaterialType::parse(kind).ok_or(ErrorCode::ReviewMaterialsInvalid)?;
        if !is_document_reference(reference) {
            return Err(ErrorCode::ReviewMaterialsInvalid);
        }
        Ok(Material { kind, reference: reference.to_owned() })
    }
}

/// Whether `s` can name a document the wallet stored (a review's material,
/// a ticket's attachment): 1–200 characters of `A–Z a–z 0–9 . _ : / -`, so
/// a reference never carries free text, let alone an image.
pub fn is_document_reference(s: &str) -> bool {
    let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'/' | b'-');
    !s.is_empty() && s.len() <= 200 && s.bytes().all(ok)
}

/// Checks a review's materials: 1 to 10, and those the kind requires.
/// Returns the missing types when some are.
pub fn check_materials(kind: ReviewKind, materials: &[Material]) -> Result<(), Vec<MaterialType>> {
    let missing: Vec<MaterialType> =
        kind.required_materials().iter().copied().filter(|t| !materials.iter().any(|m| m.kind == *t)).collect();
    if missing.is_empty() && materials.len() <= 10 { Ok(()) } else { Err(missing) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn materials_parse_and_kinds_require_theirs() {
        let front = Material::parse("id_front", "wallet://docs/abc-1.jpg").unwrap();
        let back = Material::parse("id_back", "wallet://docs/abc-2.jpg").unwrap();
        assert_eq!(Material::parse("passport", "x"), Err(ErrorCode::ReviewMaterialsInvalid));
        assert_eq!(Material::parse("id_front", "has space"), Err(ErrorCode::ReviewMaterialsInvalid));
        assert_eq!(Material::parse("id_front", ""), Err(ErrorCode::ReviewMaterialsInvalid));
        assert!(check_materials(ReviewKind::RiskLock, &[front.clone(), back.clone()]).is_ok());
        assert_eq!(check_materials(ReviewKind::Bind, &[front.clone(), back.clone()]), Err(vec![MaterialType::BankCard]));
        assert_eq!(check_materials(ReviewKind::InfoChange, std::slice::from_ref(&front)), Err(vec![MaterialType::IdBack]));
        let many = vec![front; 11];
        assert!(check_materials(ReviewKind::Unbind, &[many, vec![back]].concat()).is_err());
    }

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in ReviewKind::ALL {
            assert_eq!(ReviewKind::parse(k.as_str()), Some(k));
        }
        for s in ReviewStatus::ALL {
            assert_eq!(ReviewStatus::parse(s.as_str()), Some(s));
        }
    }
}
