//! What a Nano client's event handler saw, recorded for the tests that
//! check delivered frames against what a console sent.

use std::sync::Arc;

use parking_lot::Mutex;
use xnano::nano::{ClientEvent, EventHandler, Rumble};

/// What the handler saw, in delivery order.
#[derive(Default)]
pub struct Seen {
    /// (frame id, keyframe, bytes) of every delivered frame.
    pub frames: Vec<(u32, bool, Vec<u8>)>,
    /// Index into `frames` at which each loss was reported, and the range.
    pub losses: Vec<(usize, u32, u32)>,
    /// (frame id, length) of every audio packet.
    pub audio: Vec<(u32, usize)>,
    pub rumble: Vec<Rumble>,
    /// The controllers whose input channel became ready.
    pub input_ready: Vec<u8>,
    pub closed: Option<String>,
    pub video_format: Option<(u32, u32)>,
}

impl Seen {
    /// Records one event.
    pub fn record(&mut self, e: &ClientEvent) {
        match e {
            ClientEvent::VideoFrame(f) => {
                self.frames.push((f.frame_id, f.keyframe, f.data.clone()))
            }
            ClientEvent::FramesLost { first, last } => {
                let n = self.frames.len();
                self.losses.push((n, *first, *last))
            }
            ClientEvent::Audio(a) => self.audio.push((a.frame_id, a.data.len())),
            ClientEvent::Rumble(r) => self.rumble.push(*r),
            ClientEvent::InputReady(n) => self.input_ready.push(*n),
            ClientEvent::VideoFormat(f) => self.video_format = Some((f.width, f.height)),
            ClientEvent::Closed(r) => self.closed = Some(r.to_string()),
            _ => {}
        }
    }
}

/// A shared, empty record and the event handler that fills it.
pub fn recorder() -> (Arc<Mutex<Seen>>, EventHandler) {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s2 = seen.clone();
    (seen, Box::new(move |e: &ClientEvent| s2.lock().record(e)))
}
