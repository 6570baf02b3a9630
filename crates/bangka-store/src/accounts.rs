//! Wallet accounts: opening, real-name records, the payment password, the
//! account freeze, the phone (verification and change) and API keys.

use bangka_core::bind::{AccountFreezeReason, AccountStatus, KycState};
use time::OffsetDateTime;

use crate::WriteOn;
use crate::audit::{Cause, Change};
use crate::opt_time;
use crate::outbox::NewMessage;
use crate::readers::Cols;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, is_unique_violation, new_id, to_ms};

#[derive(Debug, Clone)]
pub struct AccountRow {
    pub id: String,
    pub phone: String,
    pub kyc: KycState,
    pub kyc_name_mac: Option<String>,
    pub kyc_id_mac: Option<String>,
    pub status: AccountStatus,
    /// Why the holder froze the account, while it is frozen.
    pub frozen_reason: Option<AccountFreezeReason>,
    pub frozen_at: Option<OffsetDateTime>,
    pub locked_until: Option<OffsetDateTime>,
    pub payment_password_set_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
    /// `zh-CN` or `en`: the language of the holder's notices.
    pub language: String,
    /// Where notices also go by email, if the holder gave one.
    pub email: Option<String>,
    /// When the account phone was proven (an SMS code, or the wallet's own
    /// sign-in); `None`: the sign-up is not complete.
    pub phone_verified_at: Option<OffsetDateTime>,
}

fn account_row(r: &impl Cols) -> Result<AccountRow, StoreError> {
    let kyc: String = r.col("kyc_status")?;
    let status: String = r.col("status")?;
    let frozen_reason: Option<String> = r.col("frozen_reason")?;
    Ok(AccountRow {
        id: r.col("id")?,
        phone: r.col("phone")?,
        kyc: KycState::parse(&kyc).ok_or_else(|| StoreError::Corrupt(format!("kyc_status {kyc}")))?,
        kyc_name_mac: r.col("kyc_name_mac")?,
        kyc_id_mac: r.col("kyc_id_mac")?,
        status: AccountStatus::parse(&status).ok_or_else(|| StoreError::Corrupt(format!("account status {status}")))?,
        frozen_reason: frozen_reason
            .map(|r| AccountFreezeReason::parse(&r).ok_or_else(|| StoreError::Corrupt(format!("account frozen_reason {r}"))))
            .transpose()?,
        frozen_at: opt_time(r.col("frozen_at")?),
        locked_until: opt_time(r.col("locked_until")?),
        payment_password_set_at: opt_time(r.col("payment_password_set_at")?),
        created_at: from_ms(r.col("created_at")?),
        language: r.col("language")?,
        email: r.col("email")?,
        phone_verified_at: opt_time(r.col("phone_verified_at")?),
    })
}

const SET_KYC: &str =
    "UPDATE accounts SET kyc_status = $1, kyc_name_mac = $2, kyc_id_mac = $3, kyc_name_enc = $4, kyc_id_enc = $5, version = version + 1
     WHERE id = $6 AND kyc_status = $7";

const INSERT_ACCOUNT: &str =
    "INSERT INTO accounts (id, phone, kyc_status, status, created_at, language, email, phone_verified_at, phone_verified_by)
     VALUES ($1, $2, 'unverified', 'active', $3, $4, $5, $6, $7)";

/// A new wallet account.
pub struct NewAccount<'a> {
    /// The mode of the key that opens it, written into its id.
    pub mode: bangka_core::mode::Mode,
    pub phone: &'a str,
    /// The wallet verified the phone in its own sign-in (else Bangka sends
    /// an SMS code and the account waits for it).
    pub phone_verified_by_wallet: bool,
    /// `zh-CN` or `en`.
    pub language: &'a str,
    pub email: Option<&'a str>,
}

/// The named constraint a write ran into, mapped once here.
#[derive(Debug, PartialEq, Eq)]
pub enum Conflict {
    PhoneTaken,
}

/// What sealed KYC data looks like when stored.
pub struct KycRecord {
    pub status: KycState,
    pub name_mac: String,
    pub id_mac: String,
    pub name_sealed: Vec<u8>,
    pub id_sealed: Vec<u8>,
}

