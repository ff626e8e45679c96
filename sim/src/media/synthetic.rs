//! Synthetic "video" frames for byte-exact transport tests.
//!
//! Each frame is a header followed by a body. The body bytes derive from `(seed, index)`, and the
//! header carries a 64-bit FNV-1a hash of the header fields and the body, so a receiver can check
//! a frame on its own with [`verify_synthetic`], without knowing the sender's settings.
//!
//! Header layout (little endian, [`SYNTHETIC_HEADER_LEN`] bytes):
//!
//! | offset | size | field |
//! | --- | --- | --- |
//! | 0 | 4 | magic `XNSV` |
//! | 4 | 1 | version (1) |
//! | 5 | 1 | flags (bit 0: keyframe) |
//! | 6 | 2 | reserved, 0 |
//! | 8 | 8 | index |
//! | 16 | 8 | seed |
//! | 24 | 4 | body length |
//! | 28 | 8 | FNV-1a 64 over bytes 0..28 then the body |

use super::{pts_us, EncodedFrame, FrameSource, MediaError};

/// The first four bytes of every synthetic frame.
pub const SYNTHETIC_MAGIC: [u8; 4] = *b"XNSV";
/// Size of the synthetic frame header; the smallest possible frame.
pub const SYNTHETIC_HEADER_LEN: usize = 36;
const VERSION: u8 = 1;
const FLAG_KEYFRAME: u8 = 1;

/// What a verified synthetic frame says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticInfo {
    /// Frame index.
    pub index: u64,
    /// Whether the generator flagged it as a keyframe.
    pub keyframe: bool,
    /// The generator's seed.
    pub seed: u64,
    /// Total frame length in bytes, header included.
    pub len: usize,
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn frame_state(seed: u64, index: u64) -> u64 {
    let mut s = seed ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93);
    splitmix64(&mut s)
}

/// Fills `body` with the bytes of frame `(seed, index)`.
fn fill_body(seed: u64, index: u64, body: &mut [u8]) {
    let mut state = frame_state(seed, index);
    let mut chunks = body.chunks_exact_mut(8);
    for chunk in &mut chunks {
        chunk.copy_from_slice(&splitmix64(&mut state).to_le_bytes());
    }
    let rest = chunks.into_remainder();
    let last = splitmix64(&mut state).to_le_bytes();
    let n = rest.len();
    rest.copy_from_slice(&last[..n]);
}

const FNV_OFFSET: u64 = 0xCBF2_9CE4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01B3;

