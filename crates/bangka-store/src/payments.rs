//! Tokens, cryptograms, payments and the operator audit log.
//!
//! Every counter and state change here is a conditional update inside one
//! transaction: the ATC only moves forward, a cryptogram is consumed once,
//! a capture or refund never takes more than is left, and concurrent
//! requests (or several instances) cannot make one effect twice.

use bangka_core::otp::OtpPurpose;
use bangka_core::payment::{OpStatus, PaymentStatus};
use bangka_core::settlement::SettlementKind;
use bangka_core::token::{Actor, Reason, TokenState, TokenStatus};
use time::{Duration, OffsetDateTime};

use crate::WriteOn;
use crate::audit::{Cause, Change};
use crate::bindings::{ChallengeRow, NewChallenge};
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::vault::CryptogramInput;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, Vault, from_ms, new_id, to_ms};

// ---------------------------------------------------------------- tokens

pub use crate::bindings::NewToken;

#[derive(Debug, Clone)]
pub struct TokenRow {
    pub id: String,
    pub binding_id: String,
    pub number: String,
    pub state: TokenState,
    pub domain: String,
    pub atc: i64,
    pub key_sealed: Option<Vec<u8>>,
}

const TOKEN_COLS: &str = "id, binding_id, number, status, suspended_by, reason, domain, atc, key_sealed";

fn token_row(r: &impl Cols) -> Result<TokenRow, StoreError> {
    token_row_as(r, "")
}

/// A binding with its token (columns `t_…`), if it has one.
fn binding_and_token(r: &impl Cols) -> Result<(crate::BindingRow, Option<TokenRow>), StoreError> {
    let b = crate::bindings::binding_row(r)?;
    let t = if r.col::<Option<String>>("t_id")?.is_some() { Some(token_row_as(r, "t_")?) } else { None };
    Ok((b, t))
}

/// A token from columns named `{prefix}{column}` (joined queries alias
/// them, e.g. `t_id`).
pub(crate) fn token_row_as(r: &impl Cols, prefix: &str) -> Result<TokenRow, StoreError> {
    let col = |c: &str| format!("{prefix}{c}");
    let status: String = r.col(col("status").as_str())?;
    let by: Option<String> = r.col(col("suspended_by").as_str())?;
    let reason: Option<String> = r.col(col("reason").as_str())?;
    let corrupt = |what: &str| StoreError::Corrupt(format!("token {what}"));
    Ok(TokenRow {
        id: r.col(col("id").as_str())?,
        binding_id: r.col(col("binding_id").as_str())?,
        number: r.col(col("number").as_str())?,
        state: TokenState {
            status: TokenStatus::parse(&status).ok_or_else(|| corrupt(&status))?,
            suspended_by: by.as_deref().map(|a| Actor::parse(a).ok_or_else(|| corrupt(a))).transpose()?,
            reason: reason.as_deref().map(|a| Reason::parse(a).ok_or_else(|| corrupt(a))).transpose()?,
        },
        domain: r.col(col("domain").as_str())?,
        atc: r.col(col("atc").as_str())?,
        key_sealed: r.col(col("key_sealed").as_str())?,
    })
}

