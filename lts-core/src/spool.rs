//! The disk spool: encoded batches that could not be delivered in time wait
//! here, oldest first, across outages and restarts.
//!
//! Layout: a directory of append-only segment files `spool-NNNNNNNNNNNNNNNNNNNN.lts`,
//! a `cursor` file naming the first batch not yet delivered, and a `lock`
//! file. A spool directory belongs to one process: the owner holds an OS
//! lock on `lock` (and writes its pid there) from open until the worker
//! ends, and a second opener, in another process or the same one, gets an
//! error naming the holder. A batch is one record:
//!
//! ```text
//! magic "LTSB" | payload length u32 LE | CRC-32 of the payload u32 LE | payload
//! payload = version u8 (2) | compression u8 (0 none, 1 gzip, 2 snappy) | events u64 LE |
//!           first event's time in ns u64 LE | body length before compression u64 LE |
//!           log group id length u8 | log group id | log stream id length u8 | log stream id |
//!           body as sent
//! ```
//!
//! A version 1 record (written before routes, without the ids) goes to the
//! default stream. A batch for a stream no route names any more still goes
//! to that stream.
//!
//! Durability: each batch is written with one `write` and `fsync`ed before
//! its memory is released, so a batch that reached the spool survives a
//! crash of the process or of the machine. The cursor is replaced (write,
//! rename) after each delivery without `fsync`: after a power loss, the
//! last few delivered batches may be sent again; after a process crash,
//! none are. A record cut short by a crash mid-write, or one whose checksum
//! does not match, is skipped (with the rest of its segment), counted and
//! reported, never sent.

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::destination::Destinations;
use crate::payload::{Compression, Payload};

const MAGIC: &[u8; 4] = b"LTSB";
const HEADER: usize = 12;
const PAYLOAD_FIXED: usize = 1 + 1 + 8 + 8 + 8;
const VERSION: u8 = 2;
/// Records written before routes: no stream ids.
const VERSION_1: u8 = 1;
/// A new segment is started past this size.
const SEGMENT_BYTES: u64 = 16 * 1024 * 1024;

/// What opening a spool found.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Found {
    pub(crate) batches: u64,
    pub(crate) events: u64,
    /// Records skipped for a bad checksum or a cut-short write.
    pub(crate) corrupt: u64,
}

#[derive(Debug)]
struct Segment {
    id: u64,
    len: u64,
}

/// A batch found by the scan: where it is and what it holds.
#[derive(Debug, Clone, Copy)]
struct Entry {
    segment: u64,
    offset: u64,
    len: u64,
    events: u64,
}

/// The file the owner of a spool directory holds locked.
const LOCK_FILE: &str = "lock";

/// Takes the OS lock on the spool directory's lock file, and writes this
/// process's pid there. The lock lasts as long as the returned file is open.
fn lock(dir: &Path) -> io::Result<File> {
    let path = dir.join(LOCK_FILE);
    let mut file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(fs::TryLockError::WouldBlock) => {
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let holder = match pid.trim() {
                "" => "another process".to_owned(),
                p if p == std::process::id().to_string() => {
                    format!("another Shipper of this process (pid {p})")
                }
                p => format!("another process (pid {p})"),
            };
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                format!(
                    "the directory is in use by {holder}, which holds the lock on {}; a spool directory belongs to one process",
                    path.display()
                ),
            ));
        }
        Err(fs::TryLockError::Error(e)) => return Err(e),
    }
    file.set_len(0)?;
    file.write_all(std::process::id().to_string().as_bytes())?;
    Ok(file)
}

/// The spool of one shipper.
#[derive(Debug)]
pub(crate) struct Spool {
    /// Held locked while the spool is open (see [`lock`]).
    _lock: File,
    /// Where each batch read back goes.
    destinations: Arc<Destinations>,
    dir: PathBuf,
    max_bytes: u64,
    segments: VecDeque<Segment>,
    entries: VecDeque<Entry>,
    tail: Option<File>,
    bytes: u64,
    /// The id the next new segment gets: after every segment and the cursor.
    next_id: u64,
}

fn segment_path(dir: &Path, id: u64) -> PathBuf {
    dir.join(format!("spool-{id:020}.lts"))
}

