//! Bangka's domain core: pure, no I/O (no sqlx, axum or tokio here).
//!
//! # Layout
//! - [`secret`]: `Secret<T, Strategy>`, values that cannot print.
//! - [`card`], [`holder`], [`otp`]: parsed input types (`Pan`, `Cvv`, `Expiry`,
//!   `HolderName`, `IdNumber`, `Phone`, `Otp`), valid by construction.
//! - [`bin`]: the BIN table, issuers and the wallet's acceptance policy.
//! - [`bind`]: the bind request and the ordered local checks.
//! - [`binding`]: the binding lifecycle state machine.
//! - [`risk`]: velocity rules and locks.
//! - [`session`]: holder sessions, device ids and client IPs.
//! - [`diagnosis`]: the triage checklist a failed bind is explained by.
//! - [`review`]: manual review with materials (risk locks, held binds, real-name changes).
//! - [`ticket`]: support tickets (status, category, deadline, number).
//! - [`token`]: the token lifecycle (who may suspend and resume), token
//!   numbers and cryptograms as presented.
//! - [`mandate`]: autopay agreements (kinds, statuses, what blocks an unbind).
//! - [`money`], [`payment`]: amounts in minor units, the payment state
//!   machine, capture/refund arithmetic, what a payer is told on a decline.
//! - [`redact`]: card and ID numbers typed into free text, masked.
//! - [`catalog`]: every error code with its bilingual explanation.

pub mod api_version;
pub mod bin;
pub mod bind;
pub mod binding;
pub mod card;
pub mod catalog;
pub mod clock;
pub mod diagnosis;
pub mod failure;
pub mod holder;
pub mod mandate;
pub mod mode;
pub mod money;
pub mod otp;
pub mod payment;
pub mod redact;
pub mod review;
pub mod risk;
pub mod secret;
pub mod session;
pub mod settlement;
pub mod ticket;
pub mod token;

pub use catalog::ErrorCode;
pub use failure::Failure;
