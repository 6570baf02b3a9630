//! The issuer simulator: banks with realistic BIN ranges and a fixed set of
//! test cards, one per scenario, so every failure can be tried by hand.
//!
//! Card numbers are generated (BIN + serial + Luhn check digit), not typed
//! into source; `docs/test-cards.md` lists them as `GET /v1/demo/cards` shows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bangka_core::bin::{self, CardType};
use bangka_core::card::{Expiry, Pan, luhn_check_digit};
use bangka_core::clock::Clock;
use bangka_core::holder::id_check_char;
use bangka_core::{ErrorCode, Failure};
use serde::Serialize;
use time::Duration;

use crate::test_card::TestCard;
use crate::{CardHolder, IssuerConnector, MaintenanceWindow, Population};

/// The demo holder every test card is typed in the name of (the mismatch
/// scenarios' bank records differ from it).
pub const DEMO_HOLDER_NAME: &str = "张三";
const OTHER_HOLDER_NAME: &str = "李四";
const DEMO_ID_BODY: &str = "11010519900307123";
const OTHER_ID_BODY: &str = "31010419851212045";

/// A card's state at the bank. Demo mode lets a person change it for a bound
/// card (`POST /v1/demo/cards/{scenario}/bank-state`), so payment refusals
/// for a card the bank froze after binding can be tried by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum BankState {
    Normal,
    NotActivated,
    Frozen,
    Lost,
    Expired,
    Closed,
}

/// What the bank knows about one card.
#[derive(Debug, Clone)]
struct BankCard {
    holder_name: String,
    id_number: String,
    phone: String,
    expiry: Expiry,
    cvv: String,
    state: BankState,
    online_payments: bool,
    restricted: bool,
    faulty: bool,
    /// Balance (debit/prepaid) or available credit, in fen.
    available_fen: i64,
}

struct Scenario {
    name: &'static str,
    bin: &'static str,
    state: BankState,
    expect: Option<ErrorCode>,
    note: &'static str,
}

const fn sc(name: &'static str, bin: &'static str, state: BankState, expect: Option<ErrorCode>, note: &'static str) -> Scenario {
    Scenario { name, bin, state, expect, note }
}

use BankState::*;
const SCENARIOS: &[Scenario] = &[
    sc("ok_debit", "622202", Normal, None, "ICBC debit card in good standing"),
    sc("ok_credit", "439225", Normal, None, "CMB Visa credit card; expiry and CVV required"),
    sc("ok_debit_ccb", "621700", Normal, None, "CCB debit card in good standing"),
    sc("ok_debit_abc", "622848", Normal, None, "ABC debit card in good standing"),
    sc("ok_debit_boc", "621661", Normal, None, "BOC debit card in good standing"),
    sc("ok_prepaid", "623886", Normal, None, "Metro prepaid card, already activated"),
    sc("ok_credit_ccb", "552801", Normal, None, "CCB Mastercard credit card"),
    sc(
        "not_activated",
        "621700",
        NotActivated,
        Some(ErrorCode::CardNotActivated),
        "CCB debit card never activated; activate it in the wallet, then bind",
    ),
    sc("prepaid_not_activated", "623886", NotActivated, Some(ErrorCode::CardNotActivated), "Metro prepaid card not yet activated"),
    sc("name_mismatch", "622848", Normal, Some(ErrorCode::FourElementsNameMismatch), "the bank has another holder name on file"),
    sc("id_mismatch", "621661", Normal, Some(ErrorCode::FourElementsIdMismatch), "the bank has another ID number on file"),
    sc(
        "phone_mismatch",
        "622202",
        Normal,
        Some(ErrorCode::FourElementsPhoneMismatch),
        "the typed phone is not the one reserved at the bank",
    ),
    sc("frozen", "621700", Frozen, Some(ErrorCode::CardFrozen), "frozen by the bank"),
    sc("lost", "622848", Lost, Some(ErrorCode::CardReportedLost), "reported lost at the bank"),
    sc("expired", "621661", Expired, Some(ErrorCode::CardExpired), "past its expiry at the bank"),
    sc("closed", "622202", Closed, Some(ErrorCode::CardClosed), "account closed at the bank"),
    sc(
        "online_payments_disabled",
        "622588",
        Normal,
        Some(ErrorCode::OnlinePaymentsDisabled),
        "quick/online payments switched off at the bank",
    ),
    sc("wrong_cvv", "552801", Normal, Some(ErrorCode::CvvMismatch), "the typed CVV differs from the card's"),
    sc("wrong_expiry", "622836", Normal, Some(ErrorCode::ExpiryMismatch), "the typed expiry differs from the card's"),
    sc("issuer_not_supported", "623066", Normal, Some(ErrorCode::IssuerNotSupported), "a bank this wallet does not accept"),
    sc(
        "card_type_not_accepted",
        "606983",
        Normal,
        Some(ErrorCode::CardTypeNotAccepted),
        "a BOC gift (prepaid) card, a type the wallet does not accept",
    ),
    sc("issuer_maintenance", "621799", Normal, Some(ErrorCode::IssuerMaintenance), "PSBC is in a simulated maintenance window"),
    sc(
        "issuer_restricted",
        "621661",
        Normal,
        Some(ErrorCode::IssuerRestricted),
        "the bank does not allow binding this card to third-party wallets",
    ),
    sc("issuer_error", "622588", Normal, Some(ErrorCode::IssuerUnavailable), "the bank answers with a server error"),
    // Appended (earlier cards keep their numbers): funds for payment tests.
    sc("low_balance", "622202", Normal, None, "ICBC debit card holding 1.00 CNY"),
    sc("credit_limit_low", "439225", Normal, None, "CMB Visa credit card with 50.00 CNY of credit left"),
    sc("zero_balance", "623886", Normal, None, "Metro prepaid card with nothing left on it: binds, but cannot pay"),
    sc(
        "region_not_accepted",
        "625034",
        Normal,
        Some(ErrorCode::CardRegionNotAccepted),
        "a Hong Kong bank's UnionPay card; the wallet binds mainland cards only (--card-regions)",
    ),
];