impl Store {
    /// One of the account's bindings with its token (if it has one), in one
    /// query: what a read of a card needs.
    pub async fn binding_with_token(
        &self,
        account_id: &str,
        binding_id: &str,
    ) -> Result<Option<(crate::BindingRow, Option<TokenRow>)>, StoreError> {
        // Built once: this is the read a wallet makes most.
        static SQL: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
            let token_cols: Vec<String> = TOKEN_COLS.split(", ").map(|c| format!("t.{c} AS t_{c}")).collect();
            let binding_cols: Vec<String> = crate::bindings::BINDING_SELECT.split(", ").map(|c| format!("b.{c}")).collect();
            format!(
                "SELECT {}, {} FROM bindings b LEFT JOIN tokens t ON t.binding_id = b.id WHERE b.id = $1 AND b.account_id = $2
                 ORDER BY t.created_at DESC LIMIT 1",
                binding_cols.join(", "),
                token_cols.join(", ")
            )
        });
        self.fetch_row(&SQL, &[binding_id.into(), account_id.into()], binding_and_token, |r| binding_and_token(r)).await
    }

    pub async fn token_for_binding(&self, binding_id: &str) -> Result<Option<TokenRow>, StoreError> {
        let sql = format!("SELECT {TOKEN_COLS} FROM tokens WHERE binding_id = $1 ORDER BY created_at DESC LIMIT 1");
        self.fetch_row(&sql, &[binding_id.into()], token_row, |r| token_row(r)).await
    }

    pub async fn token_by_number(&self, number: &str) -> Result<Option<TokenRow>, StoreError> {
        self.fetch_row(&format!("SELECT {TOKEN_COLS} FROM tokens WHERE number = $1"), &[number.into()], token_row, |r| token_row(r)).await
    }

    /// Gives a token issued before tokens had keys its key; returns the key
    /// the token ends up with (another request may have set one first).
    pub async fn ensure_token_key(&self, token_id: &str, sealed: &[u8]) -> Result<Vec<u8>, StoreError> {
        sqlx::query("UPDATE tokens SET key_sealed = $1 WHERE id = $2 AND key_sealed IS NULL")
            .bind(sealed)
            .bind(token_id)
            .write_on(self)
            .await?;
        let (key,): (Option<Vec<u8>>,) =
            sqlx::query_as("SELECT key_sealed FROM tokens WHERE id = $1").bind(token_id).fetch_one(&mut *self.read().await?).await?;
        key.ok_or_else(|| StoreError::Corrupt(format!("token {token_id} has no key")))
    }

    /// Moves a token from `from` to `to`, only if it is still in `from`
    /// (a concurrent change wins, and the caller re-reads), audited in the
    /// same transaction. Returns whether it moved.
    pub async fn change_token_state(
        &self,
        token_id: &str,
        from: TokenState,
        to: TokenState,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.put(move_token_write(token_id, from, to, cause, now)).await
    }
}

/// The token half of a state change, for a write-set: expects the token
/// still in `from` (and, to become active, its binding active: a frozen or
/// unbinding card's token never pays again by itself), audited.
pub(crate) fn move_token_write(token_id: &str, from: TokenState, to: TokenState, cause: Cause<'_>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "the token as read",
        "UPDATE tokens SET status = $1, suspended_by = $2, reason = $3, updated_at = $4
         WHERE id = $5 AND status = $6 AND COALESCE(suspended_by, '') = $7
           AND ($1 <> 'active' OR EXISTS (SELECT 1 FROM bindings b WHERE b.id = tokens.binding_id AND b.status = 'active'))",
        vec![
            to.status.as_str().into(),
            to.suspended_by.map(Actor::as_str).into(),
            to.reason.map(Reason::as_str).into(),
            to_ms(now).into(),
            token_id.into(),
            from.status.as_str().into(),
            from.suspended_by.map(Actor::as_str).unwrap_or("").into(),
        ],
        Expect::One,
    );
    let action = match to.status {
        TokenStatus::Active => "token.resume",
        TokenStatus::Suspended => "token.suspend",
        TokenStatus::Deleted => "token.delete",
    };
    let (before, after) = (describe_token(from), describe_token(to));
    let change = Change { action, subject: token_id, before: Some(&before), after: Some(&after) };
    set.extend(crate::audit::entry_write(cause, change, now));
    set
}

/// A token state as the audit log records it, e.g. `suspended by issuer (stolen)`.
fn describe_token(s: TokenState) -> String {
    match (s.suspended_by, s.reason) {
        (Some(by), Some(r)) => format!("{} by {} ({})", s.status.as_str(), by.as_str(), r.as_str()),
        (Some(by), None) => format!("{} by {}", s.status.as_str(), by.as_str()),
        (None, Some(r)) => format!("{} ({})", s.status.as_str(), r.as_str()),
        (None, None) => s.status.as_str().to_owned(),
    }
}

// ---------------------------------------------------------------- payment challenges

impl Store {
    /// Creates a challenge and queues its SMS (and any notice about the
    /// step it guards), at once.
    pub async fn create_challenge(&self, c: &NewChallenge, messages: &[NewMessage]) -> Result<(), StoreError> {
        let mut set = crate::bindings::challenge_write(c);
        for m in messages {
            set.extend(self.message_set(m, c.sent_at).await?);
        }
        self.stage(set).await
    }

