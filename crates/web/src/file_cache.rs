//! A bounded cache of small served files, keyed by the raw request path.
//!
//! Resolving a request path safely costs a dozen system calls (two
//! `canonicalize` walks with a `readlink` per component, `stat`s, `open`,
//! `read`, `close`); a cached file costs one `stat`. Each hit is validated
//! against the file's identity and modification stamp (device, inode,
//! length, mtime), so an edited, replaced or deleted file is never served
//! stale: the request takes the full path again ([`crate::files::resolve`]
//! with its escape checks) and the entry is refreshed or dropped. Only a
//! symlink retargeted *above* an unchanged file goes unnoticed until that
//! file changes or the entry is evicted; the file served is still one that
//! passed the escape checks.
//!
//! A file modified less than [`MIN_AGE`] ago is not cached ("racy" in
//! Git's sense): file timestamps come from a coarse clock, so a second
//! edit of the same length within one tick would leave the stamp unchanged.
//!
//! Bounded: at most [`MAX_ENTRIES`] files of at most [`MAX_FILE`] bytes
//! and [`MAX_BYTES`] in all, evicted oldest-inserted first.
//!
//! It also remembers the content hash (for the `ETag`,
//! [`crate::conditional`]) of larger files, which are streamed rather than
//! cached, by their [`Stamp`]: at most [`MAX_HASHES`], forgotten all at
//! once when full; settled files only, like the cache itself.

use std::collections::{HashMap, VecDeque};
use std::fs::Metadata;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Most files cached.
pub const MAX_ENTRIES: usize = 256;
/// Largest file cached.
pub const MAX_FILE: u64 = 256 * 1024;
/// Most bytes cached in all.
pub const MAX_BYTES: usize = 16 << 20;
/// A file must be unmodified this long to be cached.
pub const MIN_AGE: Duration = Duration::from_secs(1);
/// Most content hashes of streamed files remembered.
pub const MAX_HASHES: usize = 1024;

/// What identifies one version of a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    /// The inode change time: unlike mtime, no one can set it back
    /// (`touch -d` resets mtime but bumps ctime), so a rewrite dated back
    /// is noticed once the coarse clock has ticked.
    ctime_ns: i128,
}

impl Stamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &Metadata) -> Stamp {
        Stamp {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: i128::from(meta.mtime()) * 1_000_000_000 + i128::from(meta.mtime_nsec()),
            ctime_ns: i128::from(meta.ctime()) * 1_000_000_000 + i128::from(meta.ctime_nsec()),
        }
    }

    /// The modification time, nanoseconds since the Unix epoch.
    pub fn mtime_ns(&self) -> i128 {
        self.mtime_ns
    }
}

/// Whether a file is old enough to be cached (see [`MIN_AGE`]).
fn settled(meta: &Metadata) -> bool {
    meta.modified()
        .ok()
        .and_then(|m| SystemTime::now().duration_since(m).ok())
        .is_some_and(|age| age >= MIN_AGE)
}

/// A file ready to send.
#[derive(Debug, Clone)]
pub struct CachedFile {
    /// Its media type.
    pub content_type: &'static str,
    /// Its contents.
    pub body: Arc<[u8]>,
    /// The FNV-1a hash of the contents.
    pub hash: u64,
    /// Its modification time, nanoseconds since the Unix epoch.
    pub mtime_ns: i128,
}

#[derive(Debug)]
struct Entry {
    path: PathBuf,
    stamp: Stamp,
    file: CachedFile,
}

/// The cache (see the module documentation).
#[derive(Debug, Default)]
pub struct FileCache {
    entries: HashMap<String, Entry>,
    /// Keys, oldest insertion first.
    order: VecDeque<String>,
    bytes: usize,
    hashes: HashMap<Stamp, u64>,
}

impl FileCache {
    /// The file cached for request path `raw`, if the file on disk is still
    /// the one cached (one `stat`); a changed or vanished file is dropped.
    pub fn get(&mut self, raw: &str) -> Option<CachedFile> {
        let entry = self.entries.get(raw)?;
        let fresh = std::fs::metadata(&entry.path)
            .map(|m| Stamp::of(&m) == entry.stamp)
            .unwrap_or(false);
        if fresh {
            Some(entry.file.clone())
        } else {
            self.remove(raw);
            None
        }
    }

    /// Caches `body`, read from canonical `path` whose metadata was `meta`
    /// when opened, for request path `raw`. Files over [`MAX_FILE`] or
    /// younger than [`MIN_AGE`] are not cached.
    pub fn insert(&mut self, raw: &str, path: PathBuf, meta: &Metadata, file: CachedFile) {
        let len = file.body.len();
        if len as u64 > MAX_FILE || meta.len() != len as u64 || !settled(meta) {
            return;
        }
        self.remove(raw);
        while !self.order.is_empty()
            && (self.entries.len() >= MAX_ENTRIES || self.bytes + len > MAX_BYTES)
        {
            if let Some(oldest) = self.order.pop_front()
                && let Some(e) = self.entries.remove(&oldest)
            {
                self.bytes -= e.file.body.len();
            }
        }
        self.bytes += len;
        self.order.push_back(raw.to_owned());
        self.entries.insert(
            raw.to_owned(),
            Entry {
                path,
                stamp: Stamp::of(meta),
                file,
            },
        );
    }