const ACCOUNT_COLS: &str = "id, phone, kyc_status, kyc_name_mac, kyc_id_mac, status, frozen_reason, frozen_at, locked_until, payment_password_set_at, created_at, language, email, phone_verified_at";

impl Store {
    /// Opens an account, audited (the phone is not in the audit entry).
    pub async fn create_account(
        &self,
        a: NewAccount<'_>,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Result<AccountRow, Conflict>, StoreError> {
        let id = new_id(a.mode.account_id_prefix());
        let mut tx = self.begin().await?;
        let res = sqlx::query(INSERT_ACCOUNT)
            .bind(&id)
            .bind(a.phone)
            .bind(to_ms(now))
            .bind(a.language)
            .bind(a.email)
            .bind(a.phone_verified_by_wallet.then(|| to_ms(now)))
            .bind(a.phone_verified_by_wallet.then_some("wallet"))
            .execute(&mut *tx)
            .await;
        match res {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e, "accounts_phone_key", "accounts.phone") => return Ok(Err(Conflict::PhoneTaken)),
            Err(e) => return Err(e.into()),
        }
        let change = Change { action: "account.create", subject: &id, before: None, after: Some("active") };
        crate::audit::append(&mut tx, cause, change, now).await?;
        tx.commit().await?;
        Ok(Ok(self.get_account(&id).await?.expect("just inserted")))
    }

    /// Stages a new account for the request's write-set (see
    /// [`crate::writeset`]) and returns it as it will be. A phone taken
    /// meanwhile refuses the write-set; the request decides again (and is
    /// told the phone is taken).
    pub async fn stage_account(&self, a: NewAccount<'_>, cause: Cause<'_>, now: OffsetDateTime) -> Result<AccountRow, StoreError> {
        let now = from_ms(to_ms(now));
        let row = AccountRow {
            id: new_id(a.mode.account_id_prefix()),
            phone: a.phone.to_owned(),
            kyc: KycState::Unverified,
            kyc_name_mac: None,
            kyc_id_mac: None,
            status: AccountStatus::Active,
            frozen_reason: None,
            frozen_at: None,
            locked_until: None,
            payment_password_set_at: None,
            created_at: now,
            language: a.language.to_owned(),
            email: a.email.map(str::to_owned),
            phone_verified_at: a.phone_verified_by_wallet.then_some(now),
        };
        let mut set = WriteSet::new();
        set.push(
            "the phone free",
            INSERT_ACCOUNT,
            vec![
                (&row.id).into(),
                a.phone.into(),
                to_ms(now).into(),
                a.language.into(),
                a.email.into(),
                a.phone_verified_by_wallet.then(|| to_ms(now)).into(),
                a.phone_verified_by_wallet.then_some("wallet").into(),
            ],
            Expect::Any,
        );
        let change = Change { action: "account.create", subject: &row.id, before: None, after: Some("active") };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.stage(set).await?;
        Ok(row)
    }

    pub async fn get_account(&self, id: &str) -> Result<Option<AccountRow>, StoreError> {
        self.fetch_row(&format!("SELECT {ACCOUNT_COLS} FROM accounts WHERE id = $1"), &[id.into()], account_row, |r| account_row(r)).await
    }

    /// Records the KYC outcome, only for an account not yet verified.
    /// Returns false when the account's KYC was already settled.
    /// Records the KYC result, only over `unverified`, with its audit entry
    /// (the status only: never the name or ID number).
    /// Stages the KYC result for the request's write-set, decided on the
    /// account as read (its KYC state is the guard: settled meanwhile, the
    /// write-set is refused and the request decides again). Returns the
    /// account as it will be.
    pub async fn stage_kyc(
        &self,
        account: &AccountRow,
        kyc: &KycRecord,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<AccountRow, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the KYC state read",
            SET_KYC,
            vec![
                kyc.status.as_str().into(),
                (&kyc.name_mac).into(),
                (&kyc.id_mac).into(),
                (&kyc.name_sealed).into(),
                (&kyc.id_sealed).into(),
                (&account.id).into(),
                account.kyc.as_str().into(),
            ],
            Expect::One,
        );
        let change =
            Change { action: "account.kyc", subject: &account.id, before: Some(account.kyc.as_str()), after: Some(kyc.status.as_str()) };
        set.extend(crate::audit::entry_write(cause, change, now));
        self.stage(set).await?;
        Ok(AccountRow {
            kyc: kyc.status,
            kyc_name_mac: Some(kyc.name_mac.clone()),
            kyc_id_mac: Some(kyc.id_mac.clone()),
            ..account.clone()
        })
    }

    pub async fn set_kyc(&self, account_id: &str, kyc: &KycRecord, cause: Cause<'_>, now: OffsetDateTime) -> Result<bool, StoreError> {
        let mut tx = self.begin().await?;
        // From unverified, or again after a rejection (the holder has come of
        // age, or had typed the ID number wrong); never over a verified one.
        let before: Option<(String,)> =
            sqlx::query_as("SELECT kyc_status FROM accounts WHERE id = $1 AND kyc_status IN ('unverified', 'rejected')")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?;
        let Some((before,)) = before else { return Ok(false) };
        let res = sqlx::query(SET_KYC)
            .bind(kyc.status.as_str())
            .bind(&kyc.name_mac)
            .bind(&kyc.id_mac)
            .bind(&kyc.name_sealed)
            .bind(&kyc.id_sealed)
            .bind(account_id)
            .bind(&before)
            .execute(&mut *tx)
            .await?;
        if res.rows_affected() != 1 {
            return Ok(false);
        }
        let change = Change { action: "account.kyc", subject: account_id, before: Some(&before), after: Some(kyc.status.as_str()) };
        crate::audit::append(&mut tx, cause, change, now).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// The sealed real name and ID number of a verified account (opened
    /// by the caller with the vault, to show them masked to support).
    pub async fn kyc_sealed(&self, account_id: &str) -> Result<Option<(Vec<u8>, Vec<u8>)>, StoreError> {
        type Sealed = (Option<Vec<u8>>, Option<Vec<u8>>);
        let row: Option<Sealed> = sqlx::query_as("SELECT kyc_name_enc, kyc_id_enc FROM accounts WHERE id = $1")
            .bind(account_id)
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(row.and_then(|(n, i)| Some((n?, i?))))
    }

    /// The stored payment password hash (PHC string), if one is set.
    pub async fn payment_password_hash(&self, account_id: &str) -> Result<Option<String>, StoreError> {
        let sql = "SELECT payment_password_hash FROM accounts WHERE id = $1";
        let row: Option<Option<String>> =
            self.fetch_row(sql, &[account_id.into()], |r| r.col("payment_password_hash"), |r| r.col("payment_password_hash")).await?;
        Ok(row.flatten())
    }

    /// Sets the payment password hash, only if the stored one is still
    /// `expected` (none, or the one the caller verified the current password
    /// against): a concurrent change is never silently overwritten.
    #[allow(clippy::too_many_arguments)]
    pub async fn set_payment_password(
        &self,
        account_id: &str,
        hash: &str,
        expected: Option<&str>,
        notice: &NewMessage,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the payment password as verified",
            "UPDATE accounts SET payment_password_hash = $1, payment_password_set_at = $2, version = version + 1
             WHERE id = $3 AND COALESCE(payment_password_hash, '') = $4",
            vec![hash.into(), to_ms(now).into(), account_id.into(), expected.unwrap_or("").into()],
            Expect::One,
        );
        let (before, after) = if expected.is_some() { ("set", "changed") } else { ("unset", "set") };
        let change = Change { action: "account.payment_password", subject: account_id, before: Some(before), after: Some(after) };
        set.extend(crate::audit::entry_write(cause, change, now));
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }
}