    /// When each challenge of `purpose` about `subject` sent since `since`
    /// was last sent, oldest first (how often a step was started).
    pub async fn challenges_sent_since(
        &self,
        subject: &str,
        purpose: OtpPurpose,
        since: OffsetDateTime,
    ) -> Result<Vec<OffsetDateTime>, StoreError> {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT last_sent_at FROM challenges WHERE subject = $1 AND purpose = $2 AND last_sent_at >= $3 ORDER BY last_sent_at",
        )
        .bind(subject)
        .bind(purpose.as_str())
        .bind(to_ms(since))
        .fetch_all(&mut *self.read().await?)
        .await?;
        Ok(rows.into_iter().map(|(t,)| from_ms(t)).collect())
    }

    /// The newest challenge of `purpose` about `subject` bound to `context`
    /// (a phone change's target number): another context's codes, sent in
    /// the same moment, are never taken for it.
    pub async fn latest_challenge_for(
        &self,
        subject: &str,
        purpose: OtpPurpose,
        context: &str,
    ) -> Result<Option<ChallengeRow>, StoreError> {
        const SQL: &str = "SELECT id FROM challenges WHERE subject = $1 AND purpose = $2 AND context_mac = $3 ORDER BY last_sent_at DESC, id DESC LIMIT 1";
        let args = [subject.into(), purpose.as_str().into(), context.into()];
        let Some(id) = self.fetch_row(SQL, &args, |r| r.col::<String>("id"), |r| r.col::<String>("id")).await? else { return Ok(None) };
        self.get_challenge(&id).await
    }

    /// The newest challenge for `purpose` guarding `subject`, with the
    /// context it was bound to.
    pub async fn latest_challenge(&self, subject: &str, purpose: OtpPurpose) -> Result<Option<(ChallengeRow, Option<String>)>, StoreError> {
        const SQL: &str =
            "SELECT id, context_mac FROM challenges WHERE subject = $1 AND purpose = $2 ORDER BY last_sent_at DESC, id DESC LIMIT 1";
        fn latest(r: &impl Cols) -> Result<(String, Option<String>), StoreError> {
            Ok((r.col("id")?, r.col("context_mac")?))
        }
        let args = [subject.into(), purpose.as_str().into()];
        let Some((id, context)) = self.fetch_row(SQL, &args, latest, |r| latest(r)).await? else { return Ok(None) };
        Ok(self.get_challenge(&id).await?.map(|c| (c, context)))
    }
}

// ---------------------------------------------------------------- cryptograms

/// What the holder confirmed one payment for.
pub struct CryptogramRequest<'a> {
    pub amount: i64,
    pub currency: &'a str,
    pub merchant_id: &'a str,
    pub expires_at: OffsetDateTime,
    /// The SMS challenge passed for it, consumed in the same transaction.
    pub challenge_id: Option<&'a str>,
}

#[derive(Debug)]
pub struct IssuedCryptogram {
    pub id: String,
    pub value: String,
    pub atc: i64,
}

#[derive(Debug)]
pub enum CryptogramOutcome {
    Issued(IssuedCryptogram),
    /// The token stopped being active meanwhile.
    TokenNotActive,
    /// The SMS code was used by a concurrent request.
    ChallengeUsed,
}

#[derive(Debug, Clone)]
pub struct CryptogramRow {
    pub id: String,
    pub token_id: String,
    pub atc: i64,
    pub amount: i64,
    pub currency: String,
    pub merchant_id: String,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
}

/// The keyed hash a cryptogram is found by (the value is not stored).
fn cryptogram_lookup(vault: &Vault, token_id: &str, value: &str) -> String {
    vault.mac("cryptogram", &[token_id, value])
}

