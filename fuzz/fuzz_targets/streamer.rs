//! Streamer messages on every channel class, and each channel family's
//! payload decoder with a type from the first byte. Invariant: decoded
//! messages re-encode to a fixed point.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::nano::audio::AudioPayload;
use xnano_proto::wire::nano::input::InputPayload;
use xnano_proto::wire::nano::streamer::{StreamerBody, StreamerMessage};
use xnano_proto::wire::nano::video::VideoPayload;
use xnano_fuzz::all_classes;

fuzz_target!(|data: &[u8]| {
    for class in all_classes() {
        if let Ok(m) = StreamerMessage::decode(data, class.as_ref()) {
            let mut b1 = Vec::new();
            m.encode(&mut b1);
            let m2 = StreamerMessage::decode(&b1, class.as_ref())
                .unwrap_or_else(|e| panic!("re-encoded message does not decode: {e}\n{m:?}"));
            let mut b2 = Vec::new();
            m2.encode(&mut b2);
            assert_eq!(b1, b2, "{m:?}");
        }
    }
    let Some((&t, rest)) = data.split_first() else {
        return;
    };
    let ty = u32::from(t % 8);
    let check = |encoded: Option<Vec<u8>>, again: &dyn Fn(&[u8]) -> Option<Vec<u8>>| {
        if let Some(b1) = encoded {
            let b2 = again(&b1).expect("re-encoded payload decodes");
            assert_eq!(b1, b2);
        }
    };
    let video = |b: &[u8]| {
        VideoPayload::decode(ty, b).ok().flatten().map(|p| {
            let mut v = Vec::new();
            p.encode(&mut v);
            v
        })
    };
    check(video(rest), &video);
    let audio = |b: &[u8]| {
        AudioPayload::decode(ty, b).ok().flatten().map(|p| {
            let mut v = Vec::new();
            p.encode(&mut v);
            v
        })
    };
    check(audio(rest), &audio);
    let input = |b: &[u8]| {
        InputPayload::decode(ty, b).ok().flatten().map(|p| {
            let mut v = Vec::new();
            p.encode(&mut v);
            v
        })
    };
    check(input(rest), &input);
    for class in all_classes() {
        let _ = StreamerBody::decode(class.as_ref(), ty, rest);
    }
});