fn with_check(payload: &str) -> String {
    format!("{payload}{}", luhn_check_digit(payload))
}

fn card_number(bin: &str, index: usize) -> String {
    let range = bin::BIN_TABLE.iter().find(|r| r.prefix == bin).expect("scenario BIN is in the BIN table");
    let serial_len = range.length - bin.len() - 1;
    let serial = format!("{:0>width$}", 3_000_017 + index * 1_000_003, width = serial_len);
    with_check(&format!("{bin}{}", &serial[serial.len() - serial_len..]))
}

fn demo_id() -> String {
    format!("{DEMO_ID_BODY}{}", id_check_char(DEMO_ID_BODY))
}

fn other_id() -> String {
    format!("{OTHER_ID_BODY}{}", id_check_char(OTHER_ID_BODY))
}

struct Entry {
    test: TestCard,
    bank: BankCard,
}

fn build(index: usize, s: &Scenario) -> Entry {
    let range = bin::BIN_TABLE.iter().find(|r| r.prefix == s.bin).expect("scenario BIN is known");
    let number = card_number(s.bin, index);
    let phone = format!("139{:08}", 10_000_000 + index);
    let expiry = if s.state == Expired { Expiry { month: 1, year: 2024 } } else { Expiry { month: 12, year: 2030 } };
    let cvv = format!("{:03}", (index * 137 + 211) % 1000);
    let credit = range.card_type == CardType::Credit;
    let mut bank = BankCard {
        holder_name: DEMO_HOLDER_NAME.into(),
        id_number: demo_id(),
        phone: phone.clone(),
        expiry,
        cvv: cvv.clone(),
        state: s.state,
        online_payments: true,
        restricted: false,
        faulty: false,
        available_fen: if credit { 5_000_000 } else { 1_000_000 },
    };
    let mut typed_phone = phone;
    let mut typed_cvv = cvv;
    let mut typed_expiry = expiry;
    match s.name {
        "low_balance" => bank.available_fen = 100,
        "credit_limit_low" => bank.available_fen = 5_000,
        "zero_balance" => bank.available_fen = 0,
        "name_mismatch" => bank.holder_name = OTHER_HOLDER_NAME.into(),
        "id_mismatch" => bank.id_number = other_id(),
        "phone_mismatch" => typed_phone = "13800000000".into(),
        "online_payments_disabled" => bank.online_payments = false,
        "issuer_restricted" => bank.restricted = true,
        "issuer_error" => bank.faulty = true,
        "wrong_cvv" => typed_cvv = format!("{:03}", (typed_cvv.parse::<u32>().unwrap_or(0) + 1) % 1000),
        "wrong_expiry" => typed_expiry = Expiry { month: 11, year: 2031 },
        _ => {}
    }
    let test = TestCard {
        scenario: s.name,
        card_number: number,
        holder_name: DEMO_HOLDER_NAME.into(),
        id_number: demo_id(),
        phone: typed_phone,
        expiry: credit.then(|| typed_expiry.as_mm_yy()),
        cvv: credit.then_some(typed_cvv),
        issuer: range.issuer,
        card_type: range.card_type.as_str(),
        expect_code: s.expect.map(ErrorCode::as_str),
        note: s.note,
    };
    Entry { test, bank }
}