impl Store {
    /// Moves the token's ATC forward by one and computes the cryptogram for
    /// that counter value, in one transaction: two requests never share an
    /// ATC, and a failure leaves the counter where it was.
    pub async fn issue_cryptogram(
        &self,
        vault: &Vault,
        token: &TokenRow,
        key_sealed: &[u8],
        req: &CryptogramRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<CryptogramOutcome, StoreError> {
        let mut tx = self.begin().await?;
        if let Some(cid) = req.challenge_id
            && !crate::bindings::use_challenge(&mut tx, cid, now).await?
        {
            return Ok(CryptogramOutcome::ChallengeUsed);
        }
        let res =
            sqlx::query("UPDATE tokens SET atc = atc + 1 WHERE id = $1 AND status = 'active'").bind(&token.id).execute(&mut *tx).await?;
        if res.rows_affected() != 1 {
            return Ok(CryptogramOutcome::TokenNotActive);
        }
        let (atc,): (i64,) = sqlx::query_as("SELECT atc FROM tokens WHERE id = $1").bind(&token.id).fetch_one(&mut *tx).await?;
        let (issued, insert) = cryptogram_write(vault, token, key_sealed, req, atc, now)?;
        insert.run_on(&mut tx).await?;
        tx.commit().await?;
        Ok(CryptogramOutcome::Issued(issued))
    }

    /// Stages a cryptogram for the request's write-set (see
    /// [`crate::writeset`]), decided on the token as the flow read it: the
    /// ATC after the one read, guarded by that ATC and the token being
    /// active (and the code, if one confirmed it, unused). A concurrent
    /// cryptogram of the same token, a suspension or a used code refuses
    /// the write-set whole; the request then decides again.
    pub async fn stage_cryptogram(
        &self,
        vault: &Vault,
        token: &TokenRow,
        key_sealed: &[u8],
        req: &CryptogramRequest<'_>,
        now: OffsetDateTime,
    ) -> Result<IssuedCryptogram, StoreError> {
        let atc = token.atc + 1;
        let (issued, insert) = cryptogram_write(vault, token, key_sealed, req, atc, now)?;
        let mut set = WriteSet::new();
        if let Some(cid) = req.challenge_id {
            set.extend(crate::bindings::use_challenge_write(cid, now));
        }
        set.push(
            "the token active at the ATC read",
            "UPDATE tokens SET atc = $1 WHERE id = $2 AND status = 'active' AND atc = $3",
            vec![atc.into(), (&token.id).into(), token.atc.into()],
            Expect::One,
        );
        set.extend(insert);
        self.stage(set).await?;
        Ok(issued)
    }

    /// The cryptogram `value` issued to this token, if any.
    pub async fn find_cryptogram(&self, vault: &Vault, token_id: &str, value: &str) -> Result<Option<CryptogramRow>, StoreError> {
        let sql = "SELECT id, token_id, atc, amount, currency, merchant_id, expires_at, used_at FROM cryptograms WHERE token_id = $1 AND lookup = $2";
        let args = [token_id.into(), cryptogram_lookup(vault, token_id, value).into()];
        self.fetch_row(sql, &args, cryptogram_row, |r| cryptogram_row(r)).await
    }
}

/// The cryptogram for `req` at `atc`, and the insert that records it (its
/// lookup hash only: the value is never stored).
fn cryptogram_write(
    vault: &Vault,
    token: &TokenRow,
    key_sealed: &[u8],
    req: &CryptogramRequest<'_>,
    atc: i64,
    now: OffsetDateTime,
) -> Result<(IssuedCryptogram, WriteSet), StoreError> {
    let input = CryptogramInput {
        token_number: &token.number,
        atc,
        amount_minor: req.amount,
        currency: req.currency,
        merchant_id: req.merchant_id,
        expires_at_ms: to_ms(req.expires_at),
    };
    let value = vault.cryptogram(&token.id, key_sealed, &input)?;
    let id = new_id("cgm");
    let mut set = WriteSet::new();
    set.push(
        "cryptogram",
        "INSERT INTO cryptograms (id, token_id, lookup, atc, amount, currency, merchant_id, expires_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        vec![
            (&id).into(),
            (&token.id).into(),
            cryptogram_lookup(vault, &token.id, &value).into(),
            atc.into(),
            req.amount.into(),
            req.currency.into(),
            req.merchant_id.into(),
            to_ms(req.expires_at).into(),
            to_ms(now).into(),
        ],
        Expect::Any,
    );
    Ok((IssuedCryptogram { id, value, atc }, set))
}

fn cryptogram_row(r: &impl Cols) -> Result<CryptogramRow, StoreError> {
    Ok(CryptogramRow {
        id: r.col("id")?,
        token_id: r.col("token_id")?,
        atc: r.col("atc")?,
        amount: r.col("amount")?,
        currency: r.col("currency")?,
        merchant_id: r.col("merchant_id")?,
        expires_at: from_ms(r.col("expires_at")?),
        used_at: r.col::<Option<i64>>("used_at")?.map(from_ms),
    })
}

// ---------------------------------------------------------------- payments

