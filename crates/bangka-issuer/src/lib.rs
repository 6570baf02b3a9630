//! The issuer side: the [`IssuerConnector`] trait Bangka talks to banks
//! through, and [`Simulator`], an in-process issuer that behaves like several
//! real banks (cards in every state, four-element checks that say which
//! element mismatched, maintenance windows, faults).
//!
//! Architecture invariant: the connector never sends OTPs or stores anything
//! of Bangka's; Bangka owns challenges and notifications. A networked
//! connector implements the same trait.

mod connector;
mod population;
mod simulator;
mod test_card;

pub use connector::{CardHolder, IssuerConnector, MaintenanceWindow};
pub use population::{Member, Population};
pub use simulator::{BankState, Simulator};
pub use test_card::TestCard;
