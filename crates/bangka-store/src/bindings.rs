//! The queries of bindings, with their challenges, activations and vault
//! rows; accounts, key rotation, attempts, the outbox and idempotency keys
//! have modules of their own. Handlers never see SQL; flows call these
//! methods, and each multi-row change is one transaction here.

use bangka_core::bind::LiveCard;
use bangka_core::binding::{ActivationStatus, BindingStatus, FreezeReason, LIVE_STATUSES_SQL};
use bangka_core::otp::{Challenge, OtpPurpose};
use time::OffsetDateTime;

use crate::WriteOn;
use crate::audit::{Cause, Change};
use crate::card_keys::WrappedKey;
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::unit::Tx;
use crate::writeset::{Expect, WriteSet};
use crate::{SealedCard, Store, StoreError, from_ms, is_unique_violation, to_ms};

use crate::opt_time;

// ---------------------------------------------------------------- bindings

/// A token to issue with a confirmed binding (defined here, where the
/// confirmation writes it; `payments` re-exports it).
pub struct NewToken {
    pub id: String,
    pub number: String,
    pub domain: String,
    /// The token's own key, sealed under the master key.
    pub key_sealed: Vec<u8>,
}

#[derive(Debug, Clone)]
pub struct BindingRow {
    pub id: String,
    pub account_id: String,
    pub fingerprint: String,
    pub vault_id: Option<String>,
    pub bin: String,
    pub last4: String,
    pub brand: String,
    pub card_type: String,
    pub issuer: String,
    pub expiry: Option<String>,
    pub phone: String,
    pub elements_mac: String,
    pub status: BindingStatus,
    pub challenge_id: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
    pub activated_at: Option<OffsetDateTime>,
    /// Why it is frozen, while it is.
    pub frozen_reason: Option<FreezeReason>,
    /// When it was frozen, while it is.
    pub frozen_at: Option<OffsetDateTime>,
}

const BINDING_COLS: &str = "id, account_id, fingerprint, vault_id, bin, last4, brand, card_type, issuer, expiry, phone, elements_mac, status, challenge_id, created_at, updated_at, activated_at";

/// What a read returns: the inserted columns plus those later steps set.
pub(crate) const BINDING_SELECT: &str = "id, account_id, fingerprint, vault_id, bin, last4, brand, card_type, issuer, expiry, phone, elements_mac, status, challenge_id, created_at, updated_at, activated_at, frozen_reason, frozen_at";

pub(crate) fn binding_row(r: &impl Cols) -> Result<BindingRow, StoreError> {
    let status: String = r.col("status")?;
    Ok(BindingRow {
        id: r.col("id")?,
        account_id: r.col("account_id")?,
        fingerprint: r.col("fingerprint")?,
        vault_id: r.col("vault_id")?,
        bin: r.col("bin")?,
        last4: r.col("last4")?,
        brand: r.col("brand")?,
        card_type: r.col("card_type")?,
        issuer: r.col("issuer")?,
        expiry: r.col("expiry")?,
        phone: r.col("phone")?,
        elements_mac: r.col("elements_mac")?,
        status: BindingStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("binding status {status}")))?,
        challenge_id: r.col("challenge_id")?,
        created_at: from_ms(r.col("created_at")?),
        updated_at: from_ms(r.col("updated_at")?),
        activated_at: opt_time(r.col("activated_at")?),
        frozen_reason: r.col::<Option<String>>("frozen_reason")?.as_deref().and_then(FreezeReason::parse),
        frozen_at: opt_time(r.col("frozen_at")?),
    })
}

/// A challenge about to be created.
pub struct NewChallenge {
    pub id: String,
    pub purpose: OtpPurpose,
    pub phone: String,
    pub code_mac: Vec<u8>,
    pub expires_at: OffsetDateTime,
    pub sent_at: OffsetDateTime,
    /// What the challenge guards (a binding id), for challenges found by it.
    pub subject: Option<String>,
    /// A keyed hash of the operation's details (a payment's amount and
    /// merchant): the code confirms exactly that operation.
    pub context_mac: Option<String>,
}

/// Everything a new pending binding writes, at once.
pub struct NewPendingBinding<'a> {
    pub binding: &'a BindingRow,
    pub sealed: &'a SealedCard,
    pub challenge: &'a NewChallenge,
    pub message: &'a NewMessage,
    pub limit: u32,
    /// Who started the bind (the pending binding and a superseded one are
    /// audited under it).
    pub cause: Cause<'a>,
    pub now: OffsetDateTime,
}

/// How creating a pending binding ended. The checks are repeated inside the
/// transaction, so concurrent requests cannot both pass them.
#[derive(Debug)]
pub enum PendingOutcome {
    Created,
    /// An identical pending binding (same card and elements, challenge still
    /// usable) exists: the holder should enter the code already sent.
    Existing(Box<BindingRow>),
    /// The card is already live in this account.
    Duplicate(String),
    LimitReached(Vec<LiveCard>),
}

/// How confirming a pending binding ended.
#[derive(Debug)]
pub enum ActivateOutcome {
    Activated,
    /// No longer pending: a concurrent confirm won, or it was abandoned.
    NotPending,
    /// Other binds of the account became live first; nothing changed.
    LimitReached(Vec<LiveCard>),
    /// The drawn token number is already in use; nothing changed.
    TokenNumberTaken,
}

impl Store {
    pub async fn get_binding(&self, account_id: &str, binding_id: &str) -> Result<Option<BindingRow>, StoreError> {
        let sql = format!("SELECT {BINDING_SELECT} FROM bindings WHERE id = $1 AND account_id = $2");
        self.fetch_row(&sql, &[binding_id.into(), account_id.into()], binding_row, |r| binding_row(r)).await
    }

