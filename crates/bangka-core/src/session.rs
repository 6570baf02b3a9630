//! Holder sessions and the devices they come from (seed 003: login alerts,
//! "在新设备登录时提醒").
//!
//! The wallet backend signs its user in, then asks Bangka for a short-lived
//! holder session for that user's account. The session names the device it
//! was opened on; a device the account has not used before is announced to
//! the holder, so a login by someone else does not go unnoticed.

use std::fmt;
use std::net::IpAddr;

use time::Duration;

use crate::catalog::ErrorCode;

/// How long a holder session lasts unless the operator says otherwise:
/// short, because the wallet backend can mint a new one at any time.
pub const DEFAULT_SESSION_TTL: Duration = Duration::minutes(15);
/// The longest session an operator may configure.
pub const MAX_SESSION_TTL: Duration = Duration::hours(12);

/// The wallet app's identifier for one installation on one phone: 1–128
/// characters of `A–Z a–z 0–9 . _ : -` (UUIDs, vendor ids, hashes).
#[derive(Clone, PartialEq, Eq)]
pub struct DeviceId(String);

impl DeviceId {
    pub fn parse(input: &str) -> Result<DeviceId, ErrorCode> {
        let ok = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-');
        if input.is_empty() || input.len() > 128 || !input.bytes().all(ok) {
            return Err(ErrorCode::DeviceInfoFormat);
        }
        Ok(DeviceId(input.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DeviceId({})", self.0)
    }
}

/// What the holder calls the device ("iPhone 15", "小米 14"): 1–64
/// characters, no control characters; shown back in login alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceName(String);

impl DeviceName {
    pub fn parse(input: &str) -> Result<DeviceName, ErrorCode> {
        let s = input.trim();
        let n = s.chars().count();
        if n == 0 || n > 64 || s.chars().any(char::is_control) {
            return Err(ErrorCode::DeviceInfoFormat);
        }
        Ok(DeviceName(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The client's IP address as the wallet backend saw it (for risk rules
/// and the login alert), in its canonical text form.
pub fn parse_client_ip(input: &str) -> Result<IpAddr, ErrorCode> {
    input.trim().parse::<IpAddr>().map_err(|_| ErrorCode::DeviceInfoFormat)
}

/// An IP address as the holder and logs may see it: the last IPv4 octet
/// or the last 80 bits of IPv6 hidden.
pub fn mask_ip(ip: &IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            format!("{}.{}.{}.*", o[0], o[1], o[2])
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}::*", s[0], s[1], s[2])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_ids_are_short_and_plain() {
        assert!(DeviceId::parse("8f14e45f-ceea-467f-a0e6-2a1c3b5d7e90").is_ok());
        assert!(DeviceId::parse("ios:ABC.def_1").is_ok());
        for bad in ["", "has space", "引号", &"a".repeat(129), "semi;colon", "new\nline"] {
            assert_eq!(DeviceId::parse(bad), Err(ErrorCode::DeviceInfoFormat), "{bad:?}");
        }
        assert!(DeviceId::parse(&"a".repeat(128)).is_ok());
    }

    #[test]
    fn device_names_are_trimmed_and_bounded() {
        assert_eq!(DeviceName::parse("  小米 14 ").unwrap().as_str(), "小米 14");
        assert!(DeviceName::parse("   ").is_err());
        assert!(DeviceName::parse("bell\u{7}").is_err());
        assert!(DeviceName::parse(&"机".repeat(65)).is_err());
        assert!(DeviceName::parse(&"机".repeat(64)).is_ok());
    }

    #[test]
    fn ips_parse_and_mask() {
        let v4 = parse_client_ip("203.0.113.77").unwrap();
        assert_eq!(mask_ip(&v4), "203.0.113.*");
        let v6 = parse_client_ip("2001:db8:85a3::8a2e:370:7334").unwrap();
        assert_eq!(mask_ip(&v6), "2001:db8:85a3::*");
        assert!(parse_client_ip("300.1.1.1").is_err());
        assert!(parse_client_ip("localhost").is_err());
    }
}
