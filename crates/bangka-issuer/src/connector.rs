//! What Bangka asks a bank and what it sends with the question: the
//! [`IssuerConnector`] trait every bank (simulated or over the network)
//! implements.

use async_trait::async_trait;
use bangka_core::Failure;
use bangka_core::card::{Cvv, Expiry, Pan};
use bangka_core::holder::{HolderName, IdNumber, Phone};
use time::OffsetDateTime;

/// The card and holder data sent to the issuer for verification. Borrowed:
/// the connector keeps none of it.
#[derive(Debug, Clone, Copy)]
pub struct CardHolder<'a> {
    pub pan: &'a Pan,
    pub holder_name: &'a HolderName,
    pub id_number: &'a IdNumber,
    pub phone: &'a Phone,
    pub expiry: Option<&'a Expiry>,
    pub cvv: Option<&'a Cvv>,
}

/// A scheduled maintenance window announced by an issuer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaintenanceWindow {
    pub issuer: String,
    pub starts_at: OffsetDateTime,
    pub ends_at: OffsetDateTime,
    /// The bank's announcement, in Chinese and English.
    pub message_zh: String,
    pub message_en: String,
}

impl MaintenanceWindow {
    pub fn is_active(&self, now: OffsetDateTime) -> bool {
        self.starts_at <= now && now < self.ends_at
    }
}

#[async_trait]
pub trait IssuerConnector: Send + Sync {
    /// Checks the four elements (and expiry/CVV for credit cards) and the
    /// card's state, for binding. A refusal names the precise cause.
    async fn verify_for_binding(&self, card: CardHolder<'_>) -> Result<(), Failure>;

    /// Checks the four elements for activation: succeeds only for a card
    /// that exists, matches and is not yet activated.
    async fn verify_for_activation(&self, card: CardHolder<'_>) -> Result<(), Failure>;

    /// Activates the card (after Bangka verified the holder's OTP; the
    /// elements were checked by `verify_for_activation`).
    async fn activate(&self, pan: &Pan) -> Result<(), Failure>;

    /// Authorizes `amount_fen` on the card (a hold on balance or credit) and
    /// returns the issuer's authorization code. Refusals name the cause.
    /// Idempotent per `reference` (Bangka's payment id): a repeat returns
    /// the first answer's hold and never holds twice.
    async fn authorize(&self, pan: &Pan, amount_fen: i64, reference: &str) -> Result<String, Failure>;

    /// What became of the authorization asked for under `reference`: its
    /// authorization code while the hold stands (or was captured), `None`
    /// when the bank never authorized it (or released it). For an outcome a
    /// lost answer left unknown; asking never acts.
    async fn authorization(&self, reference: &str) -> Result<Option<String>, Failure>;

    /// Releases the hold of the authorization made under `reference`.
    /// Idempotent; a reference with no hold (the authorization never
    /// arrived) is a success.
    async fn void(&self, reference: &str) -> Result<(), Failure>;

    /// Takes `amount_fen` (at most the held amount) of the authorization;
    /// the rest of the hold is released. Idempotent per `reference`.
    async fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), Failure>;

    /// Returns `amount_fen` of a captured payment to the card. Idempotent
    /// per `refund_id`.
    async fn refund(&self, reference: &str, refund_id: &str, amount_fen: i64) -> Result<(), Failure>;

    /// The holder reports the card lost or stolen: the bank blocks it (and
    /// will replace it). Idempotent.
    async fn report_lost(&self, pan: &Pan, stolen: bool) -> Result<(), Failure>;

    /// The card's standing at the bank, asked without acting on it (for a
    /// diagnosis of a bound card): `Ok` when it can be used online, or the
    /// precise cause (closed, frozen, lost, expired, online payments off,
    /// restricted).
    async fn card_status(&self, pan: &Pan) -> Result<(), Failure>;

    /// The issuer's announced maintenance windows (current and upcoming).
    async fn maintenance_windows(&self) -> Vec<MaintenanceWindow>;

    /// Whether the bank answers now (readiness). An in-process bank always does.
    async fn ready(&self) -> bool {
        true
    }

    /// The issuers this connector has stopped calling for a while (an open
    /// circuit), with when it calls them again.
    fn open_circuits(&self) -> Vec<(String, OffsetDateTime)> {
        Vec::new()
    }
}