/// One authorization at the bank.
#[derive(Debug, Clone)]
struct Hold {
    code: String,
    pan: String,
    held: i64,
    captured: Option<i64>,
    refunds: std::collections::HashSet<String>,
    voided: bool,
}

/// The in-process issuer simulator. Card states change (activation) in
/// memory; a restart restores the table.
pub struct Simulator {
    cards: Mutex<HashMap<String, BankCard>>,
    /// Authorizations by Bangka's reference.
    holds: Mutex<HashMap<String, Hold>>,
    /// Numbers authorizations; never reused, even after a void.
    next_hold: std::sync::atomic::AtomicU64,
    tests: Vec<TestCard>,
    windows: Mutex<Vec<MaintenanceWindow>>,
    clock: Arc<dyn Clock>,
    /// The load population (`--demo-population`), derived on demand.
    population: Population,
}

impl Simulator {
    /// The standard bank set. PSBC is put in a maintenance window from now
    /// for 30 days so the `issuer_maintenance` scenario can be tried.
    pub fn new(clock: Arc<dyn Clock>) -> Self {
        let mut cards = HashMap::new();
        let mut tests = Vec::new();
        for (i, s) in SCENARIOS.iter().enumerate() {
            let e = build(i, s);
            cards.insert(e.test.card_number.clone(), e.bank);
            tests.push(e.test);
        }
        let now = clock.now();
        let windows = vec![MaintenanceWindow {
            issuer: "PSBC".into(),
            starts_at: now - Duration::minutes(1),
            ends_at: now + Duration::days(30),
            message_zh: "邮储银行网上支付系统升级维护中，期间暂停绑卡和快捷支付，结束时间见公告。".into(),
            message_en: "PSBC is upgrading its online payment system; binding and quick payments are paused until the end shown.".into(),
        }];
        Simulator {
            cards: Mutex::new(cards),
            holds: Mutex::new(HashMap::new()),
            next_hold: 1.into(),
            tests,
            windows: Mutex::new(windows),
            clock,
            population: Population::new(0, 0),
        }
    }

    /// With `n` more good cards, each with its own holder and reserved phone
    /// (see [`Population`]).
    pub fn with_population(mut self, n: u64, seed: u64) -> Self {
        self.population = Population::new(n, seed);
        self
    }

    /// The load population.
    pub fn population(&self) -> &Population {
        &self.population
    }

    /// The test cards, as a person types them.
    pub fn test_cards(&self) -> &[TestCard] {
        &self.tests
    }

    /// Changes the bank's record of a test card: its state, and whether the
    /// bank answers for it at all (`answering = false` makes every call
    /// for it fail as `ISSUER_UNAVAILABLE`). Returns false for an unknown
    /// scenario.
    pub fn set_bank_state(&self, scenario: &str, state: BankState, answering: bool) -> bool {
        let Some(t) = self.tests.iter().find(|t| t.scenario == scenario) else { return false };
        let mut cards = self.cards.lock().expect("sim lock");
        let Some(bank) = cards.get_mut(&t.card_number) else { return false };
        bank.state = state;
        bank.faulty = !answering;
        // Back to normal is everything the holder fixed at the bank: online
        // payments switched on, a restriction lifted (the remedies those
        // failures give), so the card binds and pays again.
        if state == BankState::Normal {
            bank.online_payments = true;
            bank.restricted = false;
        }
        true
    }

