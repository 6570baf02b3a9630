//! The API-key cache [`crate::state::AppState`] holds and authentication
//! reads (a leaf: both depend on it, it depends on neither).

/// API keys found recently, by hash: every request authenticates, and a key
/// changes rarely, so a lookup is saved per request. An entry lives
/// [`KeyCache::TTL`]: a revoked key stops working within that time on every
/// instance. Unknown keys are never cached (a typo is not remembered).
#[derive(Default)]
pub struct KeyCache {
    entries: std::sync::RwLock<std::collections::HashMap<String, (bangka_store::ApiKeyRow, std::time::Instant)>>,
}

impl KeyCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_secs(10);
    const MAX: usize = 10_000;

    pub(crate) fn get(&self, hash: &str) -> Option<bangka_store::ApiKeyRow> {
        let entries = self.entries.read().expect("key cache lock");
        entries.get(hash).filter(|(_, at)| at.elapsed() < Self::TTL).map(|(k, _)| k.clone())
    }

    pub(crate) fn put(&self, hash: String, key: bangka_store::ApiKeyRow) {
        let mut entries = self.entries.write().expect("key cache lock");
        if entries.len() >= Self::MAX {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (key, std::time::Instant::now()));
    }
}