impl Store {
    /// Resets a forgotten payment password once its SMS challenge passed
    /// (consumed here): the new MAC, the audit entry and the notice in one
    /// transaction. Returns false (nothing changed) if the code was used
    /// meanwhile.
    #[allow(clippy::too_many_arguments)]
    pub async fn reset_payment_password(
        &self,
        account_id: &str,
        challenge_id: &str,
        hash: &str,
        notice: &NewMessage,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = crate::bindings::use_challenge_write(challenge_id, now);
        set.push(
            "password",
            "UPDATE accounts SET payment_password_hash = $1, payment_password_set_at = $2, version = version + 1 WHERE id = $3",
            vec![hash.into(), to_ms(now).into(), account_id.into()],
            Expect::Any,
        );
        let change = Change { action: "account.payment_password", subject: account_id, before: None, after: Some("reset") };
        set.extend(crate::audit::entry_write(cause, change, now));
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }

    /// Replaces an older kind of payment-password hash (argon2) with its
    /// MAC after a successful check; only if it is still the one checked.
    /// Not a change of password: no audit entry, no notice.
    pub async fn upgrade_payment_password_hash(&self, account_id: &str, old: &str, new: &str) -> Result<bool, StoreError> {
        let res = sqlx::query("UPDATE accounts SET payment_password_hash = $1 WHERE id = $2 AND payment_password_hash = $3")
            .bind(new)
            .bind(account_id)
            .bind(old)
            .write_on(self)
            .await?;
        Ok(res.rows_affected() == 1)
    }
}