#[derive(Debug, Clone)]
pub struct PaymentRow {
    pub id: String,
    pub account_id: String,
    pub binding_id: String,
    pub token_id: String,
    pub cryptogram_id: String,
    /// The autopay agreement a merchant charged, when it was not the holder
    /// confirming this one payment.
    pub mandate_id: Option<String>,
    pub created_by: String,
    pub merchant_id: String,
    pub currency: String,
    pub amount: i64,
    pub captured: i64,
    pub refunded: i64,
    pub status: PaymentStatus,
    /// The issuer's precise reason for a decline (operators only).
    pub decline_code: Option<String>,
    /// What the payer was told.
    pub shown_code: Option<String>,
    pub issuer_code: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

const PAYMENT_COLS: &str = "id, account_id, binding_id, token_id, cryptogram_id, mandate_id, created_by, merchant_id, currency, amount, captured, refunded, \
                            status, decline_code, shown_code, issuer_code, created_at, updated_at";

fn payment_row(r: &impl Cols) -> Result<PaymentRow, StoreError> {
    let status: String = r.col("status")?;
    Ok(PaymentRow {
        id: r.col("id")?,
        account_id: r.col("account_id")?,
        binding_id: r.col("binding_id")?,
        token_id: r.col("token_id")?,
        cryptogram_id: r.col("cryptogram_id")?,
        mandate_id: r.col("mandate_id")?,
        created_by: r.col("created_by")?,
        merchant_id: r.col("merchant_id")?,
        currency: r.col("currency")?,
        amount: r.col("amount")?,
        captured: r.col("captured")?,
        refunded: r.col("refunded")?,
        status: PaymentStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("payment status {status}")))?,
        decline_code: r.col("decline_code")?,
        shown_code: r.col("shown_code")?,
        issuer_code: r.col("issuer_code")?,
        created_at: from_ms(r.col("created_at")?),
        updated_at: from_ms(r.col("updated_at")?),
    })
}

/// One issuer call a payment needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OpKind {
    Authorize,
    Capture,
    Refund,
    /// Releasing an authorized hold (the merchant's void, or the hold's
    /// expiry).
    Void,
}

impl OpKind {
    pub fn as_str(self) -> &'static str {
        match self {
            OpKind::Authorize => "authorize",
            OpKind::Capture => "capture",
            OpKind::Refund => "refund",
            OpKind::Void => "void",
        }
    }

    fn parse(s: &str) -> Option<OpKind> {
        [OpKind::Authorize, OpKind::Capture, OpKind::Refund, OpKind::Void].into_iter().find(|k| k.as_str() == s)
    }
}

#[derive(Debug, Clone)]
pub struct PaymentOp {
    pub id: String,
    pub payment_id: String,
    pub kind: OpKind,
    pub amount: i64,
    /// `pending` (written, the issuer's answer not yet recorded), `done`, `failed`.
    pub status: OpStatus,
    pub tries: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    /// When the order was last sent to the bank (see [`Store::claim_op`]).
    pub sent_at: OffsetDateTime,
}

fn op_row(r: &impl Cols) -> Result<PaymentOp, StoreError> {
    let kind: String = r.col("kind")?;
    Ok(PaymentOp {
        id: r.col("id")?,
        payment_id: r.col("payment_id")?,
        kind: OpKind::parse(&kind).ok_or_else(|| StoreError::Corrupt(format!("payment op {kind}")))?,
        amount: r.col("amount")?,
        status: {
            let s: String = r.col("status")?;
            OpStatus::parse(&s).ok_or_else(|| StoreError::Corrupt(format!("payment op status {s}")))?
        },
        tries: r.col("tries")?,
        created_at: from_ms(r.col("created_at")?),
        updated_at: from_ms(r.col("updated_at")?),
        sent_at: from_ms(r.col("sent_at")?),
    })
}

/// How the issuer answered an authorization.
#[derive(Clone, Copy)]
pub enum AuthOutcome<'a> {
    Authorized {
        issuer_code: &'a str,
    },
    /// Refused; `decline_code` is precise, `shown_code` what the payer sees.
    Declined {
        decline_code: &'a str,
        shown_code: &'a str,
    },
    /// Not reached (down, in maintenance, or no answer before a crash):
    /// nothing is held, and the cryptogram may be presented again.
    Failed {
        code: &'a str,
    },
}

async fn insert_op(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    payment_id: &str,
    kind: OpKind,
    amount: i64,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    op_write(id, payment_id, kind, amount, now).run_on(conn).await
}

