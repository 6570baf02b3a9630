//! Cross-checks Bangka's Luhn and resident-ID check digits against an
//! independent implementation: python-stdnum (`stdnum.luhn`, `stdnum.cn.ric`).
//! `.ci/run` installs it and sets BANGKA_REQUIRE_ORACLES=1; elsewhere the test
//! is skipped loudly when python3 or stdnum is missing.

use std::io::Write;
use std::process::{Command, Stdio};

use bangka_core::card::{luhn_check_digit, luhn_valid};
use bangka_core::holder::{IdNumber, id_check_char};

const SCRIPT: &str = r#"
import json, sys
from stdnum import luhn
from stdnum.cn import ric
data = json.load(sys.stdin)
print(json.dumps({
    "luhn": [luhn.is_valid(n) for n in data["luhn"]],
    "ric": [ric.is_valid(n) for n in data["ric"]],
}))
"#;

struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: u64) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }

    fn digits(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from(b'0' + self.next(10) as u8)).collect()
    }
}

#[test]
fn check_digits_agree_with_python_stdnum() {
    let probe = Command::new("python3").args(["-c", "import stdnum"]).output();
    if !probe.is_ok_and(|o| o.status.success()) {
        if std::env::var("BANGKA_REQUIRE_ORACLES").is_ok_and(|v| v == "1") {
            panic!("python3 with python-stdnum is required (BANGKA_REQUIRE_ORACLES=1)");
        }
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n!!!!! SKIPPED oracle test: python3 with python-stdnum not found (pip install python-stdnum) !!!!!"
        );
        return;
    }
    let mut rng = Lcg(20261123);
    let mut luhn = Vec::new();
    for i in 0..1000 {
        let payload = rng.digits(12 + (i % 8));
        let valid = format!("{payload}{}", luhn_check_digit(&payload));
        luhn.push(valid.clone());
        // A one-digit change is caught by Luhn.
        let mut wrong = valid.into_bytes();
        let k = rng.next(wrong.len() as u64) as usize;
        wrong[k] = b'0' + (wrong[k] - b'0' + 1 + rng.next(9) as u8) % 10;
        luhn.push(String::from_utf8(wrong).unwrap());
    }
    let mut ric = Vec::new();
    for _ in 0..1000 {
        // stdnum knows when each region code existed; these all did after 1995.
        let year = 1995 + rng.next(15);
        let month = 1 + rng.next(12);
        let day = 1 + rng.next(28);
        // Real region codes: stdnum also checks the birth place, which Bangka
        // (like the issuers) leaves to the check digit and the bank's records.
        const REGIONS: [&str; 10] = ["110101", "110105", "310104", "320102", "330106", "440103", "440305", "510104", "420102", "610113"];
        let region = REGIONS[rng.next(REGIONS.len() as u64) as usize];
        let body = format!("{region}{year:04}{month:02}{day:02}{}", rng.digits(3));
        ric.push(format!("{body}{}", id_check_char(&body)));
        let wrong_check = ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9', 'X'][rng.next(11) as usize];
        ric.push(format!("{body}{wrong_check}"));
    }
    let input = serde_json::json!({ "luhn": luhn, "ric": ric }).to_string();
    let mut child = Command::new("python3").args(["-c", SCRIPT]).stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut disagreements = 0;
    for (n, theirs) in luhn.iter().zip(v["luhn"].as_array().unwrap()) {
        if luhn_valid(n) != theirs.as_bool().unwrap() {
            eprintln!("luhn disagreement on a generated number of length {}", n.len());
            disagreements += 1;
        }
    }
    for (n, theirs) in ric.iter().zip(v["ric"].as_array().unwrap()) {
        if IdNumber::parse(n).is_ok() != theirs.as_bool().unwrap() {
            eprintln!("ID disagreement: {n} (ours {}, stdnum {theirs})", IdNumber::parse(n).is_ok());
            disagreements += 1;
        }
    }
    assert_eq!(disagreements, 0);
    let accepted = v["ric"].as_array().unwrap().iter().filter(|b| b.as_bool() == Some(true)).count();
    assert!(accepted >= 1000, "the valid half was accepted ({accepted})");
}