    /// The content hash remembered for a file with this stamp.
    pub fn known_hash(&self, stamp: &Stamp) -> Option<u64> {
        self.hashes.get(stamp).copied()
    }

    /// Remembers the content hash of a (streamed) file whose metadata was
    /// `meta`, if it is settled.
    pub fn remember_hash(&mut self, meta: &Metadata, hash: u64) {
        if !settled(meta) {
            return;
        }
        if self.hashes.len() >= MAX_HASHES {
            self.hashes.clear();
        }
        self.hashes.insert(Stamp::of(meta), hash);
    }

    fn remove(&mut self, raw: &str) {
        if let Some(e) = self.entries.remove(raw) {
            self.bytes -= e.file.body.len();
            self.order.retain(|k| k != raw);
        }
    }

    /// Files cached now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether nothing is cached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes cached now.
    pub fn bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Writes `data` to `path`, dated two seconds ago (old enough to cache).
    fn write_settled(path: &std::path::Path, data: &[u8]) {
        std::fs::write(path, data).unwrap();
        let past = SystemTime::now() - Duration::from_secs(2);
        std::fs::File::options()
            .write(true)
            .open(path)
            .and_then(|f| f.set_modified(past))
            .unwrap();
    }

    fn cached(body: &[u8]) -> CachedFile {
        CachedFile {
            content_type: "text/plain; charset=utf-8",
            body: Arc::from(body),
            hash: 0,
            mtime_ns: 0,
        }
    }

    #[test]
    fn hit_until_the_file_changes_or_vanishes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        write_settled(&path, b"one");
        let mut cache = FileCache::default();
        assert!(cache.get("/a.txt").is_none());
        let meta = std::fs::metadata(&path).unwrap();
        cache.insert("/a.txt", path.clone(), &meta, cached(b"one"));
        assert_eq!(&*cache.get("/a.txt").unwrap().body, b"one");
        // Different length: stale, dropped.
        write_settled(&path, b"three");
        assert!(cache.get("/a.txt").is_none());
        assert_eq!((cache.len(), cache.bytes()), (0, 0));
        let meta = std::fs::metadata(&path).unwrap();
        cache.insert("/a.txt", path.clone(), &meta, cached(b"three"));
        // Replaced by another file of the same length: another inode.
        let other = dir.path().join("b.txt");
        write_settled(&other, b"THREE");
        std::fs::rename(&other, &path).unwrap();
        assert!(cache.get("/a.txt").is_none());
        // Deleted.
        let meta = std::fs::metadata(&path).unwrap();
        cache.insert("/a.txt", path.clone(), &meta, cached(b"THREE"));
        std::fs::remove_file(&path).unwrap();
        assert!(cache.get("/a.txt").is_none());
        assert!(cache.is_empty());
    }

    #[test]
    fn bounded_by_entries_and_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        let body = vec![7u8; MAX_FILE as usize];
        write_settled(&path, &body);
        let meta = std::fs::metadata(&path).unwrap();
        let mut cache = FileCache::default();
        for i in 0..(MAX_BYTES / body.len() + 5) {
            cache.insert(&format!("/{i}"), path.clone(), &meta, cached(&body));
            assert!(cache.bytes() <= MAX_BYTES);
        }
        assert_eq!(cache.len(), MAX_BYTES / body.len());
        // The oldest went first.
        assert!(cache.get("/0").is_none());
        assert!(
            cache
                .get(&format!("/{}", MAX_BYTES / body.len() + 4))
                .is_some()
        );

        write_settled(&path, b"x");
        let meta = std::fs::metadata(&path).unwrap();
        let mut cache = FileCache::default();
        for i in 0..MAX_ENTRIES + 10 {
            cache.insert(&format!("/{i}"), path.clone(), &meta, cached(b"x"));
        }
        assert_eq!(cache.len(), MAX_ENTRIES);
        // Too big, or not what the metadata says: not cached.
        cache.insert("/big", path.clone(), &meta, cached(&body));
        assert!(cache.get("/big").is_none());
    }

    #[test]
    fn a_file_just_written_is_not_cached() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new.txt");
        std::fs::write(&path, b"fresh").unwrap();
        let meta = std::fs::metadata(&path).unwrap();
        let mut cache = FileCache::default();
        cache.insert("/new.txt", path.clone(), &meta, cached(b"fresh"));
        assert!(cache.is_empty());
        write_settled(&path, b"fresh");
        let meta = std::fs::metadata(&path).unwrap();
        cache.insert("/new.txt", path, &meta, cached(b"fresh"));
        assert_eq!(cache.len(), 1);
    }
}