impl Spool {
    /// Opens (creating if need be) the spool in `dir`, and scans what an
    /// earlier run left there.
    /// `destinations` gives each batch read back its stream.
    pub(crate) fn open(dir: &Path, max_bytes: u64, destinations: Arc<Destinations>) -> io::Result<(Spool, Found)> {
        fs::create_dir_all(dir)?;
        let lock = lock(dir)?;
        let (cursor_segment, cursor_offset) = read_cursor(dir);
        let mut ids: Vec<u64> = fs::read_dir(dir)?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                let name = e.file_name().into_string().ok()?;
                name.strip_prefix("spool-")?.strip_suffix(".lts")?.parse().ok()
            })
            .collect();
        ids.sort_unstable();
        let mut spool = Spool {
            _lock: lock,
            destinations,
            dir: dir.to_owned(),
            max_bytes,
            segments: VecDeque::new(),
            entries: VecDeque::new(),
            tail: None,
            bytes: 0,
            next_id: cursor_segment,
        };
        let mut found = Found::default();
        for id in ids {
            let path = segment_path(dir, id);
            if id < cursor_segment {
                let _ = fs::remove_file(&path);
                continue;
            }
            let start = if id == cursor_segment { cursor_offset } else { 0 };
            let data = fs::read(&path)?;
            let mut offset = start as usize;
            while offset < data.len() {
                match parse(&data[offset..]) {
                    Some((stored_events, len)) => {
                        spool.entries.push_back(Entry {
                            segment: id,
                            offset: offset as u64,
                            len: len as u64,
                            events: stored_events,
                        });
                        found.batches += 1;
                        found.events += stored_events;
                        offset += len;
                    }
                    None => {
                        // Cut short or damaged: the rest of the segment
                        // cannot be trusted to line up.
                        found.corrupt += 1;
                        break;
                    }
                }
            }
            spool.bytes += data.len() as u64;
            spool.next_id = spool.next_id.max(id + 1);
            spool.segments.push_back(Segment {
                id,
                len: data.len() as u64,
            });
        }
        Ok((spool, found))
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Bytes on disk.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends a batch and syncs it to disk. `Ok(false)`: the spool is at its
    /// size cap and the batch was not written.
    pub(crate) fn append(&mut self, b: &Payload) -> io::Result<bool> {
        let record = encode(b);
        if self.bytes + record.len() as u64 > self.max_bytes {
            return Ok(false);
        }
        let need_new = match self.segments.back() {
            None => true,
            Some(s) => s.len >= SEGMENT_BYTES || self.tail.is_none(),
        };
        if need_new {
            let id = self.next_id;
            self.next_id += 1;
            let file = OpenOptions::new()
                .create(true)
                .append(true)
                .open(segment_path(&self.dir, id))?;
            self.tail = Some(file);
            self.segments.push_back(Segment { id, len: 0 });
        }
        let seg = self.segments.back_mut().expect("just ensured");
        let file = self.tail.as_mut().expect("just ensured");
        file.write_all(&record)?;
        file.sync_data()?;
        self.entries.push_back(Entry {
            segment: seg.id,
            offset: seg.len,
            len: record.len() as u64,
            events: b.events,
        });
        seg.len += record.len() as u64;
        self.bytes += record.len() as u64;
        Ok(true)
    }

    /// Reads the oldest batch. `Ok(None)` when empty; an error if the file
    /// went away or no longer matches its checksum (the entry is then
    /// skipped by [`Spool::pop_front`]).
    pub(crate) fn front(&self) -> io::Result<Option<Payload>> {
        let Some(e) = self.entries.front() else {
            return Ok(None);
        };
        let mut f = File::open(segment_path(&self.dir, e.segment))?;
        f.seek(SeekFrom::Start(e.offset))?;
        let mut buf = vec![0; e.len as usize];
        f.read_exact(&mut buf)?;
        decode(&buf, &self.destinations)
            .map(Some)
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, "spooled batch failed its checksum"))
    }

    /// Events in the oldest batch.
    pub(crate) fn front_events(&self) -> u64 {
        self.entries.front().map_or(0, |e| e.events)
    }

    /// Forgets the oldest batch (delivered or given up on), deleting
    /// segments that are done and moving the cursor.
    pub(crate) fn pop_front(&mut self) -> io::Result<()> {
        if self.entries.pop_front().is_none() {
            return Ok(());
        }
        match self.entries.front().map(|n| (n.segment, n.offset)) {
            Some((segment, offset)) => {
                while self.segments.front().is_some_and(|s| s.id < segment) {
                    self.remove_oldest_segment()?;
                }
                write_cursor(&self.dir, segment, offset)
            }
            None => {
                // Everything delivered: start afresh in a new segment.
                while !self.segments.is_empty() {
                    self.remove_oldest_segment()?;
                }
                write_cursor(&self.dir, self.next_id, 0)
            }
        }
    }

    fn remove_oldest_segment(&mut self) -> io::Result<()> {
        let s = self.segments.pop_front().expect("caller checked");
        if self.segments.is_empty() {
            self.tail = None;
        }
        self.bytes -= s.len;
        fs::remove_file(segment_path(&self.dir, s.id))
    }
}

