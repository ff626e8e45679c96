//! The allocation-free UDP video fast path against the general decoder:
//! they must accept exactly the same video data packets with the same fields.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xnano_proto::wire::nano::{ChannelClass, NanoPacket, NanoPayload};
use xnano_proto::wire::nano::streamer::StreamerBody;
use xnano_proto::wire::nano::video::{parse_udp_video_data, VideoPayload};

fuzz_target!(|data: &[u8]| {
    let fast = parse_udp_video_data(data);
    let slow = NanoPacket::decode(data, Some(ChannelClass::Video));
    let slow_data = match &slow {
        Ok(NanoPacket {
            header,
            payload: NanoPayload::Streamer(m),
        }) => match &m.body {
            StreamerBody::Video(VideoPayload::Data(d)) => Some((header, d)),
            _ => None,
        },
        _ => None,
    };
    match (fast, slow_data) {
        (Ok((h, v)), Some((sh, sd))) => {
            assert_eq!(h.connection_id, sh.connection_id);
            assert_eq!(h.channel_id, sh.channel_id);
            assert_eq!(h.sequence_num, sh.sequence_num);
            assert_eq!(h.timestamp, sh.timestamp);
            assert_eq!(v.to_owned(), *sd);
        }
        (Ok((_, v)), None) => {
            panic!("fast path accepted what the decoder rejects: {v:?} / {slow:?}")
        }
        (Err(e), Some((_, d))) => panic!("fast path rejected video data {d:?}: {e}"),
        (Err(_), None) => {}
    }
});