fn fnv1a(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Builds one synthetic frame of `len` bytes (at least [`SYNTHETIC_HEADER_LEN`]).
fn build_frame(seed: u64, index: u64, len: usize, keyframe: bool) -> Vec<u8> {
    let len = len.max(SYNTHETIC_HEADER_LEN);
    let body_len = len - SYNTHETIC_HEADER_LEN;
    let mut out = vec![0u8; len];
    out[0..4].copy_from_slice(&SYNTHETIC_MAGIC);
    out[4] = VERSION;
    out[5] = if keyframe { FLAG_KEYFRAME } else { 0 };
    out[8..16].copy_from_slice(&index.to_le_bytes());
    out[16..24].copy_from_slice(&seed.to_le_bytes());
    out[24..28].copy_from_slice(&(body_len as u32).to_le_bytes());
    fill_body(seed, index, &mut out[SYNTHETIC_HEADER_LEN..]);
    let hash = fnv1a(fnv1a(FNV_OFFSET, &out[0..28]), &out[SYNTHETIC_HEADER_LEN..]);
    out[28..36].copy_from_slice(&hash.to_le_bytes());
    out
}

fn field<const N: usize>(data: &[u8], at: usize) -> [u8; N] {
    let mut a = [0u8; N];
    if let Some(s) = data.get(at..at + N) {
        a.copy_from_slice(s);
    }
    a
}

/// Checks a synthetic frame (header, hash, and the body against its `(seed, index)`) and
/// returns its index.
pub fn verify_synthetic(data: &[u8]) -> Result<u64, MediaError> {
    verify_synthetic_info(data).map(|i| i.index)
}

/// Checks a synthetic frame like [`verify_synthetic`] and returns everything its header says.
pub fn verify_synthetic_info(data: &[u8]) -> Result<SyntheticInfo, MediaError> {
    let bad = |why: String| Err(MediaError::Decode(format!("synthetic frame: {why}")));
    if data.len() < SYNTHETIC_HEADER_LEN {
        return bad(format!(
            "{} bytes, shorter than the {SYNTHETIC_HEADER_LEN}-byte header",
            data.len()
        ));
    }
    if field::<4>(data, 0) != SYNTHETIC_MAGIC {
        return bad(format!("bad magic {}", hex::encode(field::<4>(data, 0))));
    }
    let version = data[4];
    if version != VERSION {
        return bad(format!("unknown version {version}"));
    }
    let flags = data[5];
    if flags & !FLAG_KEYFRAME != 0 || field::<2>(data, 6) != [0, 0] {
        return bad(format!(
            "reserved bits set (flags {flags:#04x}, reserved {})",
            hex::encode(field::<2>(data, 6))
        ));
    }
    let index = u64::from_le_bytes(field(data, 8));
    let seed = u64::from_le_bytes(field(data, 16));
    let body_len = u32::from_le_bytes(field(data, 24)) as usize;
    let have = data.len() - SYNTHETIC_HEADER_LEN;
    if body_len != have {
        return bad(format!(
            "frame {index}: header says {body_len} body bytes, got {have}"
        ));
    }
    let body = &data[SYNTHETIC_HEADER_LEN..];
    let stored = u64::from_le_bytes(field(data, 28));
    let hash = fnv1a(fnv1a(FNV_OFFSET, &data[0..28]), body);
    if hash != stored {
        return bad(format!(
            "frame {index}: hash {hash:016x} does not match stored {stored:016x}"
        ));
    }
    let mut expected = vec![0u8; body_len];
    fill_body(seed, index, &mut expected);
    if let Some(at) = expected.iter().zip(body).position(|(a, b)| a != b) {
        return bad(format!(
            "frame {index}: body byte {at} differs from the generator's"
        ));
    }
    Ok(SyntheticInfo {
        index,
        keyframe: flags & FLAG_KEYFRAME != 0,
        seed,
        len: data.len(),
    })
}

/// Generates self-verifying frames with sizes in a chosen range.
///
/// Keyframes (frame 0, every `keyframe_interval`-th frame, and forced ones) are `max_len`
/// bytes long; other frames take a size in `min_len..=max_len` derived from `(seed, index)`.
#[derive(Debug, Clone)]
pub struct SyntheticVideo {
    seed: u64,
    min_len: usize,
    max_len: usize,
    keyframe_interval: u64,
    fps: u32,
    width: u32,
    height: u32,
    index: u64,
    force_next: bool,
}

impl SyntheticVideo {
    /// A generator with frame sizes in `min_len..=max_len` (both at least
    /// [`SYNTHETIC_HEADER_LEN`], at most 64 MiB), a keyframe every `keyframe_interval` frames
    /// (0: only frame 0 and forced ones), timestamps for `fps`.
    pub fn new(
        seed: u64,
        min_len: usize,
        max_len: usize,
        keyframe_interval: u64,
        fps: u32,
    ) -> Result<Self, MediaError> {
        if min_len < SYNTHETIC_HEADER_LEN || min_len > max_len || max_len > 64 << 20 {
            return Err(MediaError::Config(format!(
                "synthetic sizes {min_len}..={max_len}: need {SYNTHETIC_HEADER_LEN} <= min <= max <= 64 MiB"
            )));
        }
        if fps == 0 {
            return Err(MediaError::Config("fps must be nonzero".into()));
        }
        Ok(Self {
            seed,
            min_len,
            max_len,
            keyframe_interval,
            fps,
            width: 1280,
            height: 720,
            index: 0,
            force_next: false,
        })
    }

    /// Sets the dimensions the source reports (default 1280x720); they do not affect the bytes.
    pub fn with_dimensions(mut self, width: u32, height: u32) -> Self {
        self.width = width;
        self.height = height;
        self
    }

    /// The length frame `index` gets when it is not a keyframe.
    fn len_of(&self, index: u64) -> usize {
        let span = (self.max_len - self.min_len) as u64 + 1;
        let mut s = frame_state(self.seed, index) ^ 0x5A5A_5A5A_5A5A_5A5A;
        self.min_len + (splitmix64(&mut s) % span) as usize
    }

    /// Produces the next frame.
    pub fn next_frame(&mut self) -> EncodedFrame {
        let index = self.index;
        let periodic = self.keyframe_interval > 0 && index.is_multiple_of(self.keyframe_interval);
        let keyframe = index == 0 || periodic || self.force_next;
        self.force_next = false;
        let len = if keyframe {
            self.max_len
        } else {
            self.len_of(index)
        };
        self.index += 1;
        EncodedFrame {
            data: build_frame(self.seed, index, len, keyframe),
            keyframe,
            index,
            pts_us: pts_us(index, u64::from(self.fps)),
        }
    }

    /// Makes the next frame a keyframe.
    pub fn force_keyframe(&mut self) {
        self.force_next = true;
    }
}

impl FrameSource for SyntheticVideo {
    fn next_frame(&mut self) -> Result<EncodedFrame, MediaError> {
        Ok(SyntheticVideo::next_frame(self))
    }
    fn force_keyframe(&mut self) {
        SyntheticVideo::force_keyframe(self)
    }
    fn width(&self) -> u32 {
        self.width
    }
    fn height(&self) -> u32 {
        self.height
    }
    fn fps(&self) -> u32 {
        self.fps
    }
}
