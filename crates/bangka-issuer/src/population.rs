//! A population of good cards for load: `bangka serve --demo-population N`
//! gives the simulator N more cards, each with its own holder (name, valid
//! resident ID number) and reserved phone, so a load generator can bind N
//! distinct cards the way N distinct people would.
//!
//! Nothing is stored: card `i` is derived from its index and the seed, and
//! a card number leads back to its index (the serial is an invertible
//! affine map of it), so ten million cards cost no memory until the bank
//! has something to remember about one (a hold, an activation).

use bangka_core::bin::{self, CardType};
use bangka_core::card::{Expiry, luhn_check_digit};
use bangka_core::holder::id_check_char;

use crate::test_card::TestCard;

/// The good debit ranges population cards are issued in (19 digits, banks
/// the wallet accepts).
const BINS: [&str; 4] = ["622202", "621700", "622848", "621661"];
/// Serials are 11 digits after a leading 9 (the scenario cards' serials
/// start with 0, so the two never meet).
const SPACE: u128 = 100_000_000_000;
/// Odd and not a multiple of 5, so invertible modulo 10^11.
const MULT: u128 = 7_919_393;

const SURNAMES: [&str; 24] = [
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗", "郑", "梁",
    "谢", "宋",
];
const GIVEN: [&str; 40] = [
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀", "霞", "平", "刚", "桂",
    "英", "华", "文", "辉", "建", "玲", "亮", "红", "晨", "宇", "欣", "浩", "博", "佳", "悦", "思", "雨", "婷",
];
const REGIONS: [&str; 6] = ["110105", "310104", "440106", "510107", "330106", "420102"];

/// N derived cards.
#[derive(Debug, Clone, Copy)]
pub struct Population {
    size: u64,
    seed: u64,
    inverse: u128,
}

/// One population card as the bank knows it.
#[derive(Debug, Clone)]
pub struct Member {
    pub index: u64,
    pub card_number: String,
    pub holder_name: String,
    pub id_number: String,
    pub phone: String,
    pub expiry: Expiry,
}

impl Population {
    /// At most 100 million cards (the phone numbers stay distinct).
    pub const MAX: u64 = 100_000_000;

    pub fn new(size: u64, seed: u64) -> Population {
        Population { size: size.min(Self::MAX), seed, inverse: inverse(MULT, SPACE) }
    }

    pub fn len(&self) -> u64 {
        self.size
    }

    pub fn is_empty(&self) -> bool {
        self.size == 0
    }

    fn serial(&self, i: u64) -> u128 {
        (u128::from(i) * MULT + u128::from(self.seed)) % SPACE
    }

    /// Card `i`, if the population has it.
    pub fn member(&self, i: u64) -> Option<Member> {
        if i >= self.size {
            return None;
        }
        let bin = BINS[(i % 4) as usize];
        let payload = format!("{bin}9{:011}", self.serial(i));
        let card_number = format!("{payload}{}", luhn_check_digit(&payload));
        let n = i as usize;
        let given: String = if n.is_multiple_of(3) {
            GIVEN[(n / 24) % 40].to_owned()
        } else {
            format!("{}{}", GIVEN[(n / 24) % 40], GIVEN[(n / 960) % 40])
        };
        let holder_name = format!("{}{given}", SURNAMES[n % 24]);
        // Born 1960–1999 (adults), on a day every month has.
        let (year, month, day) = (1960 + (n / 7) % 40, 1 + (n / 11) % 12, 1 + (n / 13) % 28);
        let body = format!("{}{year:04}{month:02}{day:02}{:03}", REGIONS[n % 6], (n / 17) % 1000);
        let id_number = format!("{body}{}", id_check_char(&body));
        let phone = format!("15{:09}", i);
        Some(Member { index: i, card_number, holder_name, id_number, phone, expiry: Expiry { month: 12, year: 2030 } })
    }

    /// The member a card number belongs to, if any.
    pub fn find(&self, pan: &str) -> Option<Member> {
        if pan.len() != 19 || !BINS.contains(&&pan[..6]) || pan.as_bytes()[6] != b'9' {
            return None;
        }
        let serial: u128 = pan[7..18].parse().ok()?;
        let i = ((serial + SPACE - u128::from(self.seed) % SPACE) % SPACE * self.inverse) % SPACE;
        let m = self.member(u64::try_from(i).ok()?)?;
        (m.card_number == pan).then_some(m)
    }

    /// Cards `offset..offset+limit` as `GET /v1/demo/cards` lists cards.
    pub fn page(&self, offset: u64, limit: u64) -> Vec<TestCard> {
        (offset..offset.saturating_add(limit).min(self.size)).filter_map(|i| self.member(i)).map(|m| m.as_test_card()).collect()
    }
}

impl Member {
    pub fn as_test_card(&self) -> TestCard {
        let range = bin::BIN_TABLE.iter().find(|r| self.card_number.starts_with(r.prefix)).expect("population BINs are known");
        TestCard {
            scenario: "population",
            card_number: self.card_number.clone(),
            holder_name: self.holder_name.clone(),
            id_number: self.id_number.clone(),
            phone: self.phone.clone(),
            expiry: None,
            cvv: None,
            issuer: range.issuer,
            card_type: CardType::Debit.as_str(),
            expect_code: None,
            note: "a population card in good standing",
        }
    }
}

/// `a`'s inverse modulo `m` (extended Euclid).
fn inverse(a: u128, m: u128) -> u128 {
    let (mut t, mut new_t, mut r, mut new_r) = (0i128, 1i128, m as i128, a as i128);
    while new_r != 0 {
        let q = r / new_r;
        (t, new_t) = (new_t, t - q * new_t);
        (r, new_r) = (new_r, r - q * new_r);
    }
    assert_eq!(r, 1, "MULT is invertible modulo the serial space");
    t.rem_euclid(m as i128) as u128
}

#[cfg(test)]
mod tests {
    use super::*;
    use bangka_core::bin::WalletPolicy;
    use bangka_core::bind::{BindRequest, RawCardHolder};

    #[test]
    fn every_member_parses_and_leads_back_to_itself() {
        let p = Population::new(10_000_000, 42);
        let now = time::OffsetDateTime::UNIX_EPOCH + time::Duration::days(20_000);
        for i in (0..10_000_000).step_by(99_991).chain([0, 1, 2, 3, 9_999_999]) {
            let m = p.member(i).unwrap();
            assert_eq!(p.find(&m.card_number).map(|x| x.index), Some(i));
            let raw = RawCardHolder {
                card_number: &m.card_number,
                holder_name: &m.holder_name,
                id_number: &m.id_number,
                phone: &m.phone,
                expiry: None,
                cvv: None,
            };
            BindRequest::parse(raw, &WalletPolicy::default(), now).unwrap_or_else(|e| panic!("card {i} does not parse: {e:?}"));
        }
        assert!(p.member(10_000_000).is_none());
        assert!(p.find("6222020000030000178").is_none(), "a scenario card is not a member");
        let other_seed = Population::new(10, 7);
        assert_ne!(other_seed.member(1).unwrap().card_number, p.member(1).unwrap().card_number);
    }

    #[test]
    fn members_are_distinct_people() {
        let p = Population::new(100_000, 1);
        let mut cards = std::collections::HashSet::new();
        let mut phones = std::collections::HashSet::new();
        for i in 0..100_000 {
            let m = p.member(i).unwrap();
            assert!(cards.insert(m.card_number) && phones.insert(m.phone));
        }
    }
}