fn op_write(id: &str, payment_id: &str, kind: OpKind, amount: i64, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "payment op",
        "INSERT INTO payment_ops (id, payment_id, kind, amount, status, tries, created_at, updated_at, sent_at) VALUES ($1, $2, $3, $4, 'pending', 0, $5, $5, $5)",
        vec![id.into(), payment_id.into(), kind.as_str().into(), amount.into(), to_ms(now).into()],
        Expect::Any,
    );
    set
}

/// A new payment (pending) consuming its cryptogram: what
/// `begin_payment` writes and `stage_payment` stages.
fn payment_write(p: &PaymentRow) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "the cryptogram unused",
        "UPDATE cryptograms SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        vec![to_ms(p.created_at).into(), (&p.cryptogram_id).into()],
        Expect::One,
    );
    set.push(
        "payment",
        format!("INSERT INTO payments ({PAYMENT_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0, 'pending', NULL, NULL, NULL, $11, $11)"),
        vec![
            (&p.id).into(),
            (&p.account_id).into(),
            (&p.binding_id).into(),
            (&p.token_id).into(),
            (&p.cryptogram_id).into(),
            (&p.mandate_id).into(),
            (&p.created_by).into(),
            (&p.merchant_id).into(),
            (&p.currency).into(),
            p.amount.into(),
            to_ms(p.created_at).into(),
        ],
        Expect::Any,
    );
    set
}

impl Store {
    /// Consumes the cryptogram and records the payment as `pending` with its
    /// authorization op, at once. Returns false (nothing written) when the
    /// cryptogram was already used: a replay, even a concurrent one.
    /// Stages a new payment with its pending authorization op for the
    /// request's write-set (applied at its checkpoint, before the bank is
    /// asked). A cryptogram used meanwhile refuses the write-set; the
    /// request decides again (and is told the cryptogram was used).
    pub async fn stage_payment(&self, p: &PaymentRow, op_id: &str, cause: Cause<'_>) -> Result<(), StoreError> {
        let mut set = payment_write(p);
        set.extend(op_write(op_id, &p.id, OpKind::Authorize, p.amount, p.created_at));
        let change = Change { action: "payment.create", subject: &p.id, before: None, after: Some(PaymentStatus::Pending.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, p.created_at));
        self.stage(set).await
    }