    /// A binding by id alone (the payment path knows the token, not the account).
    pub async fn binding_by_id(&self, binding_id: &str) -> Result<Option<BindingRow>, StoreError> {
        let sql = format!("SELECT {BINDING_SELECT} FROM bindings WHERE id = $1");
        self.fetch_row(&sql, &[binding_id.into()], binding_row, |r| binding_row(r)).await
    }

    /// A page of the account's bindings, newest first, abandoned attempts
    /// (`failed`) left out.
    pub async fn binding_page(&self, account_id: &str, page: &crate::PageRequest) -> Result<crate::Page<BindingRow>, StoreError> {
        let list = crate::page::Listing {
            table: "bindings",
            cols: BINDING_SELECT,
            scope: "account_id = $1 AND status <> 'failed'",
            owner: "account_id = $1",
            key: "created_at",
            id: "id",
            descending: true,
        };
        self.page(&list, vec![account_id.into()], page, binding_row).await
    }

    /// The account's bindings, newest first; abandoned attempts (`failed`)
    /// are left out unless asked for.
    pub async fn list_bindings(&self, account_id: &str, include_failed: bool) -> Result<Vec<BindingRow>, StoreError> {
        let filter = if include_failed { "" } else { " AND status <> 'failed'" };
        let rows =
            sqlx::query(&format!("SELECT {BINDING_SELECT} FROM bindings WHERE account_id = $1{filter} ORDER BY created_at DESC, id"))
                .bind(account_id)
                .fetch_all(&mut *self.read().await?)
                .await?;
        rows.iter().map(binding_row).collect()
    }

    pub async fn live_cards(&self, account_id: &str) -> Result<Vec<LiveCard>, StoreError> {
        self.fetch_rows(&live_cards_sql(), &[account_id.into()], live_card, |r| live_card(r)).await
    }

    /// The live binding of this card in this account, if any.
    pub async fn live_binding_for_card(&self, account_id: &str, fingerprint: &str) -> Result<Option<String>, StoreError> {
        let sql = format!("SELECT id FROM bindings WHERE account_id = $1 AND fingerprint = $2 AND status IN {LIVE_STATUSES_SQL}");
        self.fetch_row(&sql, &[account_id.into(), fingerprint.into()], |r| r.col("id"), |r| r.col("id")).await
    }

    pub async fn pending_binding_for_card(&self, account_id: &str, fingerprint: &str) -> Result<Option<BindingRow>, StoreError> {
        let sql =
            format!("SELECT {BINDING_SELECT} FROM bindings WHERE account_id = $1 AND fingerprint = $2 AND status = 'pending_verification'");
        self.fetch_row(&sql, &[account_id.into(), fingerprint.into()], binding_row, |r| binding_row(r)).await
    }

    /// Records a pending bind with its sealed card, challenge and SMS, or
    /// answers why not (duplicate, limit, an attempt still usable). The
    /// card's key is written to the key store first and destroyed again
    /// when no vault row came of it.
    pub async fn create_pending_binding(&self, p: NewPendingBinding<'_>) -> Result<PendingOutcome, StoreError> {
        self.put_card_key(p.sealed, p.now).await?;
        let vault_id = p.sealed.id.clone();
        let outcome = self.insert_pending_binding(p).await;
        if !matches!(outcome, Ok(PendingOutcome::Created)) {
            self.keys.forget(&[vault_id]).await?;
        }
        // A superseded attempt was shredded.
        self.destroy_shredded_keys_after_commit().await?;
        outcome
    }

    async fn insert_pending_binding(&self, p: NewPendingBinding<'_>) -> Result<PendingOutcome, StoreError> {
        let b = p.binding;
        let mut tx = self.begin().await?;
        // Taking the account row first serializes binds of one account on
        // both backends (a row lock on PostgreSQL, the write lock on SQLite).
        sqlx::query("UPDATE accounts SET version = version + 1 WHERE id = $1").bind(&b.account_id).execute(&mut *tx).await?;
        let live = live_cards(&mut tx, &b.account_id).await?;
        let dup: Option<(String,)> = sqlx::query_as(&format!(
            "SELECT id FROM bindings WHERE account_id = $1 AND fingerprint = $2 AND status IN {LIVE_STATUSES_SQL}"
        ))
        .bind(&b.account_id)
        .bind(&b.fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some((id,)) = dup {
            return Ok(PendingOutcome::Duplicate(id));
        }
        if live.len() as u32 >= p.limit {
            return Ok(PendingOutcome::LimitReached(live));
        }
        let old = sqlx::query(&format!(
            "SELECT {BINDING_SELECT} FROM bindings WHERE account_id = $1 AND fingerprint = $2 AND status = 'pending_verification'"
        ))
        .bind(&b.account_id)
        .bind(&b.fingerprint)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(old) = old.as_ref().map(binding_row).transpose()? {
            let usable = match &old.challenge_id {
                Some(cid) => challenge_in(&mut tx, cid).await?.is_some_and(|(c, _)| c.expires_at > p.now && c.attempts < 5 && !c.passed),
                None => false,
            };
            if usable && old.elements_mac == b.elements_mac {
                return Ok(PendingOutcome::Existing(Box::new(old)));
            }
            // A new attempt with other elements supersedes the old one.
            if fail_pending(&mut tx, &old, p.now).await? {
                audit_failed_pending(&mut tx, &old.id, p.cause.with_note("superseded by a new attempt"), p.now).await?;
            }
        }
        insert_sealed(&mut tx, p.sealed, p.now).await?;
        insert_challenge(&mut tx, p.challenge).await?;
        binding_write(b).run_on(&mut tx).await?;
        self.insert_message(&mut tx, p.message, p.now).await?;
        crate::audit::append(&mut tx, p.cause, pending_change(b), p.now).await?;
        tx.commit().await?;
        Ok(PendingOutcome::Created)
    }

    /// Stages a new pending binding for the request's write-set (see
    /// [`crate::writeset`]): the flow read that the account has room and no
    /// binding of this card, live or pending; the write-set holds that as
    /// its guard (under the account row, so concurrent binds of one account
    /// are applied one after the other on PostgreSQL too) and is refused
    /// whole if it no longer holds. The card's data key goes to the key
    /// store now, and is forgotten if the write-set does not commit.
    /// `to` is the holder's language and email (the notice's wording and
    /// channels).
    pub async fn stage_pending_binding(&self, p: NewPendingBinding<'_>, to: (&str, Option<&str>)) -> Result<(), StoreError> {
        let b = p.binding;
        let mut set = WriteSet::new();
        set.push("account", "UPDATE accounts SET version = version + 1 WHERE id = $1", vec![(&b.account_id).into()], Expect::One);
        set.push(
            "no binding of this card, and room under the limit",
            format!(
                "SELECT 1 WHERE NOT EXISTS (SELECT 1 FROM bindings WHERE account_id = $1 AND fingerprint = $2
                   AND (status = 'pending_verification' OR status IN {LIVE_STATUSES_SQL}))
                 AND (SELECT COUNT(*) FROM bindings WHERE account_id = $1 AND status IN {LIVE_STATUSES_SQL}) < $3"
            ),
            vec![(&b.account_id).into(), (&b.fingerprint).into(), i64::from(p.limit).into()],
            Expect::Row,
        );
        set.extend(sealed_write(p.sealed, p.now));
        set.extend(challenge_write(p.challenge));
        set.extend(binding_write(b));
        set.extend(self.message_writes(p.message, to.0, to.1, p.now));
        set.extend(crate::audit::entry_write(p.cause, pending_change(b), p.now));
        self.put_card_key(p.sealed, p.now).await?;
        self.note_staged_key(&p.sealed.id).await;
        self.stage(set).await
    }