fn read_cursor(dir: &Path) -> (u64, u64) {
    let text = fs::read_to_string(dir.join("cursor")).unwrap_or_default();
    let mut parts = text.split_whitespace().map(|p| p.parse::<u64>().ok());
    match (parts.next().flatten(), parts.next().flatten()) {
        (Some(s), Some(o)) => (s, o),
        _ => (0, 0),
    }
}

fn write_cursor(dir: &Path, segment: u64, offset: u64) -> io::Result<()> {
    let tmp = dir.join("cursor.tmp");
    fs::write(&tmp, format!("{segment} {offset}\n"))?;
    fs::rename(tmp, dir.join("cursor"))
}

fn encode(b: &Payload) -> Vec<u8> {
    let mut payload = Vec::with_capacity(PAYLOAD_FIXED + b.wire.len());
    payload.push(VERSION);
    payload.push(match b.compression {
        Compression::None => 0,
        Compression::Gzip => 1,
        Compression::Snappy => 2,
    });
    payload.extend_from_slice(&b.events.to_le_bytes());
    payload.extend_from_slice(&b.first_time_ns.to_le_bytes());
    payload.extend_from_slice(&(b.raw_len as u64).to_le_bytes());
    for id in [&b.dest.log_group_id, &b.dest.log_stream_id] {
        // Ids are 36 characters (checked at start).
        let id = &id.as_bytes()[..id.len().min(255)];
        payload.push(id.len() as u8);
        payload.extend_from_slice(id);
    }
    payload.extend_from_slice(&b.wire);
    let mut record = Vec::with_capacity(HEADER + payload.len());
    record.extend_from_slice(MAGIC);
    record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    record.extend_from_slice(&payload);
    record
}

/// Checks the record at the start of `data`: its events and total length.
fn parse(data: &[u8]) -> Option<(u64, usize)> {
    if data.len() < HEADER || &data[..4] != MAGIC {
        return None;
    }
    let len = u32::from_le_bytes(data[4..8].try_into().ok()?) as usize;
    let crc = u32::from_le_bytes(data[8..12].try_into().ok()?);
    let payload = data.get(HEADER..HEADER + len)?;
    if len < PAYLOAD_FIXED || crc32fast::hash(payload) != crc || ![VERSION, VERSION_1].contains(&payload[0]) {
        return None;
    }
    let events = u64::from_le_bytes(payload[2..10].try_into().ok()?);
    Some((events, HEADER + len))
}

