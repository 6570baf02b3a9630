//! `bangka fill`: scale data. Writes N bound cards (population cards, each
//! with its own account, KYC, vaulted card number, binding and token)
//! straight into the store, to measure the service with a million or ten
//! million cards on file. Prints one JSON line: cards, seconds, rate, and
//! the database's size on disk.

use std::path::Path;
use std::time::Instant;

use bangka_core::bin::WalletPolicy;
use bangka_core::bind::{BindRequest, RawCardHolder};
use bangka_issuer::Population;
use bangka_store::{FilledCard, Store, Vault, kyc_context, new_id};
use serde_json::json;

/// Cards per transaction.
const BATCH: u64 = 2_000;

/// Fills `store` with population cards `from..from + n`. Accounts get
/// phones outside the population's (`14…`), so a load run that signs up
/// population holders meets no taken phone.
pub async fn fill(store: &Store, vault: &Vault, from: u64, n: u64, data_dir: &Path) -> anyhow::Result<serde_json::Value> {
    let population = Population::new(from + n, crate::POPULATION_SEED);
    let policy = WalletPolicy::default();
    store.prepare_fill().await?;
    let started = Instant::now();
    let now = time::OffsetDateTime::now_utc();
    let mut done = 0;
    let mut i = from;
    while i < from + n {
        let end = (i + BATCH).min(from + n);
        let mut batch: Vec<FilledCard> = (i..end).map(|k| card(&population, vault, &policy, k, now)).collect::<anyhow::Result<_>>()?;
        let numbers: Vec<String> = batch.iter().map(|c| c.token_number.clone()).collect();
        let taken = store.taken_token_numbers(&numbers).await?;
        for c in batch.iter_mut().filter(|c| taken.contains(&c.token_number)) {
            // A live bind drew this number: draw another, as a bind does.
            c.token_number = loop {
                let n = crate::flows::bind::new_token_number();
                if !taken.contains(&n) && !numbers.contains(&n) && store.taken_token_numbers(std::slice::from_ref(&n)).await?.is_empty() {
                    break n;
                }
            };
        }
        store.fill(&batch, now).await?;
        done += batch.len() as u64;
        i = end;
        if done % 100_000 < BATCH {
            let secs = started.elapsed().as_secs_f64();
            tracing::info!(done, of = n, per_second = (done as f64 / secs).round(), "filling cards");
        }
    }
    let secs = started.elapsed().as_secs_f64();
    store.checkpoint_all().await?;
    let bytes: u64 = std::fs::read_dir(data_dir)
        .map(|d| d.flatten().filter_map(|e| e.metadata().ok()).filter(|m| m.is_file()).map(|m| m.len()).sum())
        .unwrap_or(0);
    Ok(json!({
        "cards": done,
        "seconds": (secs * 10.0).round() / 10.0,
        "cards_per_second": (done as f64 / secs).round(),
        "bound_cards_in_store": store.live_binding_count().await?,
        "data_dir_mb": (bytes as f64 / 1024.0 / 1024.0).round(),
    }))
}

/// A token number for card `k`: distinct for every `k` below 10^9 (an odd
/// multiplier not divisible by 5 permutes the nine digits), so a fill never
/// draws one twice; a number a live bind drew at random is redrawn.
fn token_number(k: u64) -> String {
    let body = (u128::from(k) * 387_420_489 + 123_456_789) % 1_000_000_000;
    let payload = format!("{}{body:09}", bangka_core::bin::TOKEN_BIN);
    format!("{payload}{}", bangka_core::card::luhn_check_digit(&payload))
}

fn card(population: &Population, vault: &Vault, policy: &WalletPolicy, k: u64, now: time::OffsetDateTime) -> anyhow::Result<FilledCard> {
    let m = population.member(k).ok_or_else(|| anyhow::anyhow!("no population card {k}"))?;
    let raw = RawCardHolder {
        card_number: &m.card_number,
        holder_name: &m.holder_name,
        id_number: &m.id_number,
        phone: &m.phone,
        expiry: None,
        cvv: None,
    };
    let req = BindRequest::parse(raw, policy, now).map_err(|f| anyhow::anyhow!("population card {k}: {:?}", f.code))?;
    let account_id = new_id("acc");
    let vault_id = new_id("vc");
    let token_id = new_id("tok");
    Ok(FilledCard {
        phone: format!("14{k:09}"),
        kyc_name_mac: vault.kyc_name_mac(req.holder_name.as_str()),
        kyc_id_mac: vault.kyc_id_mac(req.id_number.expose()),
        kyc_name_enc: vault.seal_value(&kyc_context(&account_id, "name"), req.holder_name.as_str()),
        kyc_id_enc: vault.seal_value(&kyc_context(&account_id, "id"), req.id_number.expose()),
        sealed: vault.seal_pan(&vault_id, &req.pan),
        binding_id: new_id("bnd"),
        bin: req.facts.bin.into(),
        last4: req.pan.last4().into(),
        brand: req.facts.brand.as_str().into(),
        card_type: req.facts.card_type.as_str().into(),
        issuer: req.facts.issuer.into(),
        elements_mac: crate::flows::bind::elements_mac_of(vault, &req),
        token_key: vault.new_token_key(&token_id),
        token_id,
        token_number: token_number(k),
        token_domain: "wallet:fill".into(),
        account_id,
    })
}
