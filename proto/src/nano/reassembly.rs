//! Video frame reassembly (sans-IO).
//!
//! Chunks of a frame arrive over UDP out of order, twice, or not at all. The
//! [`Reassembler`] collects them, delivers every complete frame exactly once
//! and in frame-id order, never a partial or corrupt one, gives up on a frame
//! whose chunks stop arriving for the defrag timeout (or that grows older than
//! the age cap), reports the lost range, and after a loss holds back dependent
//! frames until a keyframe.
//!
//! Timing follows what a console may do
//! (docs/protocol.md#timing-nobody-captured): a console may pace a large
//! keyframe over far more than the 16 ms defrag timeout, so the timeout counts
//! from a frame's *last accepted* chunk, never from its first; `max_frame_age`
//! caps how long a trickle can hold a frame. A frame-id jump backwards (beyond
//! the recently finished ids) or forwards beyond the in-flight window is an
//! encoder restart: what is pending is dropped and reported, the ids
//! resynchronise and delivery resumes at the next keyframe. If chunks keep
//! arriving and nothing is delivered for `stall_timeout`, the reassembler asks
//! for a keyframe and resynchronises on the ids that arrive, so video never
//! freezes silently.
//!
//! Memory is bounded whatever arrives: at most `max_frames_in_flight` frames
//! are held, each at most `max_frame_size` bytes, together at most
//! `max_total_bytes`. Frame buffers are recycled, so a steady stream does no
//! heap allocation per chunk or per frame.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

/// Video data flag: this frame is a keyframe.
pub const FLAG_KEYFRAME: u32 = 0x02;

/// Limits and timing of the reassembler.
#[derive(Debug, Clone)]
pub struct ReassemblyConfig {
    /// How long an incomplete frame may go without a new chunk before it is
    /// given up (videoPacketDefragTimeoutMs, 16 ms). Counted from the frame's
    /// last accepted chunk.
    pub defrag_timeout: Duration,
    /// The most time a frame may take from its first chunk to its last,
    /// however steadily its chunks trickle in (750 ms: a 150 KB keyframe at
    /// 2 Mbit/s takes 600 ms).
    pub max_frame_age: Duration,
    /// Chunks arriving while nothing is delivered for this long: ask for a
    /// keyframe and resynchronise on the arriving ids (2 s).
    pub stall_timeout: Duration,
    /// Frames held at once (complete-but-waiting plus incomplete).
    pub max_frames_in_flight: usize,
    /// The largest frame accepted (total_size).
    pub max_frame_size: usize,
    /// The most chunks one frame may have (packet_count).
    pub max_chunks_per_frame: usize,
    /// The most bytes held across every frame in flight.
    pub max_total_bytes: usize,
    /// Hold frames back until the first keyframe at the start of the stream.
    pub wait_for_first_keyframe: bool,
}

impl Default for ReassemblyConfig {
    fn default() -> Self {
        ReassemblyConfig {
            defrag_timeout: Duration::from_millis(16),
            max_frame_age: Duration::from_millis(750),
            stall_timeout: Duration::from_secs(2),
            max_frames_in_flight: 64,
            max_frame_size: 4 << 20,
            max_chunks_per_frame: 8192,
            max_total_bytes: 32 << 20,
            wait_for_first_keyframe: true,
        }
    }
}

/// One chunk of a video frame, as carried by a Video Data packet.
#[derive(Debug, Clone, Copy)]
pub struct Chunk<'a> {
    /// Video data flags (keyframe 0x02).
    pub flags: u32,
    /// The frame this chunk belongs to.
    pub frame_id: u32,
    /// The frame's timestamp (microseconds relative to the reference timestamp).
    pub timestamp: u64,
    /// Size of the whole frame.
    pub total_size: u32,
    /// Number of chunks of the whole frame.
    pub packet_count: u32,
    /// Where this chunk's data starts in the frame.
    pub offset: u32,
    /// The chunk's data.
    pub data: &'a [u8],
}

/// A complete frame, delivered once and in order.
#[derive(Debug)]
pub struct Frame {
    /// Frame id.
    pub frame_id: u32,
    /// Video data flags of the frame.
    pub flags: u32,
    /// The frame's timestamp (microseconds relative to the reference timestamp).
    pub timestamp: u64,
    /// The whole frame (an H.264 access unit). Hand it back with
    /// [`Reassembler::recycle`] to avoid allocation.
    pub data: Vec<u8>,
    /// When the frame's last chunk arrived.
    pub completed_at: Instant,
}

impl Frame {
    /// True for keyframes.
    pub fn is_keyframe(&self) -> bool {
        self.flags & FLAG_KEYFRAME != 0
    }
}

/// What the reassembler tells its owner.
#[derive(Debug)]
pub enum Event {
    /// A complete frame, ready for the decoder.
    Frame(Frame),
    /// Frames `first..=last` will never be delivered (lost or given up).
    Lost {
        /// First lost frame id.
        first: u32,
        /// Last lost frame id.
        last: u32,
    },
    /// A keyframe is needed (after a loss, or at the start without one).
    NeedKeyframe,
}

/// Why a chunk was not used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChunkVerdict {
    /// The chunk was stored (the frame may now be complete).
    Accepted,
    /// A chunk already held (same offset and length).
    Duplicate,
    /// For a frame already delivered, lost or given up.
    Late,
    /// Contradicts the frame's other chunks or the limits (kept out).
    Invalid,
}

