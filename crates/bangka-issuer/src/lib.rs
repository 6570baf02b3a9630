//! The issuer side: the [`IssuerConnector`] trait Bangka talks to banks
//! through, and [`Simulator`], an in-process issuer that behaves like several
//! real banks (cards in every state, four-element checks that say which
//! element mismatched, maintenance windows, faults).
//!
//! Architecture invariant: the connector never sends OTPs or stores anything
//! of Bangka's; Bangka owns challenges and notifications. A networked
//! connector implements the same trait.

mod simulator;

use async_trait::async_trait;
use bangka_core::Failure;
use bangka_core::card::{Cvv, Expiry, Pan};
use bangka_core::holder::{HolderName, IdNumber, Phone};
use time::OffsetDateTime;

pub use simulator::{Simulator, TestCard};

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

    /// Authorizes `amount_fen` on the card (a hold on balance or credit);
    /// returns the issuer's authorization id. Refusals name the cause.
    async fn authorize(&self, pan: &Pan, amount_fen: i64) -> Result<String, Failure>;

    /// Releases an authorization's hold.
    async fn void(&self, authorization: &str) -> Result<(), Failure>;

    /// The issuer's announced maintenance windows (current and upcoming).
    async fn maintenance_windows(&self) -> Vec<MaintenanceWindow>;
}
