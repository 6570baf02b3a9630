//! The OpenAPI document: every operation of every handler module, listed
//! here (above the handler modules, which never import it; a test checks
//! that every route is in it).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::envelope::{ErrorBody, ErrorEnvelope};

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()));
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Bangka", description = "Card binding for digital wallets: bind, activate and manage bank cards; every failure explains itself."),
    paths(
        super::create_account, super::get_account, super::verify_kyc, super::set_payment_password, super::reset_payment_password, super::change_phone, super::verify_phone,
        super::create_binding, super::list_bindings, super::get_binding, super::resend_binding_otp, super::confirm_binding, super::test_authorization,
        super::start_activation, super::get_activation, super::confirm_activation,
        super::payments::create_cryptogram, super::payments::request_payment_otp, super::payments::list_binding_payments,
        super::payments::suspend_token, super::payments::resume_token,
        super::lifecycle::freeze_binding, super::lifecycle::unfreeze_binding,
        super::lifecycle::request_unbind, super::lifecycle::confirm_unbind, super::lifecycle::revoke_unbind,
        super::lifecycle::request_delete, super::lifecycle::confirm_delete,
        super::lifecycle::list_receipts, super::lifecycle::get_receipt, super::lifecycle::receipt_public_key, super::lifecycle::binding_evidence,
        super::lifecycle::create_mandate, super::lifecycle::list_mandates, super::lifecycle::get_mandate, super::lifecycle::cancel_mandate,
        super::lifecycle::freeze_account, super::lifecycle::unfreeze_account, super::lifecycle::report_withdrawal, super::lifecycle::list_settlements,
        super::payments::void_payment, super::payments::charge_mandate,
        super::payments::schedule_maintenance, super::payments::list_maintenance, super::payments::cancel_maintenance,
        super::support::open_session, super::support::end_session, super::support::list_devices, super::support::remove_device,
        super::support::ops_unlock, super::support::ops_risk, super::support::ops_attempts,
        super::support::diagnose, super::support::open_ticket, super::support::list_tickets, super::support::get_ticket, super::support::escalate_ticket,
        super::support::ops_tickets, super::support::ops_ticket, super::support::ops_comment, super::support::ops_ticket_unlock,
        super::support::ops_resolve, super::support::ops_close, super::support::ops_evidence, super::meta::metrics,
        super::support::submit_review, super::support::list_reviews, super::support::get_review,
        super::support::ops_reviews, super::support::ops_approve_review, super::support::ops_reject_review,
        super::meta::service_status,
        super::payments::create_payment, super::payments::get_payment, super::payments::capture_payment, super::payments::refund_payment,
        super::payments::detokenize, super::payments::ops_payment, super::payments::ops_suspend_token, super::payments::ops_resume_token,
        super::meta::issuers, super::meta::errors, super::meta::help_page, super::meta::healthz, super::meta::readyz, super::meta::demo_cards, super::meta::demo_inbox, super::meta::demo_bank_state, super::meta::demo_population, super::meta::demo_key, super::meta::demo_clock_advance,
    ),
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
