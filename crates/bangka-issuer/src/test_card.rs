//! A test card as the demo lists it.

use serde::Serialize;

/// A test card as a person types it, with the code the bind is expected to end in.
#[derive(Debug, Clone, Serialize)]
pub struct TestCard {
    pub scenario: &'static str,
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
    pub expiry: Option<String>,
    pub cvv: Option<String>,
    pub issuer: &'static str,
    pub card_type: &'static str,
    pub expect_code: Option<&'static str>,
    pub note: &'static str,
}
