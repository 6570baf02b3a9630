//! What the risk engine reads and writes: velocity counts over attempts,
//! locks on accounts, cards, devices and IPs, the decisions with the rule
//! that fired, and support's unlock. The rules themselves (pure) are in
//! `bangka_core::risk`.

use bangka_core::risk::{Signal, Subject, VERIFICATION_FAILURES};
use sqlx::Row;
use time::OffsetDateTime;

use crate::audit::{Cause, Change};
use crate::readers::Cols;
use crate::unit::Tx;
use crate::writeset::{Expect, WriteSet};
use crate::{Store, StoreError, from_ms, new_id, to_ms};

/// The attempts column a subject is counted by.
fn column(per: Subject) -> &'static str {
    match per {
        Subject::Account => "account_id",
        Subject::Card => "card_fp",
        Subject::Device => "device_id",
        Subject::Ip => "client_ip",
    }
}

/// The running locks that concern an account: those its own attempts
/// caused, and those on its cards (bound or tried), its devices and their
/// last IPs, whoever's attempts caused them (a card guessed at on other
/// accounts, a shared IP). `$1` is the account, `$2` now.
const ACCOUNT_LOCKS: &str = "released_at IS NULL AND locked_until > $2 AND (account_id = $1
     OR (subject_kind = 'card' AND (subject IN (SELECT fingerprint FROM bindings WHERE account_id = $1)
                                 OR subject IN (SELECT card_fp FROM attempts WHERE account_id = $1 AND card_fp IS NOT NULL)))
     OR (subject_kind = 'device' AND subject IN (SELECT device_id FROM devices WHERE account_id = $1))
     OR (subject_kind = 'ip' AND subject IN (SELECT last_ip FROM devices WHERE account_id = $1 AND last_ip IS NOT NULL)))";

/// A lock on a card, device or IP that is still running.
#[derive(Debug, Clone)]
pub struct SubjectLock {
    pub per: Subject,
    pub rule: String,
    pub locked_until: OffsetDateTime,
}

/// One decision of the risk engine, as recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RiskDecision {
    pub id: String,
    pub rule: String,
    pub subject: String,
    pub outcome: String,
    pub count: i64,
    pub attempt_id: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub locked_until: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What a rule fired on.
pub struct Firing<'a> {
    pub rule: &'a str,
    pub per: Subject,
    /// The subject's value: account id, card fingerprint, device id or IP.
    pub subject: &'a str,
    pub account_id: &'a str,
    pub attempt_id: Option<&'a str>,
    pub count: u32,
}

fn subject_lock(per: Subject, r: &impl Cols) -> Result<SubjectLock, StoreError> {
    Ok(SubjectLock { per, rule: r.col("rule")?, locked_until: from_ms(r.col("locked_until")?) })
}

impl Store {
    /// How many times `signal` happened for the subject since `since`.
    pub async fn count_signal(&self, per: Subject, value: &str, signal: Signal, since: OffsetDateTime) -> Result<u32, StoreError> {
        let col = column(per);
        let (what, filter) = match signal {
            Signal::FailedVerification => {
                let list = VERIFICATION_FAILURES.iter().map(|c| format!("'{}'", c.as_str())).collect::<Vec<_>>().join(",");
                ("COUNT(*)".to_owned(), format!("code IN ({list})"))
            }
            Signal::FailedOtp => ("COUNT(*)".to_owned(), "code = 'OTP_INCORRECT'".to_owned()),
            Signal::FailedPaymentPassword => ("COUNT(*)".to_owned(), "code = 'PAYMENT_PASSWORD_INCORRECT'".to_owned()),
            Signal::DistinctCards => ("COUNT(DISTINCT card_fp)".to_owned(), "kind = 'bind' AND card_fp IS NOT NULL".to_owned()),
            Signal::DistinctAccounts => ("COUNT(DISTINCT account_id)".to_owned(), "kind = 'bind'".to_owned()),
        };
        let sql = format!("SELECT {what} AS n FROM attempts WHERE {col} = $1 AND created_at >= $2 AND {filter}");
        let n: Option<i64> = self.fetch_row(&sql, &[value.into(), to_ms(since).into()], |r| r.col("n"), |r| r.col("n")).await?;
        Ok(n.unwrap_or(0) as u32)
    }