    /// Stages an activation for the request's write-set (see
    /// [`crate::writeset`]): the binding as read is pending and the account
    /// has room under the limit; the write-set holds both as guards (under
    /// the account row) and a token number drawn taken meanwhile refuses it
    /// too. Refused, the request decides again on the unit path (which
    /// draws again and names the limit). Returns the binding and its token
    /// as they will be. `to`: the holder's language and email.
    #[allow(clippy::too_many_arguments)]
    pub async fn stage_activation(
        &self,
        binding: &BindingRow,
        token: &NewToken,
        notice: &NewMessage,
        to: (&str, Option<&str>),
        limit: u32,
        trail: crate::Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<(BindingRow, crate::TokenRow), StoreError> {
        let now = from_ms(to_ms(now));
        let mut set = WriteSet::new();
        set.push("account", "UPDATE accounts SET version = version + 1 WHERE id = $1", vec![(&binding.account_id).into()], Expect::One);
        set.push(
            "room under the limit",
            format!("SELECT 1 WHERE (SELECT COUNT(*) FROM bindings WHERE account_id = $1 AND status IN {LIVE_STATUSES_SQL}) < $2"),
            vec![(&binding.account_id).into(), i64::from(limit).into()],
            Expect::Row,
        );
        set.push(
            "the binding pending",
            "UPDATE bindings SET status = 'active', activated_at = $1, updated_at = $1 WHERE id = $2 AND status = 'pending_verification'",
            vec![to_ms(now).into(), (&binding.id).into()],
            Expect::One,
        );
        if let Some(cid) = &binding.challenge_id {
            set.push("challenge", "UPDATE challenges SET passed_at = $1 WHERE id = $2", vec![to_ms(now).into(), cid.into()], Expect::Any);
        }
        set.push(
            "a free token number",
            INSERT_TOKEN,
            vec![
                (&token.id).into(),
                (&binding.id).into(),
                (&token.number).into(),
                (&token.domain).into(),
                (&token.key_sealed).into(),
                to_ms(now).into(),
            ],
            Expect::Any,
        );
        set.extend(self.message_writes(notice, to.0, to.1, now));
        let (audit, audit_id, leaf_hash) = crate::audit::entry_write_ref(trail.cause, activate_change(binding), now);
        set.extend(audit);
        set.extend(crate::receipts::issue_write(trail.receipt, &audit_id, &leaf_hash, now));
        self.stage(set).await?;
        let active = BindingRow { status: BindingStatus::Active, activated_at: Some(now), updated_at: now, ..binding.clone() };
        let token = crate::TokenRow {
            id: token.id.clone(),
            binding_id: binding.id.clone(),
            number: token.number.clone(),
            state: bangka_core::token::TokenState { status: bangka_core::token::TokenStatus::Active, suspended_by: None, reason: None },
            domain: token.domain.clone(),
            atc: 0,
            key_sealed: Some(token.key_sealed.clone()),
        };
        Ok((active, token))
    }

    /// Passes the challenge, activates the binding and issues its token, at
    /// once. The binding limit is checked again here, under the account row
    /// lock: several binds may be pending at once, and only `limit` of them
    /// may become live.
    pub async fn activate_binding(
        &self,
        binding: &BindingRow,
        token: &NewToken,
        notice: &NewMessage,
        limit: u32,
        trail: crate::Trail<'_>,
        now: OffsetDateTime,
    ) -> Result<ActivateOutcome, StoreError> {
        let mut tx = self.begin().await?;
        sqlx::query("UPDATE accounts SET version = version + 1 WHERE id = $1").bind(&binding.account_id).execute(&mut *tx).await?;
        let live = live_cards(&mut tx, &binding.account_id).await?;
        if live.len() as u32 >= limit {
            return Ok(ActivateOutcome::LimitReached(live));
        }
        let res = sqlx::query(
            "UPDATE bindings SET status = 'active', activated_at = $1, updated_at = $1 WHERE id = $2 AND status = 'pending_verification'",
        )
        .bind(to_ms(now))
        .bind(&binding.id)
        .execute(&mut *tx)
        .await?;
        if res.rows_affected() != 1 {
            return Ok(ActivateOutcome::NotPending);
        }
        if let Some(cid) = &binding.challenge_id {
            sqlx::query("UPDATE challenges SET passed_at = $1 WHERE id = $2").bind(to_ms(now)).bind(cid).execute(&mut *tx).await?;
        }
        let inserted = sqlx::query(INSERT_TOKEN)
            .bind(&token.id)
            .bind(&binding.id)
            .bind(&token.number)
            .bind(&token.domain)
            .bind(&token.key_sealed)
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await;
        match inserted {
            Ok(_) => {}
            // Rolled back whole; the caller draws another number.
            Err(e) if is_unique_violation(&e, "tokens_number_key", "tokens.number") => return Ok(ActivateOutcome::TokenNumberTaken),
            Err(e) => return Err(e.into()),
        }
        self.insert_message(&mut tx, notice, now).await?;
        let audit_ref = crate::audit::append(&mut tx, trail.cause, activate_change(binding), now).await?;
        crate::receipts::issue(&mut tx, trail.receipt, &audit_ref, now).await?;
        tx.commit().await?;
        Ok(ActivateOutcome::Activated)
    }

    /// Abandons a pending binding whose challenge can no longer pass, audited.
    pub async fn fail_pending_binding(&self, binding: &BindingRow, cause: Cause<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        if fail_pending(&mut tx, binding, now).await? {
            audit_failed_pending(&mut tx, &binding.id, cause, now).await?;
        }
        tx.commit().await?;
        self.destroy_shredded_keys_after_commit().await?;
        Ok(())
    }

    /// Abandons pending binds and activations started before `cutoff` (their
    /// codes expired long ago) and shreds the PANs kept for them: card data
    /// is kept no longer than an operation needs it. Each row is ended by a
    /// conditional update, so several instances running this never collide.
    /// Returns how many were ended.
    pub async fn abandon_stale(&self, cutoff: OffsetDateTime, now: OffsetDateTime) -> Result<u64, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {BINDING_SELECT} FROM bindings WHERE status = 'pending_verification' AND created_at < $1 LIMIT 500"
        ))
        .bind(to_ms(cutoff))
        .fetch_all(&mut *self.read().await?)
        .await?;
        let mut ended = 0;
        for b in rows.iter().map(binding_row) {
            let b = b?;
            let mut tx = self.begin().await?;
            if fail_pending(&mut tx, &b, now).await? {
                audit_failed_pending(&mut tx, &b.id, Cause::job().with_note("abandoned: the code expired unused"), now).await?;
                ended += 1;
            }
            tx.commit().await?;
        }
        let acts: Vec<(String, Option<String>)> =
            sqlx::query_as("SELECT id, vault_id FROM activations WHERE status = 'pending_verification' AND created_at < $1 LIMIT 500")
                .bind(to_ms(cutoff))
                .fetch_all(&mut *self.read().await?)
                .await?;
        for (id, vault_id) in acts {
            let mut tx = self.begin().await?;
            let res =
                sqlx::query("UPDATE activations SET status = 'failed', updated_at = $1 WHERE id = $2 AND status = 'pending_verification'")
                    .bind(to_ms(now))
                    .bind(&id)
                    .execute(&mut *tx)
                    .await?;
            if res.rows_affected() == 1 {
                if let Some(v) = &vault_id {
                    shred(&mut tx, v, now).await?;
                }
                ended += 1;
            }
            tx.commit().await?;
        }
        self.destroy_shredded_keys_after_commit().await?;
        Ok(ended)
    }
}

