//! The OpenAPI document's frame: title, security scheme and the error
//! envelope. The operations are added by the router (`super::routes`), each
//! with its route, so the two cannot differ.

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
    components(schemas(ErrorEnvelope, ErrorBody)),
    modifiers(&BearerAuth),
)]
pub struct ApiDoc;