    /// The bank's record of a test card's state.
    pub fn bank_state(&self, scenario: &str) -> Option<BankState> {
        let t = self.tests.iter().find(|t| t.scenario == scenario)?;
        self.cards.lock().expect("sim lock").get(&t.card_number).map(|b| b.state)
    }

    /// The balance or available credit of a test card, in fen.
    pub fn available_fen(&self, scenario: &str) -> Option<i64> {
        let t = self.tests.iter().find(|t| t.scenario == scenario)?;
        self.cards.lock().expect("sim lock").get(&t.card_number).map(|b| b.available_fen)
    }

    /// Runs `f` on a hold, unless the bank is down for its card.
    fn with_hold<T>(&self, reference: &str, f: impl FnOnce(&mut Hold, &mut BankCard) -> Result<T, Failure>) -> Result<T, Failure> {
        let pan = {
            let holds = self.holds.lock().expect("sim lock");
            holds.get(reference).map(|h| h.pan.clone())
        };
        let Some(pan) = pan else { return Err(ErrorCode::PaymentStateConflict.into()) };
        let pan = Pan::parse(&pan).map_err(|_| Failure::new(ErrorCode::IssuerUnavailable))?;
        self.with_pan(&pan, |bank| {
            if bank.faulty {
                return Err(ErrorCode::IssuerUnavailable.into());
            }
            let mut holds = self.holds.lock().expect("sim lock");
            let hold = holds.get_mut(reference).expect("hold seen above");
            f(hold, bank)
        })
    }

    /// Schedules a maintenance window at an issuer.
    pub fn schedule_maintenance(&self, window: MaintenanceWindow) {
        self.windows.lock().expect("sim lock").push(window);
    }

    /// Ends every maintenance window (the standing one included).
    pub fn clear_maintenance(&self) {
        self.windows.lock().expect("sim lock").clear();
    }

    fn in_maintenance(&self, pan: &Pan) -> Option<Failure> {
        let issuer = bin::lookup(pan).ok()?.issuer;
        let now = self.clock.now();
        let windows = self.windows.lock().expect("sim lock");
        windows
            .iter()
            .find(|w| w.issuer == issuer && w.is_active(now))
            .map(|w| Failure::new(ErrorCode::IssuerMaintenance).retry_at(w.ends_at))
    }

    /// Four elements, then expiry/CVV, in the order a bank checks them: the
    /// card's state is told only to someone who knows the elements.
    fn check_elements(&self, bank: &BankCard, c: &CardHolder<'_>) -> Result<(), Failure> {
        if bank.faulty {
            return Err(ErrorCode::IssuerUnavailable.into());
        }
        if bank.holder_name != c.holder_name.as_str() {
            return Err(ErrorCode::FourElementsNameMismatch.into());
        }
        if bank.id_number != c.id_number.expose() {
            return Err(ErrorCode::FourElementsIdMismatch.into());
        }
        if bank.phone != c.phone.as_str() {
            return Err(ErrorCode::FourElementsPhoneMismatch.into());
        }
        if let Some(e) = c.expiry
            && *e != bank.expiry
        {
            return Err(ErrorCode::ExpiryMismatch.into());
        }
        if let Some(cvv) = c.cvv
            && cvv.expose() != bank.cvv
        {
            return Err(ErrorCode::CvvMismatch.into());
        }
        Ok(())
    }

    fn with_card<T>(&self, c: &CardHolder<'_>, f: impl FnOnce(&mut BankCard) -> Result<T, Failure>) -> Result<T, Failure> {
        self.with_pan(c.pan, f)
    }