async fn live_cards(conn: &mut sqlx::AnyConnection, account_id: &str) -> Result<Vec<LiveCard>, StoreError> {
    let rows = sqlx::query(&live_cards_sql()).bind(account_id).fetch_all(&mut *conn).await?;
    rows.iter().map(live_card).collect()
}

fn live_cards_sql() -> String {
    format!(
        "SELECT id, issuer, card_type, last4 FROM bindings WHERE account_id = $1 AND status IN {LIVE_STATUSES_SQL} ORDER BY created_at, id"
    )
}

fn live_card(r: &impl Cols) -> Result<LiveCard, StoreError> {
    Ok(LiveCard { binding_id: r.col("id")?, issuer: r.col("issuer")?, card_type: r.col("card_type")?, last4: r.col("last4")? })
}

/// Ends a pending binding and shreds its card; false when it was no longer
/// pending (another request or instance ended it first).
async fn fail_pending(tx: &mut Tx, b: &BindingRow, now: OffsetDateTime) -> Result<bool, StoreError> {
    let res = sqlx::query("UPDATE bindings SET status = 'failed', updated_at = $1 WHERE id = $2 AND status = 'pending_verification'")
        .bind(to_ms(now))
        .bind(&b.id)
        .execute(&mut **tx)
        .await?;
    if res.rows_affected() != 1 {
        return Ok(false);
    }
    if let Some(vid) = &b.vault_id {
        shred(tx, vid, now).await?;
    }
    Ok(true)
}

/// The audit entry of a pending binding that ended without becoming live.
async fn audit_failed_pending(tx: &mut Tx, binding_id: &str, cause: Cause<'_>, now: OffsetDateTime) -> Result<(), StoreError> {
    let change = Change {
        action: "binding.fail",
        subject: binding_id,
        before: Some(BindingStatus::PendingVerification.as_str()),
        after: Some(BindingStatus::Failed.as_str()),
    };
    crate::audit::append(tx, cause, change, now).await?;
    Ok(())
}

