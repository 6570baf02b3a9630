//! SQLite's checkpointer: a thread of its own that copies the WAL into the
//! database file, so the writer thread never does it.
//!
//! # Why
//! By default SQLite checkpoints inside the commit that takes the WAL past
//! 1,000 pages: the writer copies every page into the database file and
//! fsyncs it while every request of the batches behind it waits (measured
//! under a bind storm: a quarter of the writer's page writes and a 7 ms fsync
//! a few times a second). Here the writers' connections turn that off
//! (`wal_autocheckpoint=0`) and this thread runs a `PASSIVE` checkpoint every
//! [`EVERY`]: it copies what is committed beside the writer, never blocking it
//! or a reader.
//!
//! # Durability is unchanged
//! A commit is durable when its WAL frames are synced, which the writers still
//! do (`synchronous=FULL`); a checkpoint only moves durable frames into the
//! database file (syncing the WAL before and the file after). A crash at any
//! point of a checkpoint leaves the WAL, which recovery replays.
//!
//! # The WAL stays bounded
//! SQLite starts the WAL over at the first write after a checkpoint that
//! copied everything, once no reader still uses the old frames. Under constant
//! reads that moment may not come, so when a pass leaves the WAL above
//! [`RESTART_ABOVE`] frames the next pass is a `RESTART`, which waits (up to
//! the busy timeout) for those readers and makes the writer start over.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use crate::StoreError;
use crate::writeset::sqlite;

/// How often the WAL is copied into the database file.
const EVERY: Duration = Duration::from_millis(100);

/// Frames (pages) in the WAL above which a pass waits for readers and
/// starts the WAL over (about 64 MiB of 4 KiB pages).
const RESTART_ABOVE: i64 = 16_384;

/// The setting each writer connection of a checkpointed database takes.
pub(crate) const NO_AUTOCHECKPOINT: &str = "PRAGMA wal_autocheckpoint=0;";

/// Stops its thread when closed, after a last checkpoint.
#[derive(Clone)]
pub(crate) struct Checkpointer {
    stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Opens a connection to the database file at `path` and starts the
    /// thread. The caller turns the writers' own checkpoints off.
    pub(crate) fn start(path: &str) -> Result<Checkpointer, StoreError> {
        let conn = rusqlite::Connection::open(path).map_err(sqlite)?;
        // FULL: the WAL is synced before its frames are copied, and the
        // database file after.
        conn.execute_batch("PRAGMA busy_timeout=5000; PRAGMA synchronous=FULL;").map_err(sqlite)?;
        let (stop, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("bangka-sqlite-ckpt".into())
            .spawn(move || run(&conn, &rx))
            .map_err(|e| StoreError::Sqlite(format!("cannot start the checkpointer thread: {e}")))?;
        Ok(Checkpointer { stop })
    }

    pub(crate) fn close(&self) {
        let _ = self.stop.send(());
    }
}

fn run(conn: &rusqlite::Connection, stop: &mpsc::Receiver<()>) {
    let mut restart = false;
    loop {
        let last = match stop.recv_timeout(EVERY) {
            Err(RecvTimeoutError::Timeout) => false,
            Ok(()) | Err(RecvTimeoutError::Disconnected) => true,
        };
        let mode = if restart { "RESTART" } else { "PASSIVE" };
        // The answer: (1 if it could not finish, frames in the WAL, frames
        // copied).
        let pass = conn.query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)));
        match pass {
            Ok((frames, _copied)) => restart = frames > RESTART_ABOVE,
            Err(e) => tracing::warn!(error = %e, mode, "a WAL checkpoint failed; the next pass tries again"),
        }
        if last {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// With the writer's own checkpoints off, the thread moves committed
    /// pages into the database file.
    #[test]
    fn the_thread_copies_the_wal_into_the_file() {
        let dir = std::env::temp_dir().join(format!(
            "bangka-ckpt-{}-{}",
            std::process::id(),
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("c.db");
        let path = path.to_str().unwrap();
        let w = rusqlite::Connection::open(path).unwrap();
        w.execute_batch(&format!("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; {NO_AUTOCHECKPOINT}")).unwrap();
        w.execute_batch("CREATE TABLE t (x BLOB)").unwrap();
        for _ in 0..200 {
            w.execute("INSERT INTO t VALUES (zeroblob(4000))", []).unwrap();
        }
        let wal = |p: &str| std::fs::metadata(format!("{p}-wal")).map(|m| m.len()).unwrap_or(0);
        let file = |p: &str| std::fs::metadata(p).unwrap().len();
        assert!(wal(path) > 800_000, "the writer did not checkpoint: {}", wal(path));
        let before = file(path);
        let c = Checkpointer::start(path).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while file(path) < before + 800_000 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(file(path) >= before + 800_000, "the pages reached the file");
        c.close();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
