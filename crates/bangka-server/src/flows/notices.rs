//! What the holder is told and given: notices about a card or the account
//! (both languages; the account's picks one), and receipts.

use bangka_store::{MessageKind, NewMessage};

use crate::state::AppState;

/// A notice about a bound card to its reserved phone, in both languages:
/// `zh` and `en` complete "the card ending NNNN …".
pub fn card_notice(b: &bangka_store::BindingRow, zh: &str, en: &str) -> NewMessage {
    notice(&b.account_id, &b.phone, &b.last4, zh, en)
}

/// A notice about the card ending `last4`, in both languages (the account's
/// language picks one when it is queued): by SMS to `phone`, and as a push
/// and an email to the account.
pub fn notice(account_id: &str, phone: &str, last4: &str, zh: &str, en: &str) -> NewMessage {
    NewMessage {
        kind: MessageKind::Notice,
        account_id: account_id.into(),
        phone: phone.into(),
        zh: format!("【Bangka】尾号{last4}的银行卡{zh}"),
        en: format!("Bangka: the card ending {last4} {en}"),
    }
}

/// A notice about the account (not one card), in both languages: by SMS to
/// `phone`, and as a push and an email to the account.
pub fn account_notice(account_id: &str, phone: &str, zh: String, en: String) -> NewMessage {
    NewMessage { kind: MessageKind::Notice, account_id: account_id.into(), phone: phone.into(), zh, en }
}

/// The receipt for an operation on a binding: masked card facts only.
pub fn receipt_draft<'a>(
    app: &'a AppState,
    operation: &'a str,
    b: &'a bangka_store::BindingRow,
    details: serde_json::Value,
) -> bangka_store::ReceiptDraft<'a> {
    let card = crate::views::CardView::from_binding(b);
    bangka_store::ReceiptDraft {
        signer: &app.signer,
        operation,
        account_id: &b.account_id,
        binding_id: &b.id,
        card: serde_json::json!({ "masked": card.masked, "last4": card.last4, "issuer": card.issuer, "brand": card.brand, "type": card.card_type }),
        details,
    }
}