// ---------------------------------------------------------------- account freeze

/// The answer to an account unfreeze.
#[derive(Debug, PartialEq, Eq)]
pub enum AccountUnfreezeOutcome {
    Unfrozen,
    /// The SMS code was used meanwhile (a concurrent unfreeze).
    ChallengeUsed,
    NotFrozen,
}

impl Store {
    /// Freezes an active account with its audit entry and notice, in one
    /// transaction. Returns false when it was not active (already frozen).
    pub async fn freeze_account(
        &self,
        account_id: &str,
        reason: AccountFreezeReason,
        notice: &NewMessage,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let mut set = WriteSet::new();
        set.push(
            "the account active",
            "UPDATE accounts SET status = 'frozen', frozen_reason = $1, frozen_at = $2, version = version + 1 WHERE id = $3 AND status = 'active'",
            vec![reason.as_str().into(), to_ms(now).into(), account_id.into()],
            Expect::One,
        );
        let change = Change { action: "account.freeze", subject: account_id, before: Some("active"), after: Some("frozen") };
        set.extend(crate::audit::entry_write(cause.with_note(reason.as_str()), change, now));
        set.extend(end_all_sessions_write(account_id, now));
        set.extend(self.message_set(notice, now).await?);
        self.put(set).await
    }

    /// Unfreezes a frozen account, using up the SMS code that verified it,
    /// with its audit entry and notice, at once.
    pub async fn unfreeze_account(
        &self,
        account_id: &str,
        challenge_id: &str,
        notice: &NewMessage,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<AccountUnfreezeOutcome, StoreError> {
        let mut set = crate::bindings::use_challenge_write(challenge_id, now);
        set.push(
            "the account frozen",
            "UPDATE accounts SET status = 'active', frozen_reason = NULL, frozen_at = NULL, version = version + 1 WHERE id = $1 AND status = 'frozen'",
            vec![account_id.into()],
            Expect::One,
        );
        let change = Change { action: "account.unfreeze", subject: account_id, before: Some("frozen"), after: Some("active") };
        set.extend(crate::audit::entry_write(cause, change, now));
        set.extend(self.message_set(notice, now).await?);
        if self.put(set).await? {
            return Ok(AccountUnfreezeOutcome::Unfrozen);
        }
        // Refused whole: say which expectation failed.
        let code_used = self.get_challenge(challenge_id).await?.is_none_or(|c| c.challenge.passed);
        Ok(if code_used { AccountUnfreezeOutcome::ChallengeUsed } else { AccountUnfreezeOutcome::NotFrozen })
    }
}

/// Moves an account to a new phone, audited (without either number), for
/// a write-set guarded by the phone as read: an account frozen because its
/// phone was lost is unfrozen with it (the lost phone was the reason, and
/// the new one has been proven, see [`phone_proven_write`]). A number
/// another account took meanwhile refuses the write-set (the unique
/// constraint), so nothing changes.
pub(crate) fn move_phone_write(account: &AccountRow, stale: &[String], phone: &str, cause: Cause<'_>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "the account's phone as read",
        "UPDATE accounts SET phone = $1, version = version + 1 WHERE id = $2 AND phone = $3",
        vec![phone.into(), (&account.id).into(), (&account.phone).into()],
        Expect::One,
    );
    let change = Change { action: "account.phone_change", subject: &account.id, before: None, after: Some("changed") };
    set.extend(crate::audit::entry_write(cause, change, now));
    set.extend(phone_proven_write(account, stale, "sms", cause.with_note("new phone proven"), now));
    set
}