// ---------------------------------------------------------------- vault rows

/// The vault row of a sealed card: the ciphertext only. Its data key went
/// to the card key store first ([`Store::put_card_key`]).
async fn insert_sealed(tx: &mut Tx, s: &SealedCard, now: OffsetDateTime) -> Result<(), StoreError> {
    sealed_write(s, now).run_on(tx).await
}

fn sealed_write(s: &SealedCard, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "vault row",
        "INSERT INTO vault_cards (id, fingerprint, key_version, pan_ct, pan_nonce, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
        vec![(&s.id).into(), (&s.fingerprint).into(), s.key_version.into(), (&s.pan_ct).into(), (&s.pan_nonce).into(), to_ms(now).into()],
        Expect::Any,
    );
    set
}

/// Uses up a passed challenge (an SMS code) in the transaction of what it
/// confirmed; false if it was used already, so a code confirms one change.
pub(crate) async fn use_challenge(tx: &mut Tx, challenge_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
    let res = sqlx::query(USE_CHALLENGE).bind(to_ms(now)).bind(challenge_id).execute(&mut **tx).await?;
    Ok(res.rows_affected() == 1)
}

const USE_CHALLENGE: &str = "UPDATE challenges SET passed_at = $1 WHERE id = $2 AND passed_at IS NULL";

/// As [`use_challenge`], for a write-set: expects the code unused.
pub(crate) fn use_challenge_write(challenge_id: &str, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push("the code unused", USE_CHALLENGE, vec![to_ms(now).into(), challenge_id.into()], Expect::One);
    set
}

/// Crypto-shredding, inside the operation's transaction: the ciphertext
/// goes at once, and the row is marked so that its data key is destroyed in
/// the card key store right after commit ([`Store::destroy_shredded_keys`]).
/// The fingerprint stays for audit.
pub(crate) async fn shred(tx: &mut Tx, vault_id: &str, now: OffsetDateTime) -> Result<(), StoreError> {
    shred_write(vault_id, now).run_on(tx).await
}

/// As [`shred`], for a write-set (the caller marks the unit so the key is
/// destroyed after the commit).
pub(crate) fn shred_write(vault_id: &str, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "card data shredded",
        "UPDATE vault_cards SET wrapped_dek = NULL, dek_nonce = NULL, pan_ct = NULL, pan_nonce = NULL, shredded_at = $1 WHERE id = $2",
        vec![to_ms(now).into(), vault_id.into()],
        Expect::Any,
    );
    set
}

impl Store {
    /// A card's ciphertext with its data key; `None` once shredded.
    pub async fn get_sealed(&self, vault_id: &str) -> Result<Option<SealedCard>, StoreError> {
        type Row = (String, String, Option<Vec<u8>>, Option<Vec<u8>>);
        fn vault_row(r: &impl Cols) -> Result<Row, StoreError> {
            Ok((r.col("id")?, r.col("fingerprint")?, r.col("pan_ct")?, r.col("pan_nonce")?))
        }
        let sql = "SELECT id, fingerprint, pan_ct, pan_nonce FROM vault_cards WHERE id = $1 AND shredded_at IS NULL";
        let row = self.fetch_row(sql, &[vault_id.into()], vault_row, |r| vault_row(r)).await?;
        let Some((id, fingerprint, Some(pan_ct), Some(pan_nonce))) = row else { return Ok(None) };
        let Some(k) = self.keys.get(&id).await? else { return Ok(None) };
        Ok(Some(SealedCard {
            id,
            fingerprint,
            key_version: k.key_version,
            wrapped_dek: k.wrapped_dek,
            dek_nonce: k.dek_nonce,
            pan_ct,
            pan_nonce,
        }))
    }

    /// Writes a sealed card's data key to the card key store; called before
    /// the transaction that inserts the vault row.
    async fn put_card_key(&self, s: &SealedCard, now: OffsetDateTime) -> Result<(), StoreError> {
        let key = WrappedKey { key_version: s.key_version, wrapped_dek: s.wrapped_dek.clone(), dek_nonce: s.dek_nonce.clone() };
        self.keys.put(&s.id, &key, now).await
    }

    /// Destroys the data keys of shredded vault rows in the card key store
    /// and marks the rows. Idempotent and safe on several instances
    /// (destroying a key twice is a no-op). Returns how many were destroyed.
    pub async fn destroy_shredded_keys(&self) -> Result<u64, StoreError> {
        let mut total = 0;
        loop {
            let ids: Vec<(String,)> =
                sqlx::query_as("SELECT id FROM vault_cards WHERE shredded_at IS NOT NULL AND key_destroyed_at IS NULL LIMIT 200")
                    .fetch_all(&mut *self.read().await?)
                    .await?;
            if ids.is_empty() {
                return Ok(total);
            }
            let ids: Vec<String> = ids.into_iter().map(|(id,)| id).collect();
            self.keys.destroy(&ids).await?;
            let now = to_ms(OffsetDateTime::now_utc());
            for id in &ids {
                sqlx::query("UPDATE vault_cards SET key_destroyed_at = $1 WHERE id = $2").bind(now).bind(id).write_on(self).await?;
            }
            total += ids.len() as u64;
        }
    }