/// Counters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReassemblyStats {
    /// Frames delivered.
    pub frames_delivered: u64,
    /// Complete frames not delivered because they depend on a lost frame.
    pub frames_dropped: u64,
    /// Frames declared lost (never complete in time).
    pub frames_lost: u64,
    /// Keyframes delivered.
    pub keyframes_delivered: u64,
    /// Chunks stored.
    pub chunks_accepted: u64,
    /// Duplicated chunks ignored.
    pub chunks_duplicate: u64,
    /// Chunks for frames already finished.
    pub chunks_late: u64,
    /// Chunks rejected as contradictory or over a limit.
    pub chunks_invalid: u64,
    /// Bytes of frames delivered.
    pub bytes_delivered: u64,
    /// The most frames ever in flight at once (bounded by `max_frames_in_flight`).
    pub peak_frames_in_flight: u64,
    /// The most bytes ever held at once (bounded by `max_total_bytes`).
    pub peak_held_bytes: u64,
    /// Frame-id discontinuities treated as an encoder restart (a jump
    /// backwards, or forwards beyond the in-flight window), and
    /// resynchronisations by the stall guard.
    pub frame_id_restarts: u64,
    /// Chunks whose flags differ from those of the frame's earlier chunks
    /// (the frame keeps the union; the keyframe bit of any chunk counts).
    pub chunk_flag_mismatches: u64,
}

#[derive(Debug)]
struct Slot {
    frame_id: u32,
    /// False for a placeholder: a frame known to exist (a later one arrived)
    /// of which no chunk has been seen.
    started: bool,
    /// Timed out: its buffer is released; it waits to reach the head to be
    /// reported lost.
    given_up: bool,
    flags: u32,
    timestamp: u64,
    total_size: u32,
    packet_count: u32,
    /// (offset, len) of the chunks held, sorted by offset.
    chunks: Vec<(u32, u32)>,
    bytes: usize,
    data: Vec<u8>,
    /// Given up at this instant unless complete: the defrag timeout after the
    /// last accepted chunk, capped by the age limit.
    deadline: Instant,
    /// The age limit: first chunk (or placeholder creation) + `max_frame_age`.
    expires: Instant,
    completed_at: Option<Instant>,
}

impl Slot {
    fn is_complete(&self) -> bool {
        self.completed_at.is_some() && !self.given_up
    }
}

/// The reassembler. See the module documentation.
#[derive(Debug)]
pub struct Reassembler {
    cfg: ReassemblyConfig,
    /// The next frame id to deliver (or to declare lost).
    next: Option<u32>,
    /// Slots for frames `next, next+1, ...` in id order (index = id - next).
    slots: VecDeque<Slot>,
    held_bytes: usize,
    need_keyframe: bool,
    events: VecDeque<Event>,
    pool: Vec<Vec<u8>>,
    chunk_pool: Vec<Vec<(u32, u32)>>,
    stats: ReassemblyStats,
    /// Whether any chunk was ever accepted (a first far jump is the stream's
    /// start, not a restart).
    seen_any: bool,
    /// Ids of the stream before the last restart: `(next, at)`. Stragglers
    /// near that id are late, not another restart.
    prev_epoch: Option<u32>,
    /// Last time a frame was delivered or the ids were resynchronised.
    last_progress: Option<Instant>,
    /// Late chunks since `last_progress`.
    late_since_progress: u32,
}

/// Frames behind `next` that still count as late chunks rather than a
/// restart, as a multiple of the in-flight window.
const LATE_WINDOWS: usize = 4;

/// Late chunks, besides the time, that make a stall (a stray duplicate after a
/// quiet spell does not).
const STALL_MIN_LATE_CHUNKS: u32 = 32;