/// The SQL list of account freeze reasons that distrust the phone (kept
/// beside [`AccountFreezeReason::distrusts_phone`] by a test).
pub(crate) const PHONE_DISTRUSTING_SQL: &str = "('phone_lost','account_compromised')";

/// The account's phone is proven again (`by`: `sms` for a phone change,
/// `review` for an identity review), for a write-set decided on the
/// account as read: stamped, and a freeze that distrusted the phone is
/// lifted (audited as `account.unfreeze`); a card frozen `phone_lost`
/// before this moment can be unfrozen by a code from now on. A request to
/// move the account off its phone still waiting (`stale`, as read by
/// [`Store::stale_phone_reviews`]) was made for the account as it was; the
/// phone is settled now, so approving it later would undo the holder's own
/// fix (issue 24, finding 3): void. Guarded by the freeze as read and by
/// as many such requests waiting.
pub(crate) fn phone_proven_write(account: &AccountRow, stale: &[String], by: &str, cause: Cause<'_>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    match lifted_freeze(account) {
        Some(reason) => {
            set.push(
                "the account frozen for its phone as read",
                "UPDATE accounts SET phone_verified_at = $1, phone_verified_by = $2, status = 'active', frozen_at = NULL, frozen_reason = NULL,
                   version = version + 1
                 WHERE id = $3 AND status = 'frozen' AND frozen_reason = $4",
                vec![to_ms(now).into(), by.into(), (&account.id).into(), reason.as_str().into()],
                Expect::One,
            );
            let change = Change { action: "account.unfreeze", subject: &account.id, before: Some("frozen"), after: Some("active") };
            set.extend(crate::audit::entry_write(cause.with_note(reason.as_str()), change, now));
        }
        None => set.push(
            "the account not frozen for its phone",
            format!(
                "UPDATE accounts SET phone_verified_at = $1, phone_verified_by = $2, version = version + 1
                 WHERE id = $3 AND (status <> 'frozen' OR frozen_reason IS NULL OR frozen_reason NOT IN {PHONE_DISTRUSTING_SQL})"
            ),
            vec![to_ms(now).into(), by.into(), (&account.id).into()],
            Expect::One,
        ),
    }
    set.push(
        "the same phone requests waiting",
        format!("SELECT 1 AS one WHERE (SELECT COUNT(*) FROM reviews WHERE {STALE_REVIEWS}) = $2"),
        vec![(&account.id).into(), (stale.len() as i64).into()],
        Expect::Row,
    );
    for id in stale {
        set.push(
            "a phone request still waiting",
            "UPDATE reviews SET status = 'void', decided_by = $1, decision_reason = $2, decided_at = $3, name_enc = NULL, id_enc = NULL
             WHERE id = $4 AND status = 'submitted'",
            vec![cause.actor.into(), VOID_REASON.into(), to_ms(now).into(), id.into()],
            Expect::One,
        );
        let change = Change { action: "review.void", subject: id, before: Some("submitted"), after: Some("void") };
        set.extend(crate::audit::entry_write(cause.with_note(VOID_REASON), change, now));
    }
    set
}

/// The freeze a proven phone lifts, if the account has one.
fn lifted_freeze(account: &AccountRow) -> Option<AccountFreezeReason> {
    account.frozen_reason.filter(|r| account.status == AccountStatus::Frozen && r.distrusts_phone())
}

/// The account as [`phone_proven_write`] leaves it.
pub(crate) fn phone_proven_row(account: &AccountRow, now: OffsetDateTime) -> AccountRow {
    let mut a = AccountRow { phone_verified_at: Some(from_ms(to_ms(now))), ..account.clone() };
    if lifted_freeze(account).is_some() {
        a.status = AccountStatus::Active;
        a.frozen_reason = None;
        a.frozen_at = None;
    }
    a
}