    /// Destroys keys written before `cutoff` whose vault row never committed
    /// (the insert rolled back). Returns how many.
    pub async fn sweep_orphan_keys(&self, cutoff: OffsetDateTime) -> Result<u64, StoreError> {
        // From where the last sweep stopped; after a start, two days back
        // (a key orphaned longer ago was swept by an earlier run).
        let from = match self.sweep_from.load(std::sync::atomic::Ordering::Relaxed) {
            0 => to_ms(cutoff - time::Duration::days(2)),
            at => at,
        };
        let mut orphans = Vec::new();
        let keys = self.keys.written_between(from, cutoff, 1000).await?;
        for (id, _) in &keys {
            let row: Option<(String,)> =
                sqlx::query_as("SELECT id FROM vault_cards WHERE id = $1").bind(id).fetch_optional(&mut *self.read().await?).await?;
            if row.is_none() {
                orphans.push(id.clone());
            }
        }
        self.keys.forget(&orphans).await?;
        // A full page may have more keys at its last time: look at that
        // time again next run (re-checking a few keys costs nothing).
        let next = match keys.last() {
            Some((_, at)) if keys.len() == 1000 => *at,
            _ => to_ms(cutoff),
        };
        self.sweep_from.store(next, std::sync::atomic::Ordering::Relaxed);
        Ok(orphans.len() as u64)
    }

    /// Databases from before the card key store kept the wrapped data key
    /// in the vault row: move each to the key store, then clear it here.
    pub(crate) async fn move_legacy_card_keys(&self) -> Result<(), StoreError> {
        type Row = (String, i64, Vec<u8>, Vec<u8>, i64);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, key_version, wrapped_dek, dek_nonce, created_at FROM vault_cards WHERE wrapped_dek IS NOT NULL AND dek_nonce IS NOT NULL",
        )
        .fetch_all(&mut *self.read().await?)
        .await?;
        for (id, key_version, wrapped_dek, dek_nonce, created_at) in rows {
            self.keys.put(&id, &WrappedKey { key_version, wrapped_dek, dek_nonce }, from_ms(created_at)).await?;
            sqlx::query("UPDATE vault_cards SET wrapped_dek = NULL, dek_nonce = NULL WHERE id = $1").bind(&id).write_on(self).await?;
        }
        Ok(())
    }

    /// Whether the card key store still holds this card's key (tests and
    /// the delete walk-through).
    pub async fn card_key_exists(&self, vault_id: &str) -> Result<bool, StoreError> {
        Ok(self.keys.get(vault_id).await?.is_some())
    }

    /// SQLite: moves both WALs into their files (before inspecting them).
    pub async fn checkpoint_all(&self) -> Result<(), StoreError> {
        self.checkpoint_wal().await?;
        self.keys.checkpoint().await
    }
}

// ---------------------------------------------------------------- challenges

#[derive(Debug, Clone)]
pub struct ChallengeRow {
    pub challenge: Challenge,
    pub phone: String,
    pub sends: i64,
}

fn binding_write(b: &BindingRow) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "binding",
        format!(
            "INSERT INTO bindings ({BINDING_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
        ),
        vec![
            (&b.id).into(),
            (&b.account_id).into(),
            (&b.fingerprint).into(),
            (&b.vault_id).into(),
            (&b.bin).into(),
            (&b.last4).into(),
            (&b.brand).into(),
            (&b.card_type).into(),
            (&b.issuer).into(),
            (&b.expiry).into(),
            (&b.phone).into(),
            (&b.elements_mac).into(),
            b.status.as_str().into(),
            (&b.challenge_id).into(),
            to_ms(b.created_at).into(),
            to_ms(b.updated_at).into(),
            b.activated_at.map(to_ms).into(),
        ],
        Expect::Any,
    );
    set
}

const INSERT_TOKEN: &str = "INSERT INTO tokens (id, binding_id, number, status, domain, atc, key_sealed, created_at, updated_at)
     VALUES ($1, $2, $3, 'active', $4, 0, $5, $6, $6)";

fn activate_change(b: &BindingRow) -> Change<'_> {
    Change {
        action: "binding.activate",
        subject: &b.id,
        before: Some(BindingStatus::PendingVerification.as_str()),
        after: Some(BindingStatus::Active.as_str()),
    }
}

fn pending_change(b: &BindingRow) -> Change<'_> {
    Change { action: "binding.pending", subject: &b.id, before: None, after: Some(BindingStatus::PendingVerification.as_str()) }
}

pub(crate) async fn insert_challenge(tx: &mut Tx, c: &NewChallenge) -> Result<(), StoreError> {
    challenge_write(c).run_on(tx).await
}

pub(crate) fn challenge_write(c: &NewChallenge) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "challenge",
        "INSERT INTO challenges (id, purpose, phone, code_mac, expires_at, attempts, sends, last_sent_at, subject, context_mac)
         VALUES ($1, $2, $3, $4, $5, 0, 1, $6, $7, $8)",
        vec![
            (&c.id).into(),
            c.purpose.as_str().into(),
            (&c.phone).into(),
            (&c.code_mac).into(),
            to_ms(c.expires_at).into(),
            to_ms(c.sent_at).into(),
            (&c.subject).into(),
            (&c.context_mac).into(),
        ],
        Expect::Any,
    );
    set
}

impl ChallengeRow {
    /// A challenge as it is right after it is written.
    pub fn fresh(c: &NewChallenge) -> ChallengeRow {
        ChallengeRow {
            challenge: Challenge {
                id: c.id.clone(),
                purpose: c.purpose,
                code_mac: c.code_mac.clone(),
                expires_at: c.expires_at,
                attempts: 0,
                last_sent_at: c.sent_at,
                passed: false,
            },
            phone: c.phone.clone(),
            sends: 1,
        }
    }
}

const CHALLENGE_BY_ID: &str =
    "SELECT id, purpose, phone, code_mac, expires_at, attempts, sends, last_sent_at, passed_at FROM challenges WHERE id = $1";

async fn challenge_in(conn: &mut sqlx::AnyConnection, id: &str) -> Result<Option<(Challenge, ChallengeRow)>, StoreError> {
    let row = sqlx::query(CHALLENGE_BY_ID).bind(id).fetch_optional(&mut *conn).await?;
    row.as_ref().map(challenge_row).transpose()
}