impl Reassembler {
    /// A reassembler expecting `first_frame_id` first (the initial frame id of
    /// the Video Client Handshake), or the first frame seen when `None`.
    pub fn new(cfg: ReassemblyConfig, first_frame_id: Option<u32>) -> Self {
        let need_keyframe = cfg.wait_for_first_keyframe;
        Reassembler {
            slots: VecDeque::with_capacity(cfg.max_frames_in_flight),
            cfg,
            next: first_frame_id,
            held_bytes: 0,
            need_keyframe,
            events: VecDeque::new(),
            pool: Vec::new(),
            chunk_pool: Vec::new(),
            stats: ReassemblyStats::default(),
            seen_any: false,
            prev_epoch: None,
            last_progress: None,
            late_since_progress: 0,
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> &ReassemblyStats {
        &self.stats
    }

    /// True while dependent frames are held back waiting for a keyframe.
    pub fn waiting_for_keyframe(&self) -> bool {
        self.need_keyframe
    }

    /// True while chunks of a keyframe are arriving (or a complete keyframe
    /// waits for the frames before it): asking for another keyframe now
    /// only makes the console send a second one behind it. A paced 150 KB
    /// keyframe at 5 Mbit/s takes 240 ms on the wire, longer than the
    /// keyframe retry interval.
    pub fn keyframe_arriving(&self) -> bool {
        self.slots
            .iter()
            .any(|s| s.started && !s.given_up && s.flags & FLAG_KEYFRAME != 0)
    }

    /// Bytes currently held in frames in flight.
    pub fn held_bytes(&self) -> usize {
        self.held_bytes
    }

    /// Frames currently in flight (incomplete or waiting for an earlier one).
    pub fn frames_in_flight(&self) -> usize {
        self.slots.len()
    }

    /// Returns a delivered frame's buffer for reuse.
    pub fn recycle(&mut self, mut buf: Vec<u8>) {
        if self.pool.len() < self.cfg.max_frames_in_flight {
            buf.clear();
            self.pool.push(buf);
        }
    }

    /// The next event, if any.
    pub fn poll_event(&mut self) -> Option<Event> {
        self.events.pop_front()
    }

    /// The earliest instant at which [`Reassembler::handle_timeout`] has work.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.slots
            .iter()
            .filter(|s| !s.is_complete() && !s.given_up)
            .map(|s| s.deadline)
            .min()
    }

    /// Gives up on frames whose deadline passed.
    pub fn handle_timeout(&mut self, now: Instant) {
        // Only the head matters for ordering, but a later incomplete frame that
        // timed out is just as lost: declare every expired incomplete frame lost,
        // in order, then deliver what became deliverable.
        let mut any = false;
        for i in 0..self.slots.len() {
            let s = &mut self.slots[i];
            if !s.is_complete() && !s.given_up && s.deadline <= now {
                s.given_up = true;
                let held = if s.started { s.total_size as usize } else { 0 };
                let buf = std::mem::take(&mut s.data);
                self.held_bytes -= held;
                self.recycle(buf);
                any = true;
            }
        }
        if any {
            self.advance();
        }
    }

    /// Feeds one chunk.
    pub fn handle_chunk(&mut self, c: &Chunk<'_>, now: Instant) -> ChunkVerdict {
        let mut v = self.store(c, now);
        if v == ChunkVerdict::Late {
            // Chunks arrive yet nothing has been delivered for the stall bound
            // (ids that restarted a little behind, say): resynchronise on them.
            let since = *self.last_progress.get_or_insert(now);
            self.late_since_progress = self.late_since_progress.saturating_add(1);
            if now.saturating_duration_since(since) >= self.cfg.stall_timeout
                && self.late_since_progress >= STALL_MIN_LATE_CHUNKS
            {
                self.restart(c.frame_id, now);
                self.prev_epoch = None;
                v = self.store(c, now);
            }
        }
        match v {
            ChunkVerdict::Accepted => self.stats.chunks_accepted += 1,
            ChunkVerdict::Duplicate => self.stats.chunks_duplicate += 1,
            ChunkVerdict::Late => self.stats.chunks_late += 1,
            ChunkVerdict::Invalid => self.stats.chunks_invalid += 1,
        }
        if v == ChunkVerdict::Accepted {
            let st = &mut self.stats;
            st.peak_frames_in_flight = st.peak_frames_in_flight.max(self.slots.len() as u64);
            st.peak_held_bytes = st.peak_held_bytes.max(self.held_bytes as u64);
            self.advance();
        }
        v
    }

    fn store(&mut self, c: &Chunk<'_>, now: Instant) -> ChunkVerdict {
        let total = c.total_size as usize;
        let len = c.data.len();
        let end = (c.offset as usize).checked_add(len);
        if total > self.cfg.max_frame_size
            || c.packet_count == 0
            || c.packet_count as usize > self.cfg.max_chunks_per_frame
            || end.is_none_or(|e| e > total)
            || (len == 0 && total != 0)
        {
            return ChunkVerdict::Invalid;
        }
        let window = self.cfg.max_frames_in_flight.max(1);
        let next = *self.next.get_or_insert(c.frame_id);
        let dist = c.frame_id.wrapping_sub(next) as i32;
        if let Some(prev) = self.prev_epoch {
            // A straggler of the stream before the last restart.
            let d = c.frame_id.wrapping_sub(prev) as i32;
            if d.unsigned_abs() as usize <= window * LATE_WINDOWS
                && dist.unsigned_abs() as usize >= window
            {
                return ChunkVerdict::Late;
            }
        }
        if dist < 0 {
            if dist.unsigned_abs() as usize <= window * LATE_WINDOWS {
                return ChunkVerdict::Late;
            }
            // Far behind what was already finished: the encoder restarted.
            self.restart(c.frame_id, now);
        } else if dist as usize >= window {
            if self.seen_any || self.stats.frames_lost > 0 {
                // Far ahead: a restart (or a gap longer than the window).
                // Once a loss was reported the ids are known, so a jump is
                // a restart even before any chunk was accepted.
                self.restart(c.frame_id, now);
            } else {
                // The stream's first chunk is not where the handshake said.
                // Placeholders made for chunks that were then refused carry
                // the old ids: drop them, or slots and ids would disagree.
                while let Some(s) = self.slots.pop_front() {
                    self.release(s);
                }
                self.next = Some(c.frame_id);
            }
        }
        let next = self.next.unwrap_or(c.frame_id);
        let mut idx = c.frame_id.wrapping_sub(next) as usize;
        let deadline = now + self.cfg.defrag_timeout;
        let expires = now + self.cfg.max_frame_age;
        while self.slots.len() <= idx {
            let id = next.wrapping_add(self.slots.len() as u32);
            let chunks = self.chunk_pool.pop().unwrap_or_default();
            self.slots.push_back(Slot {
                frame_id: id,
                started: false,
                given_up: false,
                flags: 0,
                timestamp: 0,
                total_size: 0,
                packet_count: 0,
                chunks,
                bytes: 0,
                data: Vec::new(),
                deadline: deadline.min(expires),
                expires,
                completed_at: None,
            });
        }
        // Total-memory cap: make room by giving up the oldest frames.
        if !self.slots[idx].started && !self.slots[idx].given_up {
            while self.held_bytes + total > self.cfg.max_total_bytes {
                if idx == 0 {
                    return ChunkVerdict::Invalid;
                }
                let head = self.next.unwrap_or(0);
                self.drop_until(head.wrapping_add(1));
                idx -= 1;
            }
        }
        let slot = &mut self.slots[idx];
        if slot.given_up {
            return ChunkVerdict::Late;
        }
        if !slot.started {
            slot.started = true;
            slot.expires = expires;
            slot.flags = c.flags;
            slot.timestamp = c.timestamp;
            slot.total_size = c.total_size;
            slot.packet_count = c.packet_count;
            let mut buf = self.pool.pop().unwrap_or_default();
            buf.clear();
            buf.resize(total, 0);
            slot.data = buf;
            self.held_bytes += total;
            // A frame known only as a placeholder keeps its earlier deadline.
            if slot.deadline > deadline {
                slot.deadline = deadline;
            }
        } else if slot.total_size != c.total_size || slot.packet_count != c.packet_count {
            return ChunkVerdict::Invalid;
        }
        if slot.is_complete() {
            return ChunkVerdict::Duplicate;
        }
        let flags_differ = slot.flags != c.flags;
        // Find the place by offset; reject overlaps, detect duplicates.
        let off = c.offset;
        let pos = slot.chunks.partition_point(|&(o, _)| o < off);
        if let Some(&(o, l)) = slot.chunks.get(pos) {
            if o == off {
                return if l as usize == len {
                    ChunkVerdict::Duplicate
                } else {
                    ChunkVerdict::Invalid
                };
            }
            if (off as usize) + len > o as usize {
                return ChunkVerdict::Invalid;
            }
        }
        if pos > 0 {
            let (po, pl) = slot.chunks[pos - 1];
            if po as usize + pl as usize > off as usize {
                return ChunkVerdict::Invalid;
            }
        }
        if slot.chunks.len() >= slot.packet_count as usize {
            return ChunkVerdict::Invalid;
        }
        slot.chunks.insert(pos, (off, len as u32));
        slot.data[off as usize..off as usize + len].copy_from_slice(c.data);
        slot.bytes += len;
        if flags_differ {
            // Chunks of one frame need not agree (a console may set the
            // keyframe bit on some only): keep the union, count it.
            slot.flags |= c.flags;
            self.stats.chunk_flag_mismatches += 1;
        }
        // Inactivity, not age: a paced frame lives while its chunks come.
        slot.deadline = (now + self.cfg.defrag_timeout).min(slot.expires);
        self.seen_any = true;
        if slot.chunks.len() == slot.packet_count as usize && slot.bytes == total {
            slot.completed_at = Some(now);
        }
        ChunkVerdict::Accepted
    }

    /// An encoder restart: delivers what is complete in order, reports the
    /// rest of what is pending lost, and resynchronises on `new_next`; the
    /// next frame delivered is a keyframe.
    fn restart(&mut self, new_next: u32, now: Instant) {
        self.stats.frame_id_restarts += 1;
        let old_next = self.next;
        let mut lost: Option<(u32, u32)> = None;
        while let Some(s) = self.slots.pop_front() {
            if s.is_complete() {
                if let Some((first, last)) = lost.take() {
                    self.lost(first, last);
                }
                self.deliver(s);
                continue;
            }
            let id = s.frame_id;
            if s.started || s.given_up {
                self.stats.frames_lost += 1;
                match &mut lost {
                    Some((_, l)) => *l = id,
                    None => lost = Some((id, id)),
                }
            }
            self.release(s);
        }
        if let Some((first, last)) = lost {
            self.lost(first, last);
        }
        self.prev_epoch = old_next;
        self.next = Some(new_next);
        self.need_keyframe = true;
        self.events.push_back(Event::NeedKeyframe);
        self.last_progress = Some(now);
        self.late_since_progress = 0;
    }

    /// Gives up every frame before `new_next` (declaring them lost).
    fn drop_until(&mut self, new_next: u32) {
        let Some(next) = self.next else {
            self.next = Some(new_next);
            return;
        };
        let n = new_next.wrapping_sub(next) as usize;
        let mut lost: Option<(u32, u32)> = None;
        let add_lost = |lost: &mut Option<(u32, u32)>, first: u32, last: u32| match lost {
            Some((_, l)) => *l = last,
            None => *lost = Some((first, last)),
        };
        let held = n.min(self.slots.len());
        for i in 0..held {
            let id = next.wrapping_add(i as u32);
            let s = self.slots.pop_front().expect("counted");
            if s.is_complete() {
                // Complete but forced out: still deliverable in order.
                if let Some((first, last)) = lost.take() {
                    self.lost(first, last);
                }
                self.deliver(s);
                continue;
            }
            self.release(s);
            add_lost(&mut lost, id, id);
            self.stats.frames_lost += 1;
        }
        if n > held {
            // Frames never seen at all, possibly very many: count them in bulk.
            let first = next.wrapping_add(held as u32);
            add_lost(&mut lost, first, new_next.wrapping_sub(1));
            self.stats.frames_lost += (n - held) as u64;
        }
        self.next = Some(new_next);
        if let Some((first, last)) = lost {
            self.lost(first, last);
        }
    }

    fn lost(&mut self, first: u32, last: u32) {
        self.events.push_back(Event::Lost { first, last });
        if !self.need_keyframe {
            self.need_keyframe = true;
        }
        self.events.push_back(Event::NeedKeyframe);
    }

    fn release(&mut self, mut s: Slot) {
        if s.started && !s.given_up {
            self.held_bytes -= s.total_size as usize;
        }
        if s.data.capacity() > 0 {
            let buf = std::mem::take(&mut s.data);
            self.recycle(buf);
        }
        s.chunks.clear();
        if self.chunk_pool.len() < self.cfg.max_frames_in_flight {
            self.chunk_pool.push(s.chunks);
        }
    }

    fn deliver(&mut self, mut s: Slot) {
        self.held_bytes -= s.total_size as usize;
        let keyframe = s.flags & FLAG_KEYFRAME != 0;
        if self.need_keyframe && !keyframe {
            if self.stats.frames_delivered == 0
                && self.stats.frames_dropped == 0
                && self.stats.frames_lost == 0
            {
                // First frame of the stream and not a keyframe: ask once.
                self.events.push_back(Event::NeedKeyframe);
            }
            self.stats.frames_dropped += 1;
            let buf = std::mem::take(&mut s.data);
            self.recycle(buf);
        } else {
            self.need_keyframe = false;
            self.last_progress = s.completed_at.or(self.last_progress);
            self.late_since_progress = 0;
            self.stats.frames_delivered += 1;
            if keyframe {
                self.stats.keyframes_delivered += 1;
            }
            self.stats.bytes_delivered += s.data.len() as u64;
            self.events.push_back(Event::Frame(Frame {
                frame_id: s.frame_id,
                flags: s.flags,
                timestamp: s.timestamp,
                data: std::mem::take(&mut s.data),
                completed_at: s.completed_at.unwrap_or_else(Instant::now),
            }));
        }
        s.chunks.clear();
        if self.chunk_pool.len() < self.cfg.max_frames_in_flight {
            self.chunk_pool.push(s.chunks);
        }
    }

    /// Delivers complete frames at the head and reports given-up ones lost.
    fn advance(&mut self) {
        while let Some(head) = self.slots.front() {
            if head.is_complete() {
                let s = self.slots.pop_front().expect("front exists");
                self.next = Some(s.frame_id.wrapping_add(1));
                self.deliver(s);
            } else if head.given_up {
                // Collect the run of given-up frames into one lost range.
                let first = head.frame_id;
                let mut last = first;
                while self.slots.front().is_some_and(|s| s.given_up) {
                    let s = self.slots.pop_front().expect("front exists");
                    last = s.frame_id;
                    self.stats.frames_lost += 1;
                    self.release(s);
                }
                self.next = Some(last.wrapping_add(1));
                self.lost(first, last);
            } else {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A chunk of frame `frame_id` at timestamp 0.
    fn chunk(
        flags: u32,
        frame_id: u32,
        total_size: u32,
        packet_count: u32,
        offset: u32,
        data: &[u8],
    ) -> Chunk<'_> {
        Chunk {
            flags,
            frame_id,
            timestamp: 0,
            total_size,
            packet_count,
            offset,
            data,
        }
    }

    /// (frame id, data, offset, packet count) of each chunk of a frame.
    fn chunks_of(id: u32, data: &[u8], size: usize) -> Vec<(u32, Vec<u8>, u32, u32)> {
        let n = data.len().div_ceil(size).max(1) as u32;
        data.chunks(size)
            .enumerate()
            .map(|(i, c)| (id, c.to_vec(), (i * size) as u32, n))
            .collect()
    }

    fn feed(r: &mut Reassembler, id: u32, flags: u32, data: &[u8], size: usize, now: Instant) {
        for (fid, d, off, n) in chunks_of(id, data, size) {
            r.handle_chunk(
                &Chunk {
                    timestamp: fid as u64,
                    ..chunk(flags, fid, data.len() as u32, n, off, &d)
                },
                now,
            );
        }
    }

    fn frames(r: &mut Reassembler) -> Vec<Event> {
        std::iter::from_fn(|| r.poll_event()).collect()
    }

    fn frame_ids(ev: &[Event]) -> Vec<u32> {
        ev.iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some(f.frame_id),
                _ => None,
            })
            .collect()
    }

    fn payload(id: u32, len: usize) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u32 ^ id.wrapping_mul(31)) as u8)
            .collect()
    }

    /// A keyframe whose chunks are still arriving is known as such (the
    /// session holds its keyframe requests back meanwhile); once delivered
    /// or given up, it is not.
    #[test]
    fn a_keyframe_on_its_way_is_known() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        assert!(!r.keyframe_arriving());
        let key = payload(0, 10_000);
        let parts = chunks_of(0, &key, 1000);
        for (fid, d, off, n) in &parts[..5] {
            r.handle_chunk(&chunk(FLAG_KEYFRAME, *fid, 10_000, *n, *off, d), t);
        }
        assert!(r.keyframe_arriving(), "half a keyframe is on its way");
        for (fid, d, off, n) in &parts[5..] {
            r.handle_chunk(&chunk(FLAG_KEYFRAME, *fid, 10_000, *n, *off, d), t);
        }
        assert_eq!(frame_ids(&frames(&mut r)), vec![0]);
        assert!(!r.keyframe_arriving(), "delivered");
        // A partial keyframe that times out is no longer on its way; a
        // partial delta frame never was.
        feed(&mut r, 1, 0, &payload(1, 500), 1000, t);
        r.handle_chunk(&chunk(0, 2, 4000, 4, 0, &payload(2, 1000)), t);
        assert!(!r.keyframe_arriving());
        r.handle_chunk(&chunk(FLAG_KEYFRAME, 3, 4000, 4, 0, &payload(3, 1000)), t);
        assert!(r.keyframe_arriving());
        r.handle_timeout(t + Duration::from_secs(1));
        assert!(!r.keyframe_arriving(), "given up");
    }

    #[test]
    fn in_order_and_out_of_order() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(10));
        feed(&mut r, 11, 0, &payload(11, 5000), 1400, t);
        feed(&mut r, 10, FLAG_KEYFRAME, &payload(10, 3000), 1400, t);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![10, 11]);
        if let Event::Frame(f) = &ev[0] {
            assert_eq!(f.data, payload(10, 3000));
            assert!(f.is_keyframe());
        }
        assert_eq!(r.frames_in_flight(), 0);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn duplicates_do_not_corrupt() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        let data = payload(0, 4000);
        feed(&mut r, 0, FLAG_KEYFRAME, &data[..], 1000, t);
        feed(&mut r, 0, FLAG_KEYFRAME, &data[..], 1000, t);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![0]);
        assert!(r.stats().chunks_duplicate + r.stats().chunks_late >= 4);
    }

    #[test]
    fn chunk_reversed_order_and_duplicate_within_frame() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        let data = payload(0, 4000);
        let mut cs = chunks_of(0, &data, 1000);
        cs.reverse();
        let dup = cs[1].clone();
        cs.insert(2, dup);
        for (fid, d, off, n) in cs {
            r.handle_chunk(&chunk(FLAG_KEYFRAME, fid, 4000, n, off, &d), t);
        }
        let ev = frames(&mut r);
        match &ev[..] {
            [Event::Frame(f)] => assert_eq!(f.data, data),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.stats().chunks_duplicate, 1);
    }

    #[test]
    fn loss_times_out_reports_and_waits_for_keyframe() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        feed(&mut r, 0, FLAG_KEYFRAME, &payload(0, 3000), 1000, t);
        // Frame 1: one chunk missing.
        let d1 = payload(1, 3000);
        let cs = chunks_of(1, &d1, 1000);
        for (fid, d, off, n) in cs.into_iter().take(2) {
            r.handle_chunk(&chunk(0, fid, 3000, n, off, &d), t);
        }
        feed(&mut r, 2, 0, &payload(2, 2000), 1000, t);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![0]);
        assert!(r.poll_timeout().is_some());
        r.handle_timeout(t + Duration::from_millis(20));
        let ev = frames(&mut r);
        assert!(matches!(ev[0], Event::Lost { first: 1, last: 1 }));
        assert!(ev.iter().any(|e| matches!(e, Event::NeedKeyframe)));
        // Frame 2 depends on the lost one: dropped.
        assert!(frame_ids(&ev).is_empty());
        assert_eq!(r.stats().frames_dropped, 1);
        feed(&mut r, 3, 0, &payload(3, 2000), 1000, t);
        feed(&mut r, 4, FLAG_KEYFRAME, &payload(4, 2000), 1000, t);
        feed(&mut r, 5, 0, &payload(5, 2000), 1000, t);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![4, 5]);
        assert_eq!(r.stats().frames_lost, 1);
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn missing_frame_entirely_is_lost_after_timeout() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(100));
        feed(&mut r, 100, FLAG_KEYFRAME, &payload(0, 100), 1000, t);
        feed(&mut r, 102, FLAG_KEYFRAME, &payload(2, 100), 1000, t);
        assert_eq!(frame_ids(&frames(&mut r)), vec![100]);
        r.handle_timeout(t + Duration::from_millis(5));
        assert!(frames(&mut r).is_empty());
        r.handle_timeout(t + Duration::from_millis(17));
        let ev = frames(&mut r);
        assert!(matches!(
            ev[0],
            Event::Lost {
                first: 101,
                last: 101
            }
        ));
        assert_eq!(frame_ids(&ev), vec![102]);
    }

    #[test]
    fn wraps_around_u32() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(u32::MAX - 1));
        for id in [u32::MAX - 1, u32::MAX, 0, 1] {
            feed(&mut r, id, FLAG_KEYFRAME, &payload(id, 1500), 1000, t);
        }
        assert_eq!(
            frame_ids(&frames(&mut r)),
            vec![u32::MAX - 1, u32::MAX, 0, 1]
        );
    }

    #[test]
    fn single_chunk_frames_delivered() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), None);
        feed(&mut r, 7, FLAG_KEYFRAME, &payload(7, 10), 1000, t);
        assert_eq!(frame_ids(&frames(&mut r)), vec![7]);
    }

    #[test]
    fn contradictions_and_limits_rejected() {
        let t = Instant::now();
        let cfg = ReassemblyConfig {
            max_frame_size: 10_000,
            wait_for_first_keyframe: false,
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg, Some(0));
        let mk = |total, count, off, data: &'static [u8]| chunk(0, 0, total, count, off, data);
        assert_eq!(
            r.handle_chunk(&mk(20_000, 1, 0, b"x"), t),
            ChunkVerdict::Invalid
        );
        assert_eq!(
            r.handle_chunk(&mk(10, 1, 8, b"abc"), t),
            ChunkVerdict::Invalid
        );
        assert_eq!(
            r.handle_chunk(&mk(10, 0, 0, b"abc"), t),
            ChunkVerdict::Invalid
        );
        assert_eq!(
            r.handle_chunk(&mk(10, 2, 0, b"abcde"), t),
            ChunkVerdict::Accepted
        );
        // Overlap with the held chunk.
        assert_eq!(
            r.handle_chunk(&mk(10, 2, 3, b"xyzuv"), t),
            ChunkVerdict::Invalid
        );
        // Different total size for the same frame.
        assert_eq!(
            r.handle_chunk(&mk(11, 2, 5, b"fghij"), t),
            ChunkVerdict::Invalid
        );
        // Same offset, different length.
        assert_eq!(
            r.handle_chunk(&mk(10, 2, 0, b"abc"), t),
            ChunkVerdict::Invalid
        );
        assert_eq!(
            r.handle_chunk(&mk(10, 2, 5, b"fghij"), t),
            ChunkVerdict::Accepted
        );
        match frames(&mut r).pop() {
            Some(Event::Frame(f)) => assert_eq!(f.data, b"abcdefghij"),
            other => panic!("expected the frame, got {other:?}"),
        }
    }

    /// Feeds a frame's chunks one at a time, `gap` apart, from `start`;
    /// returns the instant of the last chunk.
    fn feed_paced(
        r: &mut Reassembler,
        id: u32,
        flags: u32,
        data: &[u8],
        start: Instant,
        gap: Duration,
    ) -> Instant {
        let mut t = start;
        for (i, (fid, d, off, n)) in chunks_of(id, data, 1400).into_iter().enumerate() {
            t = start + gap * i as u32;
            r.handle_timeout(t);
            r.handle_chunk(&chunk(flags, fid, data.len() as u32, n, off, &d), t);
        }
        t
    }

    #[test]
    fn paced_keyframe_longer_than_the_defrag_timeout_is_delivered() {
        // 150 KB at 5 Mbit/s: one 1400-byte chunk every 2.24 ms, 240 ms in all.
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        let key = payload(0, 150_000);
        let gap = Duration::from_micros(2240);
        let end = feed_paced(&mut r, 0, FLAG_KEYFRAME, &key, t, gap);
        assert!(end - t > Duration::from_millis(200));
        let p = payload(1, 20_000);
        feed_paced(&mut r, 1, 0, &p, end + gap, gap);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![0, 1]);
        match &ev[0] {
            Event::Frame(f) => assert_eq!(f.data, key),
            other => panic!("{other:?}"),
        }
        assert_eq!(r.stats().frames_lost, 0);
    }

    #[test]
    fn loss_in_a_paced_frame_detected_a_defrag_timeout_after_its_last_chunk() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        let key = payload(0, 100_000);
        let gap = Duration::from_millis(2);
        // Every chunk but the last.
        let cs = chunks_of(0, &key, 1400);
        let n = cs.len();
        let mut last = t;
        for (i, (fid, d, off, cnt)) in cs.into_iter().take(n - 1).enumerate() {
            last = t + gap * i as u32;
            r.handle_timeout(last);
            r.handle_chunk(
                &chunk(FLAG_KEYFRAME, fid, key.len() as u32, cnt, off, &d),
                last,
            );
        }
        assert!(frames(&mut r).is_empty());
        let deadline = r.poll_timeout().expect("a deadline");
        assert_eq!(deadline, last + Duration::from_millis(16));
        r.handle_timeout(last + Duration::from_millis(15));
        assert!(frames(&mut r).is_empty());
        r.handle_timeout(last + Duration::from_millis(16));
        let ev = frames(&mut r);
        assert!(matches!(ev[0], Event::Lost { first: 0, last: 0 }), "{ev:?}");
    }

    #[test]
    fn a_trickle_cannot_hold_a_frame_past_its_age_cap() {
        let t = Instant::now();
        let cfg = ReassemblyConfig::default();
        let cap = cfg.max_frame_age;
        let mut r = Reassembler::new(cfg, Some(0));
        let data = payload(0, 1400 * 1000);
        // One chunk every 10 ms: never inactive for 16 ms, never complete in time.
        let mut lost_at = None;
        for (i, (fid, d, off, n)) in chunks_of(0, &data, 1400).into_iter().enumerate() {
            let now = t + Duration::from_millis(10) * i as u32;
            r.handle_timeout(now);
            if frames(&mut r)
                .iter()
                .any(|e| matches!(e, Event::Lost { .. }))
            {
                lost_at = Some(now);
                break;
            }
            r.handle_chunk(
                &chunk(FLAG_KEYFRAME, fid, data.len() as u32, n, off, &d),
                now,
            );
        }
        let lost_at = lost_at.expect("given up");
        assert!(lost_at - t >= cap && lost_at - t <= cap + Duration::from_millis(10));
        assert_eq!(r.held_bytes(), 0);
    }

    #[test]
    fn frame_id_restart_backwards_resynchronises() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(3_715_731_054));
        for id in 3_715_731_054..3_715_731_064u32 {
            let f = if id == 3_715_731_054 {
                FLAG_KEYFRAME
            } else {
                0
            };
            feed(&mut r, id, f, &payload(id, 3000), 1000, t);
        }
        // Frame 3_715_731_064 is half sent when the encoder restarts at 7.
        let half = payload(1, 3000);
        r.handle_chunk(&chunk(0, 3_715_731_064, 3000, 3, 0, &half[..1000]), t);
        assert_eq!(frame_ids(&frames(&mut r)).len(), 10);
        for id in 7..20u32 {
            let f = if id == 7 { FLAG_KEYFRAME } else { 0 };
            feed(&mut r, id, f, &payload(id, 3000), 1000, t);
        }
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), (7..20).collect::<Vec<_>>());
        assert!(ev.iter().any(|e| matches!(
            e,
            Event::Lost {
                first: 3_715_731_064,
                last: 3_715_731_064
            }
        )));
        assert_eq!(r.stats().frame_id_restarts, 1);
        // A straggler of the old stream is late, not another restart.
        feed(&mut r, 3_715_731_065, 0, &payload(0, 500), 1000, t);
        feed(&mut r, 20, 0, &payload(20, 3000), 1000, t);
        assert_eq!(frame_ids(&frames(&mut r)), vec![20]);
        assert_eq!(r.stats().frame_id_restarts, 1);
    }

    #[test]
    fn frame_id_restart_forwards_waits_for_a_keyframe() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        for id in 0..5u32 {
            let f = if id == 0 { FLAG_KEYFRAME } else { 0 };
            feed(&mut r, id, f, &payload(id, 3000), 1000, t);
        }
        assert_eq!(frame_ids(&frames(&mut r)), vec![0, 1, 2, 3, 4]);
        // A new stream far ahead, its first frame not a keyframe.
        feed(&mut r, 1_000_000, 0, &payload(1, 3000), 1000, t);
        feed(&mut r, 1_000_001, FLAG_KEYFRAME, &payload(2, 3000), 1000, t);
        feed(&mut r, 1_000_002, 0, &payload(3, 3000), 1000, t);
        let ev = frames(&mut r);
        assert_eq!(frame_ids(&ev), vec![1_000_001, 1_000_002]);
        assert!(ev.iter().any(|e| matches!(e, Event::NeedKeyframe)));
        assert_eq!(r.stats().frame_id_restarts, 1);
    }

    #[test]
    fn small_backward_restart_is_caught_by_the_stall_guard() {
        // The encoder restarts a little back: its chunks look late. Chunks keep
        // arriving and nothing is delivered: after the stall bound the
        // reassembler asks for a keyframe and resynchronises.
        let t = Instant::now();
        let cfg = ReassemblyConfig::default();
        let stall = cfg.stall_timeout;
        let mut r = Reassembler::new(cfg, Some(1000));
        for id in 1000..1010u32 {
            feed(&mut r, id, FLAG_KEYFRAME, &payload(id, 2000), 1000, t);
        }
        assert_eq!(frame_ids(&frames(&mut r)).len(), 10);
        // 200 ids back: within the late window, so no restart is seen.
        let mut id = 810u32;
        let mut now = t;
        let mut delivered = Vec::new();
        while now - t < stall * 3 {
            now += Duration::from_millis(16);
            r.handle_timeout(now);
            let f = if (id - 810).is_multiple_of(30) {
                FLAG_KEYFRAME
            } else {
                0
            };
            feed(&mut r, id, f, &payload(id, 2000), 1000, now);
            delivered.extend(frame_ids(&frames(&mut r)));
            id += 1;
        }
        assert!(!delivered.is_empty(), "frozen");
        assert_eq!(r.stats().frame_id_restarts, 1);
        let first = delivered[0];
        assert!(now - t >= stall);
        assert_eq!(delivered, (first..id).collect::<Vec<_>>());
    }

    /// Regression (fuzz target `reassembler`): a refused first chunk left
    /// placeholder slots behind; a far jump before any chunk was accepted
    /// moved the ids but kept the slots, so a frame was delivered under
    /// another frame's id.
    #[test]
    fn a_far_first_jump_after_refused_chunks_keeps_ids_and_slots_aligned() {
        let t = Instant::now();
        let cfg = ReassemblyConfig {
            max_total_bytes: 1000,
            wait_for_first_keyframe: false,
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg, Some(0));
        // Too big for the memory cap: refused, after placeholders for 0..=2.
        let big = chunk(0, 3, 5000, 5, 0, &[0; 1000]);
        assert_eq!(r.handle_chunk(&big, t), ChunkVerdict::Invalid);
        let data = payload(1000, 500);
        feed(&mut r, 1000, FLAG_KEYFRAME, &data, 1000, t);
        let ev = frames(&mut r);
        let got: Vec<_> = ev
            .iter()
            .filter_map(|e| match e {
                Event::Frame(f) => Some((f.frame_id, f.data.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(got, vec![(1000, data)]);
        // Frames 0..=2 were reported lost making room: the jump after that
        // is a restart, so later losses cannot go backwards.
        assert_eq!(r.stats().frame_id_restarts, 1);
    }

    #[test]
    fn chunks_with_different_flags_make_one_frame() {
        let t = Instant::now();
        let mut r = Reassembler::new(ReassemblyConfig::default(), Some(0));
        let data = payload(0, 3000);
        for (i, (fid, d, off, n)) in chunks_of(0, &data, 1000).into_iter().enumerate() {
            // Keyframe bit on the second chunk only; 0x04 on the first.
            let flags = match i {
                0 => 0x04,
                1 => 0x04 | FLAG_KEYFRAME,
                _ => 0,
            };
            r.handle_chunk(&chunk(flags, fid, 3000, n, off, &d), t);
        }
        let ev = frames(&mut r);
        match &ev[..] {
            [Event::Frame(f)] => {
                assert!(f.is_keyframe());
                assert_eq!(f.data, data);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(r.stats().chunk_flag_mismatches, 2);
        assert_eq!(r.stats().chunks_invalid, 0);
    }

    #[test]
    fn far_jump_resynchronises_and_memory_stays_bounded() {
        let t = Instant::now();
        let cfg = ReassemblyConfig {
            max_frames_in_flight: 8,
            max_total_bytes: 50_000,
            ..Default::default()
        };
        let mut r = Reassembler::new(cfg, Some(0));
        // Many partial frames, never completed.
        for id in 0..1000u32 {
            r.handle_chunk(
                &chunk(0, id.wrapping_mul(7919), 20_000, 20, 0, &[1u8; 1000]),
                t,
            );
            assert!(r.frames_in_flight() <= 8);
            assert!(r.held_bytes() <= 50_000);
        }
        let ev = frames(&mut r);
        assert!(frame_ids(&ev).is_empty());
        assert!(ev.iter().any(|e| matches!(e, Event::Lost { .. })));
    }
}
