//! The API-key cache the application state holds and authentication
//! reads (a leaf: both depend on it, it depends on neither).

/// API keys found recently, by hash: every request authenticates, and a key
/// changes rarely, so a lookup is saved per request. An entry lives
/// [`KeyCache::TTL`]: a revoked key stops working within that time on every
/// instance (issue 24 asks for one second; a key in use costs one indexed
/// read per instance per TTL). An expired key is refused at once, cached or
/// not. Unknown keys are never cached (a typo is not remembered).
#[derive(Default)]
pub struct KeyCache {
    entries: std::sync::RwLock<std::collections::HashMap<String, (bangka_store::ApiKeyRow, std::time::Instant)>>,
}

impl KeyCache {
    pub const TTL: std::time::Duration = std::time::Duration::from_millis(500);
    const MAX: usize = 10_000;

    pub(crate) fn get(&self, hash: &str, now: time::OffsetDateTime) -> Option<bangka_store::ApiKeyRow> {
        let entries = self.entries.read().expect("key cache lock");
        entries.get(hash).filter(|(k, at)| at.elapsed() < Self::TTL && k.is_usable(now)).map(|(k, _)| k.clone())
    }

    pub(crate) fn put(&self, hash: String, key: bangka_store::ApiKeyRow) {
        let mut entries = self.entries.write().expect("key cache lock");
        if entries.len() >= Self::MAX {
            entries.retain(|_, (_, at)| at.elapsed() < Self::TTL);
        }
        entries.insert(hash, (key, std::time::Instant::now()));
    }
}