    pub async fn begin_payment(&self, p: &PaymentRow, op_id: &str, cause: Cause<'_>) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        match payment_write(p).run_on(&mut tx).await {
            // The cryptogram was used by a concurrent payment.
            Err(StoreError::Conflict(_)) => return Ok(false),
            done => done?,
        }
        insert_op(&mut tx, op_id, &p.id, OpKind::Authorize, p.amount, p.created_at).await?;
        let change = Change { action: "payment.create", subject: &p.id, before: None, after: Some(PaymentStatus::Pending.as_str()) };
        crate::audit::append(&mut tx, cause, change, p.created_at).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Records the issuer's answer to a pending authorization. Returns false
    /// when the payment was no longer pending (the recovery job ended it).
    pub async fn finish_authorization(
        &self,
        payment_id: &str,
        op_id: &str,
        outcome: AuthOutcome<'_>,
        notice: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (status, decline, shown, issuer_code, op_status) = match outcome {
            AuthOutcome::Authorized { issuer_code } => (PaymentStatus::Authorized, None, None, Some(issuer_code), "done"),
            AuthOutcome::Declined { decline_code, shown_code } => {
                (PaymentStatus::Declined, Some(decline_code), Some(shown_code), None, "done")
            }
            AuthOutcome::Failed { code } => (PaymentStatus::Failed, Some(code), Some(code), None, "failed"),
        };
        let mut set = WriteSet::new();
        set.push(
            "the payment pending",
            "UPDATE payments SET status = $1, decline_code = $2, shown_code = $3, issuer_code = $4, updated_at = $5 WHERE id = $6 AND status = 'pending'",
            vec![status.as_str().into(), decline.into(), shown.into(), issuer_code.into(), to_ms(now).into(), payment_id.into()],
            Expect::One,
        );
        set.push(
            "authorization op",
            "UPDATE payment_ops SET status = $1, updated_at = $2 WHERE id = $3",
            vec![op_status.into(), to_ms(now).into(), op_id.into()],
            Expect::Any,
        );
        if status == PaymentStatus::Failed {
            // The bank took nothing: the cryptogram may pay again.
            set.push(
                "cryptogram released",
                "UPDATE cryptograms SET used_at = NULL WHERE id = (SELECT cryptogram_id FROM payments WHERE id = $1)",
                vec![payment_id.into()],
                Expect::Any,
            );
        }
        let action = format!("payment.{}", status.as_str());
        let change =
            Change { action: &action, subject: payment_id, before: Some(PaymentStatus::Pending.as_str()), after: Some(status.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        if let Some(m) = notice {
            set.extend(self.message_set(m, now).await?);
        }
        self.put(set).await
    }

    /// Marks an authorized payment captured for `amount` and writes the
    /// capture op. Returns false when it was no longer `authorized`.
    pub async fn begin_capture(
        &self,
        payment_id: &str,
        amount: i64,
        op_id: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the payment authorized",
            "UPDATE payments SET status = 'captured', captured = $1, updated_at = $2 WHERE id = $3 AND status = 'authorized' AND amount >= $1",
            vec![amount.into(), to_ms(now).into(), payment_id.into()],
            Expect::One,
        );
        set.extend(op_write(op_id, payment_id, OpKind::Capture, amount, now));
        let change = Change { action: "payment.capture", subject: payment_id, before: Some("authorized"), after: Some("captured") };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }

    /// Adds a refund of `amount` to a payment read with `refunded_before`
    /// already refunded, moving it to `new_status`, and writes the refund op.
    /// Returns false when another refund changed the payment first.
    #[allow(clippy::too_many_arguments)]
    pub async fn begin_refund(
        &self,
        payment_id: &str,
        amount: i64,
        refunded_before: i64,
        new_status: PaymentStatus,
        op_id: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the payment refundable as read",
            "UPDATE payments SET refunded = refunded + $1, status = $2, updated_at = $3
             WHERE id = $4 AND refunded = $5 AND status IN ('captured', 'partially_refunded') AND captured - refunded >= $1",
            vec![amount.into(), new_status.as_str().into(), to_ms(now).into(), payment_id.into(), refunded_before.into()],
            Expect::One,
        );
        set.extend(op_write(op_id, payment_id, OpKind::Refund, amount, now));
        let change = Change { action: "payment.refund", subject: payment_id, before: None, after: Some(new_status.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }

    /// Marks a capture, refund or void op done once the issuer confirmed
    /// it. A confirmed refund is money on its way to the card: it is
    /// recorded as in transit until `refund_settles_after` has passed
    /// (unbinding waits for it), in the same transaction.
    pub async fn finish_op(&self, op_id: &str, refund_settles_after: Duration, now: OffsetDateTime) -> Result<bool, StoreError> {
        const REFUND: &str =
            "SELECT p.id, p.account_id, p.binding_id, p.currency, o.amount FROM payment_ops o JOIN payments p ON p.id = o.payment_id
                              WHERE o.id = $1 AND o.kind = 'refund'";
        fn refund_row(r: &impl Cols) -> Result<(String, String, String, String, i64), StoreError> {
            Ok((r.col("id")?, r.col("account_id")?, r.col("binding_id")?, r.col("currency")?, r.col("amount")?))
        }
        let refund = self.fetch_row(REFUND, &[op_id.into()], refund_row, |r| refund_row(r)).await?;
        let mut set = WriteSet::new();
        set.push(
            "the op pending",
            "UPDATE payment_ops SET status = 'done', updated_at = $1 WHERE id = $2 AND status = 'pending'",
            vec![to_ms(now).into(), op_id.into()],
            Expect::One,
        );
        if let Some((payment_id, account_id, binding_id, currency, amount)) = refund {
            let s = crate::settlements::NewSettlement {
                account_id: &account_id,
                binding_id: &binding_id,
                kind: SettlementKind::Refund,
                payment_id: Some(&payment_id),
                op_id: Some(op_id),
                amount,
                currency: &currency,
                expected_at: now + refund_settles_after,
            };
            set.extend(crate::settlements::settlement_write(&s, Cause::job(), now).0);
        }
        // False when done already (the payment job confirmed it first).
        self.put(set).await
    }

    /// Voids an authorized payment (nothing was captured) and writes the
    /// void op. Returns false when it was no longer `authorized`.
    pub async fn begin_void(&self, payment: &PaymentRow, op_id: &str, cause: Cause<'_>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the payment authorized",
            "UPDATE payments SET status = 'voided', updated_at = $1 WHERE id = $2 AND status = 'authorized'",
            vec![to_ms(now).into(), payment.id.as_str().into()],
            Expect::One,
        );
        set.extend(op_write(op_id, &payment.id, OpKind::Void, payment.amount, now));
        let change = Change { action: "payment.void", subject: &payment.id, before: Some("authorized"), after: Some("voided") };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.put(set).await
    }

    /// Authorized payments created before `cutoff` and never captured: holds
    /// the payment job releases.
    pub async fn stale_authorizations(&self, cutoff: OffsetDateTime, limit: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {PAYMENT_COLS} FROM payments WHERE status = 'authorized' AND created_at <= $1 ORDER BY created_at, id LIMIT $2"
        ))
        .bind(to_ms(cutoff))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(payment_row).collect()
    }

    /// Ops left pending since before `cutoff` (their request crashed or the
    /// issuer did not answer).
    pub async fn stale_ops(&self, cutoff: OffsetDateTime, limit: i64) -> Result<Vec<PaymentOp>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, payment_id, kind, amount, status, tries, created_at, updated_at, sent_at FROM payment_ops
             WHERE status = 'pending' AND updated_at < $1 ORDER BY updated_at LIMIT $2",
        )
        .bind(to_ms(cutoff))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter().map(op_row).collect()
    }

    /// Claims a stale op for one retry: only one instance wins (the row's
    /// `updated_at` and `tries` move on), the others skip it. `sends`: the
    /// claimer sends the order to the bank again (not just a query), so its
    /// `sent_at` moves too and the bank's window starts over.
    pub async fn claim_op(&self, op: &PaymentOp, sends: bool, now: OffsetDateTime) -> Result<bool, StoreError> {
        let sql = if sends {
            "UPDATE payment_ops SET tries = tries + 1, updated_at = $1, sent_at = $1 WHERE id = $2 AND status = 'pending' AND tries = $3"
        } else {
            "UPDATE payment_ops SET tries = tries + 1, updated_at = $1 WHERE id = $2 AND status = 'pending' AND tries = $3"
        };
        let res = sqlx::query(sql).bind(to_ms(now)).bind(&op.id).bind(op.tries).write_on(self).await?;
        Ok(res.rows_affected() == 1)
    }

    pub async fn get_payment(&self, id: &str) -> Result<Option<PaymentRow>, StoreError> {
        self.fetch_row(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE id = $1"), &[id.into()], payment_row, |r| payment_row(r)).await
    }

    /// Payments matching `filter` (SQL over the payments table with `$1`
    /// bound to `arg`), oldest first.
    pub(crate) async fn payments_where(&self, filter: &str, arg: &str) -> Result<Vec<PaymentRow>, StoreError> {
        let rows = sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE {filter} ORDER BY created_at, id"))
            .bind(arg)
            .fetch_all(&mut *self.read().await?)
            .await?;
        rows.iter().map(payment_row).collect()
    }

    /// A page of a binding's payments, newest first (the holder's
    /// consumption records).
    pub async fn payment_page(&self, binding_id: &str, page: &crate::PageRequest) -> Result<crate::Page<PaymentRow>, StoreError> {
        let list = crate::page::Listing {
            table: "payments",
            cols: PAYMENT_COLS,
            scope: "binding_id = $1",
            owner: "binding_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![binding_id.into()], page, payment_row).await
    }

    /// A binding's latest payments, newest first.
    pub async fn payments_for_binding(&self, binding_id: &str, limit: i64) -> Result<Vec<PaymentRow>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {PAYMENT_COLS} FROM payments WHERE binding_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"))
                .bind(binding_id)
                .bind(limit)
                .fetch_all(&mut *self.read().await?)
                .await?;
        rows.iter().map(payment_row).collect()
    }

    pub async fn payment_ops(&self, payment_id: &str) -> Result<Vec<PaymentOp>, StoreError> {
        let sql =
            "SELECT id, payment_id, kind, amount, status, tries, created_at, updated_at, sent_at FROM payment_ops WHERE payment_id = $1
             ORDER BY created_at, CASE kind WHEN 'authorize' THEN 0 WHEN 'capture' THEN 1 WHEN 'void' THEN 1 ELSE 2 END, id";
        self.fetch_rows(sql, &[payment_id.into()], op_row, |r| op_row(r)).await
    }
}