fn decode(record: &[u8], destinations: &Destinations) -> Option<Payload> {
    let (_, len) = parse(record)?;
    let p = &record[HEADER..len];
    let u64_at = |i: usize| p[i..i + 8].try_into().ok().map(u64::from_le_bytes);
    let (dest, body) = if p[0] == VERSION_1 {
        (destinations.get(0).clone(), PAYLOAD_FIXED)
    } else {
        let mut at = PAYLOAD_FIXED;
        let mut id = || {
            let n = usize::from(*p.get(at)?);
            let s = std::str::from_utf8(p.get(at + 1..at + 1 + n)?).ok()?;
            at += 1 + n;
            Some(s)
        };
        let (group, stream) = (id()?, id()?);
        (destinations.find(group, stream), at)
    };
    Some(Payload {
        dest,
        compression: match p[1] {
            0 => Compression::None,
            1 => Compression::Gzip,
            2 => Compression::Snappy,
            _ => return None,
        },
        events: u64_at(2)?,
        first_time_ns: u64_at(10)?,
        raw_len: usize::try_from(u64_at(18)?).ok()?,
        wire: Arc::from(&p[body..]),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(i: u64, size: usize) -> Payload {
        Payload {
            wire: Arc::from(vec![i as u8; size]),
            compression: [Compression::Gzip, Compression::None, Compression::Snappy][i as usize % 3],
            raw_len: size * 3,
            events: i + 1,
            first_time_ns: 1_000 + i,
            dest: Arc::default(),
        }
    }

    fn dests() -> Arc<Destinations> {
        Arc::new(Destinations::single())
    }

    #[test]
    fn batches_come_back_oldest_first_and_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, found) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        assert_eq!(found, Found::default());
        for i in 0..5 {
            assert!(s.append(&batch(i, 100)).unwrap());
        }
        assert_eq!(s.front().unwrap(), Some(batch(0, 100)));
        s.pop_front().unwrap();
        s.pop_front().unwrap();
        drop(s);
        let (mut s, found) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        assert_eq!(
            found,
            Found {
                batches: 3,
                events: 3 + 4 + 5,
                corrupt: 0
            }
        );
        for i in 2..5 {
            assert_eq!(s.front().unwrap(), Some(batch(i, 100)));
            s.pop_front().unwrap();
        }
        assert!(s.is_empty());
        assert_eq!(s.bytes(), 0);
        assert_eq!(s.front().unwrap(), None);
        // Everything delivered: no segment is left behind.
        let left: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| e.file_name().to_string_lossy().ends_with(".lts"))
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

    #[test]
    fn each_compression_comes_back_as_it_went_in() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        for i in 0..3 {
            s.append(&batch(i, 10)).unwrap();
        }
        for expected in [Compression::Gzip, Compression::None, Compression::Snappy] {
            assert_eq!(s.front().unwrap().unwrap().compression, expected);
            s.pop_front().unwrap();
        }
    }

    #[test]
    fn a_record_cut_short_by_a_crash_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        for i in 0..3 {
            s.append(&batch(i, 50)).unwrap();
        }
        drop(s);
        // A crash in the middle of writing a fourth batch.
        let record = encode(&batch(3, 50));
        let mut f = OpenOptions::new()
            .append(true)
            .open(segment_path(dir.path(), 0))
            .unwrap();
        f.write_all(&record[..record.len() / 2]).unwrap();
        drop(f);
        let (s, found) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        assert_eq!((found.batches, found.events, found.corrupt), (3, 6, 1));
        assert_eq!(s.front().unwrap(), Some(batch(0, 50)));
    }

    #[test]
    fn a_flipped_bit_fails_the_checksum_and_is_never_sent() {
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        s.append(&batch(0, 50)).unwrap();
        s.append(&batch(1, 50)).unwrap();
        drop(s);
        let path = segment_path(dir.path(), 0);
        let mut data = fs::read(&path).unwrap();
        data[HEADER + 30] ^= 1; // inside the first batch's body
        fs::write(&path, data).unwrap();
        let (s, found) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        assert_eq!((found.batches, found.corrupt), (0, 1));
        assert!(s.is_empty());
    }

    #[test]
    fn a_second_open_of_a_spool_in_use_fails_naming_the_holder_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let (first, _) = Spool::open(dir.path(), 1 << 30, dests()).unwrap();
        let pid = std::process::id();
        assert_eq!(fs::read_to_string(dir.path().join(LOCK_FILE)).unwrap(), pid.to_string());
        let e = Spool::open(dir.path(), 1 << 30, dests()).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::WouldBlock);
        assert_eq!(
            e.to_string(),
            format!(
                "the directory is in use by another Shipper of this process (pid {pid}), which holds the lock on {}; a spool directory belongs to one process",
                dir.path().join(LOCK_FILE).display()
            )
        );
        drop(first);
        Spool::open(dir.path(), 1 << 30, dests()).unwrap();
    }

    #[test]
    fn the_size_cap_refuses_batches_that_do_not_fit() {
        let dir = tempfile::tempdir().unwrap();
        let one = encode(&batch(0, 1000)).len() as u64;
        let (mut s, _) = Spool::open(dir.path(), one * 2, dests()).unwrap();
        assert!(s.append(&batch(0, 1000)).unwrap());
        assert!(s.append(&batch(0, 1000)).unwrap());
        assert!(!s.append(&batch(0, 1000)).unwrap());
        assert_eq!(s.bytes(), one * 2);
    }

    fn routed() -> Arc<Destinations> {
        let config = crate::Config::builder()
            .endpoint("http://127.0.0.1:8102")
            .project_id("0123456789abcdef0123456789abcdef")
            .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
            .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
            .route(crate::Route::new("audit", "0a1b2c3d-0000-4000-8000-0000000000a1"))
            .token("tok")
            .build()
            .unwrap();
        Arc::new(config.destinations())
    }

    #[test]
    fn each_batch_comes_back_bound_for_its_own_stream() {
        let dir = tempfile::tempdir().unwrap();
        let dests = routed();
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests.clone()).unwrap();
        let to = |route: usize, i: u64| Payload {
            dest: dests.get(route).clone(),
            ..batch(i, 20)
        };
        s.append(&to(1, 0)).unwrap();
        s.append(&to(0, 1)).unwrap();
        drop(s);
        // Reopened with the same routes: each batch is bound where it was.
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests.clone()).unwrap();
        let audit = s.front().unwrap().unwrap();
        assert_eq!(audit, to(1, 0));
        assert!(audit
            .dest
            .url
            .ends_with("/streams/0a1b2c3d-0000-4000-8000-0000000000a1/tenant/contents/high-accuracy"));
        s.pop_front().unwrap();
        assert_eq!(s.front().unwrap().unwrap(), to(0, 1));
        drop(s);
        // Reopened without the route: the audit batch still goes to the
        // audit stream, counted with the default route.
        let dir = tempfile::tempdir().unwrap();
        let (mut s, _) = Spool::open(dir.path(), 1 << 30, dests.clone()).unwrap();
        s.append(&to(1, 0)).unwrap();
        drop(s);
        let config = crate::Config::builder()
            .endpoint("http://127.0.0.1:8102")
            .project_id("0123456789abcdef0123456789abcdef")
            .log_group_id("0a1b2c3d-0000-4000-8000-000000000001")
            .log_stream_id("0a1b2c3d-0000-4000-8000-000000000002")
            .token("tok")
            .build()
            .unwrap();
        let (s, _) = Spool::open(dir.path(), 1 << 30, Arc::new(config.destinations())).unwrap();
        let back = s.front().unwrap().unwrap();
        assert_eq!(
            (back.dest.route, back.dest.url.as_str()),
            (0, dests.get(1).url.as_str())
        );
    }

    #[test]
    fn a_batch_spooled_before_routes_goes_to_the_default_stream() {
        let dir = tempfile::tempdir().unwrap();
        let dests = routed();
        // A version-1 record: the fixed part then the body, no stream ids.
        let b = batch(4, 30);
        let mut payload = vec![VERSION_1, 0]; // Compression::None, as batch(4) is
        for n in [b.events, b.first_time_ns, b.raw_len as u64] {
            payload.extend_from_slice(&n.to_le_bytes());
        }
        payload.extend_from_slice(&b.wire);
        let mut record = MAGIC.to_vec();
        record.extend_from_slice(&(payload.len() as u32).to_le_bytes());
        record.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
        record.extend_from_slice(&payload);
        fs::write(segment_path(dir.path(), 0), record).unwrap();
        let (s, found) = Spool::open(dir.path(), 1 << 30, dests.clone()).unwrap();
        assert_eq!((found.batches, found.events, found.corrupt), (1, 5, 0));
        let back = s.front().unwrap().unwrap();
        assert_eq!(
            back,
            Payload {
                dest: dests.get(0).clone(),
                ..b
            }
        );
    }
}