    /// Runs `f` on the bank's record of the card, unless the bank is in
    /// maintenance or has no such card.
    fn with_pan<T>(&self, pan: &Pan, f: impl FnOnce(&mut BankCard) -> Result<T, Failure>) -> Result<T, Failure> {
        if let Some(m) = self.in_maintenance(pan) {
            return Err(m);
        }
        let mut cards = self.cards.lock().expect("sim lock");
        if !cards.contains_key(pan.expose())
            && let Some(m) = self.population.find(pan.expose())
        {
            // First time the bank deals with this card: its record starts now.
            cards.insert(m.card_number.clone(), population_card(&m));
        }
        let bank = cards.get_mut(pan.expose()).ok_or_else(|| Failure::new(ErrorCode::CardNotFoundAtIssuer))?;
        f(bank)
    }
}

/// A population card as its bank keeps it: in good standing, 10,000.00 CNY.
fn population_card(m: &crate::Member) -> BankCard {
    BankCard {
        holder_name: m.holder_name.clone(),
        id_number: m.id_number.clone(),
        phone: m.phone.clone(),
        expiry: m.expiry,
        cvv: String::new(),
        state: Normal,
        online_payments: true,
        restricted: false,
        faulty: false,
        available_fen: 1_000_000,
    }
}

/// Whether the card can be used online at all: its state, the online
/// payments switch, the bank's own restrictions.
fn usable_online(bank: &BankCard) -> Result<(), Failure> {
    if let Some(code) = state_failure(bank.state) {
        return Err(code.into());
    }
    if !bank.online_payments {
        return Err(ErrorCode::OnlinePaymentsDisabled.into());
    }
    if bank.restricted {
        return Err(ErrorCode::IssuerRestricted.into());
    }
    Ok(())
}

fn state_failure(state: BankState) -> Option<ErrorCode> {
    match state {
        Normal => None,
        NotActivated => Some(ErrorCode::CardNotActivated),
        Frozen => Some(ErrorCode::CardFrozen),
        Lost => Some(ErrorCode::CardReportedLost),
        Expired => Some(ErrorCode::CardExpired),
        Closed => Some(ErrorCode::CardClosed),
    }
}

#[async_trait]
impl IssuerConnector for Simulator {
    async fn verify_for_binding(&self, c: CardHolder<'_>) -> Result<(), Failure> {
        self.with_card(&c, |bank| {
            self.check_elements(bank, &c)?;
            usable_online(bank)
        })
    }

    async fn verify_for_activation(&self, c: CardHolder<'_>) -> Result<(), Failure> {
        self.with_card(&c, |bank| {
            self.check_elements(bank, &c)?;
            match bank.state {
                NotActivated => Ok(()),
                Normal => Err(ErrorCode::CardAlreadyActivated.into()),
                other => Err(state_failure(other).expect("not normal").into()),
            }
        })
    }

    async fn activate(&self, pan: &Pan) -> Result<(), Failure> {
        self.with_pan(pan, |bank| match bank.state {
            NotActivated => {
                bank.state = Normal;
                Ok(())
            }
            Normal => Err(ErrorCode::CardAlreadyActivated.into()),
            other => Err(state_failure(other).expect("not normal").into()),
        })
    }

    async fn authorize(&self, pan: &Pan, amount_fen: i64, reference: &str) -> Result<String, Failure> {
        self.with_pan(pan, |bank| {
            if bank.faulty {
                return Err(ErrorCode::IssuerUnavailable.into());
            }
            let mut holds = self.holds.lock().expect("sim lock");
            if let Some(h) = holds.get(reference) {
                return Ok(h.code.clone());
            }
            usable_online(bank)?;
            if amount_fen <= 0 || bank.available_fen < amount_fen {
                return Err(ErrorCode::InsufficientFunds.into());
            }
            bank.available_fen -= amount_fen;
            let code = format!("auth{}", self.next_hold.fetch_add(1, std::sync::atomic::Ordering::Relaxed));
            let hold = Hold {
                code: code.clone(),
                pan: pan.expose().to_owned(),
                held: amount_fen,
                captured: None,
                refunds: Default::default(),
                voided: false,
            };
            holds.insert(reference.to_owned(), hold);
            Ok(code)
        })
    }

    async fn authorization(&self, reference: &str) -> Result<Option<String>, Failure> {
        let found = self.holds.lock().expect("sim lock").get(reference).map(|h| (h.pan.clone(), h.code.clone(), h.voided));
        let Some((pan, code, voided)) = found else { return Ok(None) };
        let pan = Pan::parse(&pan).map_err(Failure::new)?;
        self.with_pan(&pan, |bank| {
            if bank.faulty {
                return Err(ErrorCode::IssuerUnavailable.into());
            }
            Ok((!voided).then_some(code))
        })
    }