fn challenge_row(r: &impl Cols) -> Result<(Challenge, ChallengeRow), StoreError> {
    let purpose: String = r.col("purpose")?;
    let c = Challenge {
        id: r.col("id")?,
        purpose: OtpPurpose::parse(&purpose).ok_or_else(|| StoreError::Corrupt(format!("purpose {purpose}")))?,
        code_mac: r.col("code_mac")?,
        expires_at: from_ms(r.col("expires_at")?),
        attempts: u32::try_from(r.col::<i64>("attempts")?).unwrap_or(u32::MAX),
        last_sent_at: from_ms(r.col("last_sent_at")?),
        passed: r.col::<Option<i64>>("passed_at")?.is_some(),
    };
    let row = ChallengeRow { challenge: c.clone(), phone: r.col("phone")?, sends: r.col("sends")? };
    Ok((c, row))
}

impl Store {
    pub async fn get_challenge(&self, id: &str) -> Result<Option<ChallengeRow>, StoreError> {
        Ok(self.fetch_row(CHALLENGE_BY_ID, &[id.into()], challenge_row, |r| challenge_row(r)).await?.map(|(_, r)| r))
    }

    /// Counts a wrong code, only while tries remain (concurrent wrong codes
    /// cannot exceed the limit). Returns whether the try was counted.
    pub async fn count_wrong_otp(&self, id: &str, max_attempts: u32) -> Result<bool, StoreError> {
        let res = sqlx::query("UPDATE challenges SET attempts = attempts + 1 WHERE id = $1 AND attempts < $2 AND passed_at IS NULL")
            .bind(id)
            .bind(i64::from(max_attempts))
            .write_on(self)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// A new code for the same challenge: fresh expiry (the wrong tries still
    /// count, so resending cannot reset the limit), counted as a
    /// send, with its message — only if the cooldown has passed (checked
    /// again here against the stored send time, so concurrent resends send once).
    pub async fn resend_challenge(
        &self,
        id: &str,
        code_mac: &[u8],
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
        not_before_last_sent: OffsetDateTime,
        message: &NewMessage,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the code unused and past its cooldown",
            "UPDATE challenges SET code_mac = $1, expires_at = $2, sends = sends + 1, last_sent_at = $3
             WHERE id = $4 AND passed_at IS NULL AND last_sent_at <= $5",
            vec![code_mac.into(), to_ms(expires_at).into(), to_ms(now).into(), id.into(), to_ms(not_before_last_sent).into()],
            Expect::One,
        );
        set.extend(self.message_set(message, now).await?);
        self.put(set).await
    }
}

// ---------------------------------------------------------------- activations

#[derive(Debug, Clone)]
pub struct ActivationRow {
    pub id: String,
    pub account_id: String,
    pub vault_id: Option<String>,
    pub issuer: String,
    pub bin: String,
    pub last4: String,
    pub status: ActivationStatus,
    pub challenge_id: String,
    pub created_at: OffsetDateTime,
    /// When the status last moved, or the job last asked the bank about it.
    pub updated_at: OffsetDateTime,
    /// When `activate` was last sent to the bank (while `activating`).
    pub asked_bank_at: Option<OffsetDateTime>,
}

/// Which activations [`Store::finish_activation`] may end.
#[derive(Debug, Clone, Copy)]
pub enum ActivationFrom {
    /// Still waiting for its code (a code tried too often).
    Pending,
    /// The bank was asked, whenever: its answer or the card's state says
    /// the card is activated.
    Activating,
    /// The bank was asked at exactly this time and not since (so a retry
    /// that asked again makes a decision taken on what came before void).
    AskedAt(Option<OffsetDateTime>),
}

/// Columns for [`activation_row`].
const ACTIVATION_COLS: &str = "id, account_id, vault_id, issuer, bin, last4, status, challenge_id, created_at, updated_at, asked_bank_at";
type ActivationTuple = (String, String, Option<String>, String, String, String, String, String, i64, i64, Option<i64>);

fn activation_row(
    (id, account_id, vault_id, issuer, bin, last4, status, challenge_id, created_at, updated_at, asked_bank_at): ActivationTuple,
) -> Result<ActivationRow, StoreError> {
    let status = ActivationStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("activation status {status}")))?;
    Ok(ActivationRow {
        id,
        account_id,
        vault_id,
        issuer,
        bin,
        last4,
        status,
        challenge_id,
        created_at: from_ms(created_at),
        updated_at: from_ms(updated_at),
        asked_bank_at: asked_bank_at.map(from_ms),
    })
}