/// The requests waiting to move an account off its phone (`$1`).
const STALE_REVIEWS: &str = "account_id = $1 AND status = 'submitted' AND kind IN ('phone_change', 'unfreeze')";

/// Why a waiting review became void.
pub const VOID_REASON: &str = "the account phone was settled another way";

/// Ends every live holder session of the account, for a write-set (a
/// freeze: whoever holds a session opened before it, a thief with the lost
/// phone included, must sign in again through the wallet).
pub(crate) fn end_all_sessions_write(account_id: &str, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    set.push(
        "sessions ended",
        "UPDATE holder_sessions SET ended_at = $1 WHERE account_id = $2 AND ended_at IS NULL",
        vec![to_ms(now).into(), account_id.into()],
        Expect::Any,
    );
    set
}

impl Store {
    /// The ids of the requests waiting to move the account off its phone
    /// (a proven phone voids them: [`phone_proven_write`]).
    pub async fn stale_phone_reviews(&self, account_id: &str) -> Result<Vec<String>, StoreError> {
        let sql = format!("SELECT id FROM reviews WHERE {STALE_REVIEWS} ORDER BY id");
        self.fetch_rows(&sql, &[account_id.into()], |r| r.col("id"), |r| r.col("id")).await
    }

    /// Changes the account phone once both SMS codes (to the old and the
    /// new phone) passed: both used up, the number moved, the notices to
    /// both phones, as one write-set decided on the account as read.
    /// Returns the account as it will be, or `None` when the state moved
    /// meanwhile (a code used, the number taken, the account changed:
    /// applied now, nothing written; staged, the request decides again).
    pub async fn change_account_phone(
        &self,
        account: &AccountRow,
        challenges: &[&str],
        phone: &str,
        notices: &[NewMessage],
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<AccountRow>, StoreError> {
        let stale = self.stale_phone_reviews(&account.id).await?;
        let mut set = WriteSet::new();
        for c in challenges {
            set.extend(crate::bindings::use_challenge_write(c, now));
        }
        set.extend(move_phone_write(account, &stale, phone, cause, now));
        for n in notices {
            set.extend(self.message_set(n, now).await?);
        }
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(AccountRow { phone: phone.to_owned(), ..phone_proven_row(account, now) }))
    }

    /// Marks the account phone verified by the SMS code sent at sign-up
    /// (used up here), audited, as one write-set. `None`: the code was used
    /// or the phone verified meanwhile (applied now, nothing written;
    /// staged, the request decides again).
    pub async fn verify_account_phone(
        &self,
        account: &AccountRow,
        challenge_id: &str,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<Option<AccountRow>, StoreError> {
        let mut set = crate::bindings::use_challenge_write(challenge_id, now);
        set.push(
            "the phone not verified yet",
            "UPDATE accounts SET phone_verified_at = $1, phone_verified_by = 'sms', version = version + 1 WHERE id = $2 AND phone_verified_at IS NULL",
            vec![to_ms(now).into(), (&account.id).into()],
            Expect::One,
        );
        let change = Change { action: "account.phone_verified", subject: &account.id, before: None, after: Some("sms") };
        set.extend(crate::audit::entry_write(cause, change, now));
        if !self.put(set).await? {
            return Ok(None);
        }
        Ok(Some(AccountRow { phone_verified_at: Some(from_ms(to_ms(now))), ..account.clone() }))
    }

    /// The account that has this phone, if any.
    pub async fn account_by_phone(&self, phone: &str) -> Result<Option<String>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT id FROM accounts WHERE phone = $1").bind(phone).fetch_optional(&mut *self.read().await?).await?;
        Ok(row.map(|r| r.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phone_distrusting_sql_lists_the_reasons_that_distrust_the_phone() {
        for r in AccountFreezeReason::ALL {
            assert_eq!(PHONE_DISTRUSTING_SQL.contains(&format!("'{}'", r.as_str())), r.distrusts_phone(), "{r:?}");
        }
    }
}
