//! The data directory holds the database, the card key store and the key
//! files: readable by the service's own user and nobody else. It is created
//! `0700` with every file in it `0600` (SQLite gives its `-wal` and `-shm`
//! files the mode of the database file, so the database files are created
//! `0600` before SQLite opens them). A directory others can read is refused
//! at start, with the command that fixes it: its files may already have
//! been copied, and the running service would keep adding to them.

use std::path::Path;

use anyhow::{Context, bail};

/// The database files SQLite opens in the data directory.
const DATABASE_FILES: &[&str] = &["bangka.db", "bangka.card-keys.db"];

/// Creates `dir` (0700) if missing, refuses it if others can read it, and
/// makes sure the database files are owner-only. `sqlite`: the embedded
/// database lives here.
pub fn secure(dir: &Path, sqlite: bool) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
        if !dir.exists() {
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .with_context(|| format!("creating data directory {}", dir.display()))?;
        }
        let mode = std::fs::metadata(dir).with_context(|| format!("reading data directory {}", dir.display()))?.permissions().mode();
        if mode & 0o077 != 0 {
            bail!(
                "the data directory {dir} can be read by other users (mode {mode:o}); it holds card data and keys. \\
                 Restrict it with `chmod 700 {dir}` (and `chmod 600 {dir}/*`), then start again.",
                dir = dir.display(),
                mode = mode & 0o777
            );
        }
        for f in std::fs::read_dir(dir)?.flatten() {
            let path = f.path();
            let meta = f.metadata()?;
            if meta.is_file() && meta.permissions().mode() & 0o077 != 0 {
                // Inside a private directory already; made owner-only too.
                std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600))
                    .with_context(|| format!("making {} owner-only", path.display()))?;
                tracing::warn!(file = %path.display(), "file in the data directory was readable by others; now 0600");
            }
        }
        if sqlite {
            for name in DATABASE_FILES {
                let path = dir.join(name);
                if !path.exists() {
                    std::fs::OpenOptions::new()
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .mode(0o600)
                        .open(&path)
                        .with_context(|| format!("creating {}", path.display()))?;
                }
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = sqlite;
        std::fs::create_dir_all(dir).with_context(|| format!("creating data directory {}", dir.display()))?;
    }
    Ok(())
}