    async fn void(&self, reference: &str) -> Result<(), Failure> {
        if !self.holds.lock().expect("sim lock").contains_key(reference) {
            return Ok(());
        }
        self.with_hold(reference, |hold, bank| {
            if hold.captured.is_some() {
                return Err(ErrorCode::PaymentStateConflict.into());
            }
            if !hold.voided {
                hold.voided = true;
                bank.available_fen += hold.held;
            }
            Ok(())
        })
    }

    async fn capture(&self, reference: &str, amount_fen: i64) -> Result<(), Failure> {
        self.with_hold(reference, |hold, bank| match hold.captured {
            Some(_) => Ok(()),
            None if hold.voided || amount_fen > hold.held || amount_fen <= 0 => Err(ErrorCode::PaymentStateConflict.into()),
            None => {
                hold.captured = Some(amount_fen);
                bank.available_fen += hold.held - amount_fen;
                Ok(())
            }
        })
    }

    async fn refund(&self, reference: &str, refund_id: &str, amount_fen: i64) -> Result<(), Failure> {
        self.with_hold(reference, |hold, bank| {
            if hold.refunds.contains(refund_id) {
                return Ok(());
            }
            if hold.captured.is_none_or(|c| amount_fen > c || amount_fen <= 0) {
                return Err(ErrorCode::PaymentStateConflict.into());
            }
            hold.refunds.insert(refund_id.to_owned());
            bank.available_fen += amount_fen;
            Ok(())
        })
    }

    async fn report_lost(&self, pan: &Pan, _stolen: bool) -> Result<(), Failure> {
        self.with_pan(pan, |bank| {
            if bank.faulty {
                return Err(ErrorCode::IssuerUnavailable.into());
            }
            // A closed card has nothing left to block: the bank refuses.
            if bank.state == Closed {
                return Err(ErrorCode::CardClosed.into());
            }
            // The simulator has one blocked state for both.
            bank.state = Lost;
            Ok(())
        })
    }

    async fn card_status(&self, pan: &Pan) -> Result<(), Failure> {
        self.with_pan(pan, |bank| if bank.faulty { Err(ErrorCode::IssuerUnavailable.into()) } else { usable_online(bank) })
    }