    /// Whether the subject already made a bind attempt with `other` (a card
    /// for `distinct_cards`, an account for `distinct_accounts`) since
    /// `since`: then this attempt adds nothing new to the distinct count.
    pub async fn bind_seen_with(
        &self,
        per: Subject,
        value: &str,
        other: Subject,
        other_value: &str,
        since: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "SELECT id FROM attempts WHERE {} = $1 AND {} = $2 AND kind = 'bind' AND created_at >= $3 LIMIT 1",
            column(per),
            column(other)
        );
        let args = [value.into(), other_value.into(), to_ms(since).into()];
        let r: Option<String> = self.fetch_row(&sql, &args, |r| r.col("id"), |r| r.col("id")).await?;
        Ok(r.is_some())
    }

    /// From when `rule` counts the subject's failures: after support last
    /// lifted the subject's locks (an unlock starts afresh), and after this
    /// same rule last locked it (a lock consumes the failures that caused
    /// it, so once it ends one more failure does not lock again at once).
    /// Another rule's lock consumes nothing: a daily cap keeps counting
    /// through the hourly rule's short locks, which is what makes it a cap.
    pub async fn risk_counted_from(&self, per: Subject, value: &str, rule: &str) -> Result<Option<OffsetDateTime>, StoreError> {
        // Each query answers one row with one (maybe NULL) time.
        let (cleared, locked): (Option<i64>, Option<i64>) = match per {
            Subject::Account => {
                let sql = "SELECT risk_cleared_at AS t FROM accounts WHERE id = $1";
                let cleared = self.fetch_row(sql, &[value.into()], |r| r.col::<Option<i64>>("t"), |r| r.col::<Option<i64>>("t")).await?;
                let sql = "SELECT MAX(created_at) AS t FROM risk_decisions WHERE subject_kind = 'account' AND account_id = $1 AND rule = $2 AND outcome = 'lock'";
                let locked =
                    self.fetch_row(sql, &[value.into(), rule.into()], |r| r.col::<Option<i64>>("t"), |r| r.col::<Option<i64>>("t")).await?;
                (cleared.flatten(), locked.flatten())
            }
            _ => {
                let sql = "SELECT MAX(released_at) AS t FROM risk_locks WHERE subject_kind = $1 AND subject = $2";
                let args = [per.as_str().into(), value.into()];
                let cleared = self.fetch_row(sql, &args, |r| r.col::<Option<i64>>("t"), |r| r.col::<Option<i64>>("t")).await?;
                let sql = "SELECT MAX(created_at) AS t FROM risk_locks WHERE subject_kind = $1 AND subject = $2 AND rule = $3";
                let args = [per.as_str().into(), value.into(), rule.into()];
                let locked = self.fetch_row(sql, &args, |r| r.col::<Option<i64>>("t"), |r| r.col::<Option<i64>>("t")).await?;
                (cleared.flatten(), locked.flatten())
            }
        };
        Ok(cleared.max(locked).map(from_ms))
    }

    pub async fn risk_lock(&self, f: &Firing<'_>, until: OffsetDateTime, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        if f.per == Subject::Account {
            sqlx::query("UPDATE accounts SET locked_until = $1, version = version + 1 WHERE id = $2")
                .bind(to_ms(until))
                .bind(f.account_id)
                .execute(&mut *tx)
                .await?;
        } else {
            sqlx::query(
                "INSERT INTO risk_locks (id, subject_kind, subject, account_id, rule, locked_until, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(new_id("rl"))
            .bind(f.per.as_str())
            .bind(f.subject)
            .bind(f.account_id)
            .bind(f.rule)
            .bind(to_ms(until))
            .bind(to_ms(now))
            .execute(&mut *tx)
            .await?;
        }
        insert_decision(&mut tx, f, "lock", Some(until), now).await?;
        let after = format!("{} locked until {}", f.per.as_str(), crate::rfc3339(until));
        let note = format!("risk rule {}", f.rule);
        let change = Change { action: "account.lock", subject: f.account_id, before: None, after: Some(&after) };
        crate::audit::append(&mut tx, Cause::job().with_note(&note), change, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records a step-up or review decision.
    pub async fn record_risk_decision(&self, f: &Firing<'_>, outcome: &str, now: OffsetDateTime) -> Result<(), StoreError> {
        let mut tx = self.begin().await?;
        insert_decision(&mut tx, f, outcome, None, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Running locks on any of `subjects` (card, device, IP), latest end first.
    pub async fn active_subject_locks(&self, subjects: &[(Subject, &str)], now: OffsetDateTime) -> Result<Vec<SubjectLock>, StoreError> {
        let mut out = Vec::new();
        for (per, value) in subjects {
            let sql = "SELECT rule, locked_until FROM risk_locks WHERE subject_kind = $1 AND subject = $2 AND locked_until > $3 AND released_at IS NULL";
            let args = [per.as_str().into(), (*value).into(), to_ms(now).into()];
            let found = self.fetch_rows(sql, &args, |r| subject_lock(*per, r), |r| subject_lock(*per, r)).await?;
            out.extend(found);
        }
        out.sort_by_key(|l| std::cmp::Reverse(l.locked_until));
        Ok(out)
    }

    /// Whether a lock on the account's cards, devices or IPs still runs.
    pub async fn has_running_subject_locks(&self, account_id: &str, now: OffsetDateTime) -> Result<bool, StoreError> {
        let r: Option<(String,)> = sqlx::query_as(&format!("SELECT id FROM risk_locks WHERE {ACCOUNT_LOCKS} LIMIT 1"))
            .bind(account_id)
            .bind(to_ms(now))
            .fetch_optional(&mut *self.read().await?)
            .await?;
        Ok(r.is_some())
    }

    /// The locks that stop the account now ([`ACCOUNT_LOCKS`]), as an
    /// unlock decides on them (support's unlock, a ticket's, an approved
    /// review's).
    pub async fn account_locks(&self, account_id: &str, now: OffsetDateTime) -> Result<AccountLocks, StoreError> {
        let args = [account_id.into(), to_ms(now).into()];
        let sql = "SELECT id FROM accounts WHERE id = $1 AND locked_until > $2";
        let account: Option<String> = self.fetch_row(sql, &args, |r| r.col("id"), |r| r.col("id")).await?;
        let sql =
            format!("SELECT subject_kind, COUNT(*) AS n FROM risk_locks WHERE {ACCOUNT_LOCKS} GROUP BY subject_kind ORDER BY subject_kind");
        let kinds: Vec<(String, i64)> = self
            .fetch_rows(&sql, &args, |r| Ok((r.col("subject_kind")?, r.col("n")?)), |r| Ok((r.col("subject_kind")?, r.col("n")?)))
            .await?;
        Ok(AccountLocks {
            account: account.is_some(),
            subject_locks: kinds.iter().map(|(_, n)| n).sum(),
            kinds: kinds.into_iter().map(|(k, _)| k).collect(),
        })
    }

    /// Support lifts the account's risk locks as read (`locks`), audited
    /// with the reason in `cause`: one write-set ([`unlock_write`]).
    /// False when they changed meanwhile (applied now, nothing written;
    /// staged, the request decides again).
    pub async fn unlock_account(
        &self,
        account_id: &str,
        locks: &AccountLocks,
        cause: Cause<'_>,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        self.put(unlock_write(account_id, locks, cause, now)).await
    }

    /// The account's risk decisions, newest first.
    pub async fn risk_decisions(&self, account_id: &str) -> Result<Vec<RiskDecision>, StoreError> {
        let rows = sqlx::query(
            "SELECT id, rule, subject_kind, outcome, count, attempt_id, locked_until, created_at FROM risk_decisions
             WHERE account_id = $1 ORDER BY created_at DESC, id LIMIT 200",
        )
        .bind(account_id)
        .fetch_all(&mut *self.read().await?)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(RiskDecision {
                    id: r.try_get("id")?,
                    rule: r.try_get("rule")?,
                    subject: r.try_get("subject_kind")?,
                    outcome: r.try_get("outcome")?,
                    count: r.try_get("count")?,
                    attempt_id: r.try_get("attempt_id")?,
                    locked_until: r.try_get::<Option<i64>, _>("locked_until")?.map(from_ms),
                    created_at: from_ms(r.try_get("created_at")?),
                })
            })
            .collect()
    }
}

async fn insert_decision(
    tx: &mut Tx,
    f: &Firing<'_>,
    outcome: &str,
    until: Option<OffsetDateTime>,
    now: OffsetDateTime,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO risk_decisions (id, rule, subject_kind, account_id, attempt_id, outcome, count, locked_until, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(new_id("rd"))
    .bind(f.rule)
    .bind(f.per.as_str())
    .bind(f.account_id)
    .bind(f.attempt_id)
    .bind(outcome)
    .bind(f.count as i64)
    .bind(until.map(to_ms))
    .bind(to_ms(now))
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// The locks that stop an account, as read ([`Store::account_locks`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountLocks {
    /// The account's own lock runs.
    pub account: bool,
    /// The kinds of subject (card, device, ip) with a running lock, in order.
    pub kinds: Vec<String>,
    /// How many subject locks run: the unlock's guard.
    pub subject_locks: i64,
}

impl AccountLocks {
    /// What an unlock releases: `account` first, then the subjects' kinds.
    pub fn scopes(&self) -> Vec<String> {
        self.account.then(|| "account".to_owned()).into_iter().chain(self.kinds.iter().cloned()).collect()
    }

    pub fn is_empty(&self) -> bool {
        !self.account && self.subject_locks == 0
    }
}

/// Lifts the locks that stop the account, as read (`locks`, not empty):
/// its own and those on its cards, devices and IPs ([`ACCOUNT_LOCKS`]);
/// failures before now stop counting; the `account.unlock` audit entry
/// under `cause`. Guarded by what was read: the account's own lock as it
/// was, and as many subject locks running, else the write-set conflicts.
pub(crate) fn unlock_write(account_id: &str, locks: &AccountLocks, cause: Cause<'_>, now: OffsetDateTime) -> WriteSet {
    let mut set = WriteSet::new();
    if locks.account {
        set.push(
            "the account's lock still running",
            "UPDATE accounts SET locked_until = NULL, risk_cleared_at = $2, version = version + 1 WHERE id = $1 AND locked_until > $2",
            vec![account_id.into(), to_ms(now).into()],
            Expect::One,
        );
    } else {
        set.push(
            "the account still not locked itself",
            "SELECT id FROM accounts WHERE id = $1 AND (locked_until IS NULL OR locked_until <= $2)",
            vec![account_id.into(), to_ms(now).into()],
            Expect::Row,
        );
        set.push(
            "failures before now stop counting",
            "UPDATE accounts SET risk_cleared_at = $2 WHERE id = $1",
            vec![account_id.into(), to_ms(now).into()],
            Expect::Any,
        );
    }
    set.push(
        "the same subject locks running",
        format!("SELECT 1 AS one WHERE (SELECT COUNT(*) FROM risk_locks WHERE {ACCOUNT_LOCKS}) = $3"),
        vec![account_id.into(), to_ms(now).into(), locks.subject_locks.into()],
        Expect::Row,
    );
    set.push(
        "subject locks released",
        format!("UPDATE risk_locks SET released_at = $2, released_by = $3 WHERE {ACCOUNT_LOCKS}"),
        vec![account_id.into(), to_ms(now).into(), cause.actor.into()],
        Expect::Any,
    );
    let before = format!("locked: {}", locks.scopes().join(", "));
    let change = Change { action: "account.unlock", subject: account_id, before: Some(&before), after: Some("unlocked") };
    set.extend(crate::audit::entry_write(cause, change, now));
    set
}