impl Store {
    /// The keyed fingerprint of a vaulted card (kept after shredding).
    pub async fn vault_fingerprint(&self, vault_id: &str) -> Result<Option<String>, StoreError> {
        let r: Option<(String,)> = sqlx::query_as("SELECT fingerprint FROM vault_cards WHERE id = $1")
            .bind(vault_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(r.map(|(f,)| f))
    }

    pub async fn create_activation(
        &self,
        a: &ActivationRow,
        sealed: &SealedCard,
        challenge: &NewChallenge,
        message: &NewMessage,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let mut set = sealed_write(sealed, now);
        set.extend(challenge_write(challenge));
        set.push(
            "activation",
            "INSERT INTO activations (id, account_id, vault_id, issuer, bin, last4, status, challenge_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)",
            vec![
                a.id.as_str().into(),
                a.account_id.as_str().into(),
                a.vault_id.as_deref().into(),
                a.issuer.as_str().into(),
                a.bin.as_str().into(),
                a.last4.as_str().into(),
                a.status.as_str().into(),
                a.challenge_id.as_str().into(),
                to_ms(now).into(),
            ],
            Expect::Any,
        );
        set.extend(self.message_set(message, now).await?);
        // The key is durable before the row that needs it; forgotten if the
        // request's write-set is refused.
        self.put_card_key(sealed, now).await?;
        self.note_staged_key(&sealed.id).await;
        self.stage(set).await
    }

    pub async fn get_activation(&self, account_id: &str, id: &str) -> Result<Option<ActivationRow>, StoreError> {
        let row: Option<ActivationTuple> =
            sqlx::query_as(&format!("SELECT {ACTIVATION_COLS} FROM activations WHERE id = $1 AND account_id = $2"))
                .bind(id)
                .bind(account_id)
                .fetch_optional(&mut *self.read().await?)
                .await?;
        row.map(activation_row).transpose()
    }

    /// Writes down, before the bank is asked to activate the card, that it
    /// is being asked (`pending_verification` → `activating`): a crash or a
    /// lost answer then leaves a row the job resolves by asking the bank.
    /// False when the activation is no longer pending (another confirm got
    /// there first), so the bank is asked once.
    pub async fn begin_activating(&self, a: &ActivationRow, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the activation pending",
            "UPDATE activations SET status = 'activating', updated_at = $1, asked_bank_at = $1 WHERE id = $2 AND status = 'pending_verification'",
            vec![to_ms(now).into(), a.id.as_str().into()],
            Expect::One,
        );
        self.put(set).await
    }

    /// The bank definitely did not activate (it refused, or was never
    /// reached): the activation is pending again, and its code stays good
    /// until it expires.
    pub async fn undo_activating(&self, a: &ActivationRow, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "activation pending again",
            "UPDATE activations SET status = 'pending_verification', updated_at = $1 WHERE id = $2 AND status = 'activating'",
            vec![to_ms(now).into(), a.id.as_str().into()],
            Expect::Any,
        );
        self.stage(set).await
    }

    /// Activations the bank was asked about, last looked at before
    /// `before`, with no definite answer yet: oldest first.
    pub async fn unconfirmed_activations(&self, before: OffsetDateTime, limit: i64) -> Result<Vec<ActivationRow>, StoreError> {
        let rows: Vec<ActivationTuple> = sqlx::query_as(&format!(
            "SELECT {ACTIVATION_COLS} FROM activations WHERE status = 'activating' AND updated_at < $1 ORDER BY updated_at LIMIT $2"
        ))
        .bind(to_ms(before))
        .bind(limit)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.into_iter().map(activation_row).collect()
    }

    /// Claims an unconfirmed activation for one question to the bank (a
    /// conditional update: on many instances, one asks; the next question
    /// waits for the interval again).
    pub async fn claim_activation_check(&self, a: &ActivationRow, now: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query("UPDATE activations SET updated_at = $1 WHERE id = $2 AND status = 'activating' AND updated_at = $3")
            .bind(to_ms(now))
            .bind(&a.id)
            .bind(to_ms(a.updated_at))
            .write_on(self)
            .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Claims an unconfirmed activation to send `activate` again (a retry
    /// after a crash found the card still not activated), recording when:
    /// the job then cannot call it failed on what it saw before.
    pub async fn claim_activation_resend(&self, a: &ActivationRow, now: OffsetDateTime) -> Result<bool, StoreError> {
        let res = sqlx::query(
            "UPDATE activations SET updated_at = $1, asked_bank_at = $1 WHERE id = $2 AND status = 'activating' AND updated_at = $3",
        )
        .bind(to_ms(now))
        .bind(&a.id)
        .bind(to_ms(a.updated_at))
        .write_on(self)
        .await?;
        Ok(res.rows_affected() == 1)
    }

    /// Ends an activation (`activated` or `failed`) that is still as `from`
    /// says (otherwise false, and nothing changes), with its audit entry:
    /// the challenge is marked passed if it was activated, and the PAN kept
    /// for it is shredded — an activation needs it only until the issuer
    /// has answered.
    pub async fn finish_activation(
        &self,
        a: &ActivationRow,
        from: ActivationFrom,
        to: ActivationStatus,
        notice: Option<&NewMessage>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let guard = match from {
            ActivationFrom::Pending => "status = 'pending_verification'",
            ActivationFrom::Activating => "status = 'activating'",
            ActivationFrom::AskedAt(Some(_)) => "status = 'activating' AND asked_bank_at = $4",
            ActivationFrom::AskedAt(None) => "status = 'activating' AND asked_bank_at IS NULL",
        };
        let status = to.as_str();
        let mut args = vec![status.into(), to_ms(now).into(), a.id.as_str().into()];
        if let ActivationFrom::AskedAt(Some(at)) = from {
            args.push(to_ms(at).into());
        }
        let mut set = WriteSet::new();
        set.push(
            "the activation as read",
            format!("UPDATE activations SET status = $1, updated_at = $2 WHERE id = $3 AND {guard}"),
            args,
            Expect::One,
        );
        let before = if let ActivationFrom::Pending = from { "pending_verification" } else { "activating" };
        let change = Change { action: "activation.finish", subject: &a.id, before: Some(before), after: Some(status) };
        set.extend(crate::audit::entry_write(cause, change, now));
        // The code was right only for an activation that went through.
        if to == ActivationStatus::Activated {
            set.push(
                "code used",
                "UPDATE challenges SET passed_at = $1 WHERE id = $2",
                vec![to_ms(now).into(), a.challenge_id.as_str().into()],
                Expect::Any,
            );
        }
        if let Some(vid) = &a.vault_id {
            set.extend(shred_write(vid, now));
        }
        if let Some(m) = notice {
            set.extend(self.message_set(m, now).await?);
        }
        if !self.put(set).await? {
            return Ok(false);
        }
        self.destroy_shredded_keys_after_commit().await?;
        Ok(true)
    }
}