    async fn maintenance_windows(&self) -> Vec<MaintenanceWindow> {
        let now = self.clock.now();
        self.windows.lock().expect("sim lock").iter().filter(|w| w.ends_at > now).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bangka_core::bin::WalletPolicy;
    use bangka_core::bind::{BindRequest, RawCardHolder};
    use bangka_core::clock::SystemClock;

    fn sim() -> Simulator {
        Simulator::new(Arc::new(SystemClock))
    }

    #[test]
    fn test_cards_are_valid_unique_and_cover_the_contract_scenarios() {
        let s = sim();
        let mut numbers = std::collections::HashSet::new();
        for t in s.test_cards() {
            let pan = Pan::parse(&t.card_number).expect("valid card number");
            let facts = bin::lookup(&pan).expect("known BIN");
            assert_eq!(facts.issuer, t.issuer);
            assert!(numbers.insert(t.card_number.clone()), "duplicate {}", t.scenario);
        }
        for name in [
            "ok_debit",
            "ok_credit",
            "not_activated",
            "prepaid_not_activated",
            "name_mismatch",
            "id_mismatch",
            "phone_mismatch",
            "frozen",
            "lost",
            "expired",
            "closed",
            "online_payments_disabled",
            "wrong_cvv",
            "wrong_expiry",
            "issuer_not_supported",
            "issuer_maintenance",
        ] {
            assert!(s.test_cards().iter().any(|t| t.scenario == name), "missing scenario {name}");
        }
    }

    #[tokio::test]
    async fn authorizations_hold_funds_and_voids_release_them() {
        let s = sim();
        let card = |name: &str| Pan::parse(&s.test_cards().iter().find(|t| t.scenario == name).unwrap().card_number).unwrap();
        let low = card("low_balance");
        let a = s.authorize(&low, 60, "p1").await.unwrap();
        // Idempotent per reference: the repeat holds nothing more.
        assert_eq!(s.authorize(&low, 60, "p1").await.unwrap(), a);
        assert_eq!(s.available_fen("low_balance"), Some(40));
        assert_eq!(s.authorize(&low, 60, "p2").await.unwrap_err().code, ErrorCode::InsufficientFunds);
        s.void("p1").await.unwrap();
        s.void("p1").await.unwrap();
        s.void("never-authorized").await.unwrap();
        assert_eq!(s.available_fen("low_balance"), Some(100));
        // Authorization codes are never reused.
        let b = s.authorize(&low, 30, "p3").await.unwrap();
        assert_ne!(a, b);
        assert_eq!(s.authorize(&card("zero_balance"), 1, "p4").await.unwrap_err().code, ErrorCode::InsufficientFunds);
        assert_eq!(s.authorize(&card("frozen"), 1, "p5").await.unwrap_err().code, ErrorCode::CardFrozen);
        assert_eq!(s.authorize(&card("credit_limit_low"), 5_001, "p6").await.unwrap_err().code, ErrorCode::InsufficientFunds);
    }

    #[tokio::test]
    async fn captures_release_the_rest_and_refunds_return_money_once() {
        let s = sim();
        let pan = Pan::parse(&s.test_cards().iter().find(|t| t.scenario == "low_balance").unwrap().card_number).unwrap();
        s.authorize(&pan, 80, "p1").await.unwrap();
        s.capture("p1", 50).await.unwrap();
        s.capture("p1", 50).await.unwrap();
        assert_eq!(s.available_fen("low_balance"), Some(50));
        assert_eq!(s.void("p1").await.unwrap_err().code, ErrorCode::PaymentStateConflict);
        s.refund("p1", "r1", 20).await.unwrap();
        s.refund("p1", "r1", 20).await.unwrap();
        assert_eq!(s.available_fen("low_balance"), Some(70));
        assert_eq!(s.refund("nope", "r2", 1).await.unwrap_err().code, ErrorCode::PaymentStateConflict);
    }

    #[tokio::test]
    async fn the_bank_can_freeze_a_card_or_stop_answering() {
        let s = sim();
        let pan = Pan::parse(&s.test_cards().iter().find(|t| t.scenario == "ok_debit").unwrap().card_number).unwrap();
        assert!(s.set_bank_state("ok_debit", BankState::Lost, true));
        assert_eq!(s.authorize(&pan, 1, "p1").await.unwrap_err().code, ErrorCode::CardReportedLost);
        assert!(s.set_bank_state("ok_debit", BankState::Normal, false));
        assert_eq!(s.authorize(&pan, 1, "p2").await.unwrap_err().code, ErrorCode::IssuerUnavailable);
        assert!(s.set_bank_state("ok_debit", BankState::Normal, true));
        assert!(s.authorize(&pan, 1, "p3").await.is_ok());
        assert!(!s.set_bank_state("no_such_card", BankState::Normal, true));
    }

    #[tokio::test]
    async fn each_scenario_fails_with_its_expected_code() {
        let s = sim();
        let policy = WalletPolicy::default();
        for t in s.test_cards().to_vec() {
            let raw = RawCardHolder {
                card_number: &t.card_number,
                holder_name: &t.holder_name,
                id_number: &t.id_number,
                phone: &t.phone,
                expiry: t.expiry.as_deref(),
                cvv: t.cvv.as_deref(),
            };
            let got = match BindRequest::parse(raw, &policy, s.clock.now()) {
                Err(f) => Some(f.code),
                Ok(req) => {
                    let c = CardHolder {
                        pan: &req.pan,
                        holder_name: &req.holder_name,
                        id_number: &req.id_number,
                        phone: &req.phone,
                        expiry: req.expiry.as_ref(),
                        cvv: req.cvv.as_ref(),
                    };
                    s.verify_for_binding(c).await.err().map(|f| f.code)
                }
            };
            assert_eq!(got.map(ErrorCode::as_str), t.expect_code, "scenario {}", t.scenario);
        }
    }
}
