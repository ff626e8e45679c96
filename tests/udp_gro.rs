//! UDP GRO: the engine asks the kernel to coalesce same-sized datagrams
//! (`UDP_GRO`) and splits what it gets by the reported segment size. A host
//! that sends each frame's chunks as one GSO buffer (`UDP_SEGMENT`, equal
//! chunks and a shorter last one) reaches a GRO socket on loopback as one
//! coalesced buffer per frame: every frame must still arrive whole, in
//! order, byte for byte. Linux only.

#![cfg(target_os = "linux")]

use std::io::{Read, Write};
use std::net::{TcpListener, UdpSocket};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use xnano::nano::{Client, ClientConfig, ClientEvent};
use xnano_sim::media::EncodedFrame;
use xnano_sim::nano::{HostConfig, HostSession};

const UDP_SEGMENT: libc::c_int = 103;

/// Sends `buf` as datagrams of `seg` bytes (the last may be shorter) in
/// one GSO send.
fn send_gso(sock: &UdpSocket, to: std::net::SocketAddr, buf: &[u8], seg: u16) {
    let std::net::SocketAddr::V4(to) = to else {
        panic!("IPv4 only")
    };
    let addr = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: to.port().to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from(*to.ip()).to_be(),
        },
        sin_zero: [0; 8],
    };
    let v = libc::c_int::from(seg);
    // SAFETY: a valid socket and option value.
    let r = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_UDP,
            UDP_SEGMENT,
            (&v as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    assert_eq!(r, 0, "UDP_SEGMENT: {}", std::io::Error::last_os_error());
    // SAFETY: a valid buffer and address of their sizes.
    let n = unsafe {
        libc::sendto(
            sock.as_raw_fd(),
            buf.as_ptr().cast(),
            buf.len(),
            0,
            (&addr as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t,
        )
    };
    assert_eq!(n, buf.len() as isize, "{}", std::io::Error::last_os_error());
}

#[test]
fn frames_sent_as_gso_buffers_arrive_whole() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    let got: Arc<Mutex<Vec<Vec<u8>>>> = Arc::default();
    let g2 = got.clone();
    let handler = Box::new(move |e: &ClientEvent| {
        if let ClientEvent::VideoFrame(f) = e {
            g2.lock().push(f.data.to_vec());
        }
    });
    let client = Client::connect(
        listener.local_addr().unwrap(),
        udp.local_addr().unwrap(),
        ClientConfig::default(),
        handler,
    )
    .unwrap();
    // The host side: set-up until video streams.
    let (mut tcp, _) = listener.accept().unwrap();
    tcp.set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    udp.set_read_timeout(Some(Duration::from_millis(2)))
        .unwrap();
    let mut host = HostSession::new(
        HostConfig {
            chunk_size: 1200,
            telemetry_interval: None,
            seed: Some(5),
            ..HostConfig::default()
        },
        Instant::now(),
    );
    let mut buf = vec![0u8; 65536];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(host.video_streaming() && host.client_udp_addr().is_some()) {
        assert!(Instant::now() < deadline, "set-up timed out");
        let now = Instant::now();
        if let Ok(n) = tcp.read(&mut buf) {
            assert!(n > 0);
            let _ = host.handle_tcp(&buf[..n], now);
        }
        if let Ok((n, from)) = udp.recv_from(&mut buf) {
            host.handle_udp(&buf[..n], from, now);
        }
        host.handle_timeout(now);
        while let Some(b) = host.poll_tcp_transmit() {
            tcp.write_all(&b).unwrap();
        }
        while let Some((b, to)) = host.poll_udp_transmit() {
            let _ = udp.send_to(&b, to);
        }
    }
    let to = host.client_udp_addr().unwrap();
    let mut sent = Vec::new();
    let mut gso_frames = 0;
    for i in 0..40u64 {
        let len = if i % 20 == 0 {
            30_000
        } else {
            6_000 + (i as usize * 977) % 9_000
        };
        let data: Vec<u8> = (0..len).map(|k| (k as u64 * 31 + i) as u8).collect();
        let f = EncodedFrame {
            data: data.clone(),
            keyframe: i % 20 == 0,
            index: i,
            pts_us: i * 16_667,
        };
        assert!(host.push_video_frame(&f, Instant::now()));
        let mut dgrams = Vec::new();
        while let Some((b, _)) = host.poll_udp_transmit() {
            dgrams.push(b);
        }
        // One GSO buffer: all chunks but the last have the same size.
        let seg = dgrams[0].len();
        let equal = dgrams[..dgrams.len() - 1].iter().all(|d| d.len() == seg)
            && dgrams.last().unwrap().len() <= seg;
        if equal && dgrams.len() > 1 {
            send_gso(&udp, to, &dgrams.concat(), seg as u16);
            gso_frames += 1;
        } else {
            for d in &dgrams {
                udp.send_to(d, to).unwrap();
            }
        }
        sent.push(data);
        std::thread::sleep(Duration::from_millis(5));
    }
    assert!(
        gso_frames >= 30,
        "only {gso_frames} frames went as GSO buffers"
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while got.lock().len() < sent.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let stats = client.stop().unwrap();
    let got = got.lock();
    assert_eq!(got.len(), sent.len(), "frames delivered; stats {stats:?}");
    for (i, (a, b)) in got.iter().zip(&sent).enumerate() {
        assert!(a == b, "frame {i} differs");
    }
    assert_eq!(stats.udp_malformed, 0);
    assert_eq!(stats.frames_lost, 0);
}
