//! The dated versions of Bangka's API. A wallet's key is pinned to the
//! version current when the key was made, so a change that would break a
//! running wallet (a new answer shape) reaches it only when it asks for the
//! new version (`Bangka-Version: 2026-12-01`) or uses a newer key.

/// One version of the API, named by the date it took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ApiVersion {
    /// Lists answered as bare arrays (or `{keys}`, `{tickets}`, …), whole.
    V2026_11_01,
    /// Lists answer one page, `{"data": [...], "has_more"}`, with `limit`
    /// and `starting_after`.
    V2026_12_01,
}

impl ApiVersion {
    pub const ALL: [ApiVersion; 2] = [ApiVersion::V2026_11_01, ApiVersion::V2026_12_01];
    /// What a new key is pinned to, and what a request without a key's pin
    /// (a holder session, no key) gets.
    pub const CURRENT: ApiVersion = ApiVersion::V2026_12_01;

    pub fn as_str(self) -> &'static str {
        match self {
            ApiVersion::V2026_11_01 => "2026-11-01",
            ApiVersion::V2026_12_01 => "2026-12-01",
        }
    }

    pub fn parse(s: &str) -> Option<ApiVersion> {
        ApiVersion::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// Whether lists answer one page (`{data, has_more}`) rather than the
    /// whole list in the shape it had before.
    pub fn pages_lists(self) -> bool {
        self >= ApiVersion::V2026_12_01
    }
}

impl serde::Serialize for ApiVersion {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_back_and_order_by_date() {
        for v in ApiVersion::ALL {
            assert_eq!(ApiVersion::parse(v.as_str()), Some(v));
        }
        assert!(ApiVersion::ALL.windows(2).all(|w| w[0] < w[1] && w[0].as_str() < w[1].as_str()));
        assert_eq!(ApiVersion::ALL.last(), Some(&ApiVersion::CURRENT));
        for bad in ["", "2026-12-1", "latest", "2026-12-02"] {
            assert_eq!(ApiVersion::parse(bad), None, "{bad}");
        }
    }
}
