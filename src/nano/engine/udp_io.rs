//! Socket plumbing of the engines: a waker that ends a blocking wait (so the
//! engine's threads block until there is work or a deadline instead of
//! polling a flag), readiness waits, and a batched UDP receiver
//! (`recvmmsg` with the kernel's receive timestamps on Linux, one
//! `recv_from` per batch elsewhere).

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

/// Datagrams per batch (a 1080p keyframe is ~86 datagrams in one burst).
pub(crate) const BATCH: usize = 64;
/// Bytes per datagram slot: the largest UDP payload, so nothing is cut.
/// Only the pages a datagram touches become resident.
const SLOT: usize = 65536;

/// What ended a wait.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Ready {
    /// The socket has data (or a pending error).
    Readable,
    /// [`Waker::wake`] was called.
    Woken,
    /// The timeout ran out.
    Timeout,
}

/// A self-pipe: [`Waker::wake`] makes every [`wait_readable`] on it return.
#[cfg(unix)]
pub(crate) struct Waker {
    rd: std::os::fd::OwnedFd,
    wr: std::os::fd::OwnedFd,
}

#[cfg(unix)]
impl Waker {
    pub(crate) fn new() -> io::Result<Waker> {
        use std::os::fd::FromRawFd;
        let mut fds = [0 as libc::c_int; 2];
        // SAFETY: `fds` has room for the two descriptors pipe writes.
        if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: both descriptors were just created and are owned here.
        let (rd, wr) = unsafe {
            (
                std::os::fd::OwnedFd::from_raw_fd(fds[0]),
                std::os::fd::OwnedFd::from_raw_fd(fds[1]),
            )
        };
        for fd in [&rd, &wr] {
            set_flags(fd)?;
        }
        Ok(Waker { rd, wr })
    }

    /// Wakes the waiters (a wake-up is kept until [`Waker::drain`]).
    pub(crate) fn wake(&self) {
        use std::os::fd::AsRawFd;
        let b = 1u8;
        // SAFETY: writes one byte from a valid buffer; a full pipe
        // (EAGAIN) already holds a wake-up.
        let _ = unsafe { libc::write(self.wr.as_raw_fd(), (&b as *const u8).cast(), 1) };
    }

    /// Consumes pending wake-ups.
    pub(crate) fn drain(&self) {
        use std::os::fd::AsRawFd;
        let mut b = [0u8; 64];
        // SAFETY: reads into a valid buffer of its length; non-blocking.
        while unsafe { libc::read(self.rd.as_raw_fd(), b.as_mut_ptr().cast(), b.len()) } > 0 {}
    }
}

#[cfg(unix)]
fn set_flags(fd: &std::os::fd::OwnedFd) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    let fd = fd.as_raw_fd();
    // SAFETY: fcntl on a descriptor owned by the caller.
    unsafe {
        let fl = libc::fcntl(fd, libc::F_GETFL);
        if fl < 0 || libc::fcntl(fd, libc::F_SETFL, fl | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
        let fd_fl = libc::fcntl(fd, libc::F_GETFD);
        if fd_fl < 0 || libc::fcntl(fd, libc::F_SETFD, fd_fl | libc::FD_CLOEXEC) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

/// Blocks until `sock` is readable, `waker` is woken or `timeout` (`None`:
/// no timeout) runs out.
#[cfg(unix)]
pub(crate) fn wait_readable(
    sock: &impl std::os::fd::AsRawFd,
    waker: &Waker,
    timeout: Option<Duration>,
) -> io::Result<Ready> {
    use std::os::fd::AsRawFd;
    let mut fds = [
        libc::pollfd {
            fd: sock.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
        libc::pollfd {
            fd: waker.rd.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        },
    ];
    let ms = match timeout {
        None => -1,
        // Round up: waking before the deadline would only wait again.
        Some(d) => libc::c_int::try_from(d.as_nanos().div_ceil(1_000_000)).unwrap_or(i32::MAX),
    };
    // SAFETY: two valid pollfd entries.
    let r = unsafe { libc::poll(fds.as_mut_ptr(), 2, ms) };
    if r < 0 {
        let e = io::Error::last_os_error();
        if e.kind() == io::ErrorKind::Interrupted {
            return Ok(Ready::Timeout);
        }
        return Err(e);
    }
    if fds[1].revents != 0 {
        Ok(Ready::Woken)
    } else if fds[0].revents != 0 {
        Ok(Ready::Readable)
    } else {
        Ok(Ready::Timeout)
    }
}

/// Asks the kernel to timestamp every received datagram (`SO_TIMESTAMPNS`,
/// read back by [`BatchRx`]).
#[cfg(target_os = "linux")]
pub(crate) fn enable_rx_timestamps(sock: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket, a pointer to a c_int and its size.
    let _ = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_TIMESTAMPNS,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn enable_rx_timestamps(_sock: &UdpSocket) {}

/// A monotonic timerfd: one thread blocks in [`TimerFd::wait`] until the
/// time [`TimerFd::arm`] set (from any thread) passes.
#[cfg(target_os = "linux")]
pub(crate) struct TimerFd(std::os::fd::OwnedFd);

#[cfg(target_os = "linux")]
impl TimerFd {
    pub(crate) fn new() -> io::Result<TimerFd> {
        use std::os::fd::FromRawFd;
        // SAFETY: creates a descriptor owned from here on.
        let fd = unsafe { libc::timerfd_create(libc::CLOCK_MONOTONIC, libc::TFD_CLOEXEC) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: just created, owned here.
        Ok(TimerFd(unsafe { std::os::fd::OwnedFd::from_raw_fd(fd) }))
    }

    /// Expires `after` from now (`Some(ZERO)`: at once); `None` disarms.
    pub(crate) fn arm(&self, after: Option<Duration>) {
        use std::os::fd::AsRawFd;
        let value = match after {
            None => libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            Some(d) => {
                // Zero would disarm: at once is 1 ns.
                let d = d.max(Duration::from_nanos(1));
                libc::timespec {
                    tv_sec: d.as_secs().min(i64::MAX as u64) as libc::time_t,
                    tv_nsec: d.subsec_nanos() as libc::c_long,
                }
            }
        };
        let spec = libc::itimerspec {
            it_interval: libc::timespec {
                tv_sec: 0,
                tv_nsec: 0,
            },
            it_value: value,
        };
        // SAFETY: a valid timerfd and itimerspec.
        let _ =
            unsafe { libc::timerfd_settime(self.0.as_raw_fd(), 0, &spec, std::ptr::null_mut()) };
    }

    /// Blocks until the armed time passes.
    pub(crate) fn wait(&self) {
        use std::os::fd::AsRawFd;
        let mut n = 0u64;
        // SAFETY: reads the 8-byte expiry count into a u64.
        let _ = unsafe { libc::read(self.0.as_raw_fd(), (&mut n as *mut u64).cast(), 8) };
    }
}

/// Shuts the receive side of `sock` down: a receive blocked on it returns
/// (Linux does this for unconnected UDP sockets too, reporting ENOTCONN).
#[cfg(target_os = "linux")]
pub(crate) fn shutdown_read(sock: &UdpSocket) {
    use std::os::fd::AsRawFd;
    // SAFETY: shutdown on a valid socket descriptor.
    let _ = unsafe { libc::shutdown(sock.as_raw_fd(), libc::SHUT_RD) };
}

/// The wall clock (`CLOCK_REALTIME`, the clock of the kernel's receive
/// timestamps) in nanoseconds.
pub(crate) fn realtime_ns() -> i64 {
    match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_nanos()).unwrap_or(i64::MAX),
        Err(_) => 0,
    }
}

/// Receives up to [`BATCH`] datagrams per call into buffers it owns
/// (allocated once).
#[cfg(target_os = "linux")]
pub(crate) struct BatchRx {
    bufs: Vec<u8>,
    iovs: Vec<libc::iovec>,
    addrs: Vec<libc::sockaddr_storage>,
    cmsgs: Vec<u64>,
    hdrs: Vec<libc::mmsghdr>,
    n: usize,
}

#[cfg(target_os = "linux")]
const CMSG_WORDS: usize = 12; // 96 bytes: SCM_TIMESTAMPNS (32) and UDP_GRO (24)

#[cfg(target_os = "linux")]
const SOL_UDP: libc::c_int = 17;
#[cfg(target_os = "linux")]
const UDP_GRO: libc::c_int = 104;

/// Lets the kernel hand over a run of same-sized datagrams of one flow as
/// one buffer (UDP GRO, Linux 5.0+; NICs coalesce a console's burst of
/// equal chunks); [`BatchRx::get`] reports the segment size and the engine
/// splits it by that size. Where the kernel refuses, datagrams come one by one.
#[cfg(target_os = "linux")]
pub(crate) fn enable_gro(sock: &UdpSocket) {
    use std::os::fd::AsRawFd;
    let on: libc::c_int = 1;
    // SAFETY: a valid socket, a pointer to a c_int and its size.
    let _ = unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            SOL_UDP,
            UDP_GRO,
            (&on as *const libc::c_int).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn enable_gro(_sock: &UdpSocket) {}

#[cfg(target_os = "linux")]
impl BatchRx {
    pub(crate) fn new() -> BatchRx {
        let mut bufs = vec![0u8; BATCH * SLOT];
        // SAFETY: sockaddr_storage is plain data; all zeroes is valid.
        let mut addrs: Vec<libc::sockaddr_storage> =
            (0..BATCH).map(|_| unsafe { std::mem::zeroed() }).collect();
        let mut cmsgs = vec![0u64; BATCH * CMSG_WORDS];
        let mut iovs: Vec<libc::iovec> = (0..BATCH)
            .map(|i| libc::iovec {
                iov_base: bufs[i * SLOT..].as_mut_ptr().cast(),
                iov_len: SLOT,
            })
            .collect();
        let hdrs = (0..BATCH)
            .map(|i| {
                // SAFETY: mmsghdr is plain data; all zeroes is valid.
                let mut h: libc::mmsghdr = unsafe { std::mem::zeroed() };
                h.msg_hdr.msg_name = (&mut addrs[i] as *mut libc::sockaddr_storage).cast();
                h.msg_hdr.msg_iov = &mut iovs[i];
                h.msg_hdr.msg_iovlen = 1;
                h.msg_hdr.msg_control = cmsgs[i * CMSG_WORDS..].as_mut_ptr().cast();
                h
            })
            .collect();
        BatchRx {
            bufs,
            iovs,
            addrs,
            cmsgs,
            hdrs,
            n: 0,
        }
    }

    /// Receives what is queued, without blocking: the number of datagrams
    /// (0 when none was waiting).
    #[allow(dead_code)]
    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        self.recv_flags(sock, libc::MSG_DONTWAIT)
    }

    /// Blocks until a datagram is queued (or [`shutdown_read`]), then takes
    /// it and whatever else is queued (`MSG_WAITFORONE`).
    pub(crate) fn recv_wait(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        self.recv_flags(sock, libc::MSG_WAITFORONE)
    }

    fn recv_flags(&mut self, sock: &UdpSocket, flags: libc::c_int) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        for h in &mut self.hdrs {
            h.msg_hdr.msg_namelen = std::mem::size_of::<libc::sockaddr_storage>() as _;
            h.msg_hdr.msg_controllen = CMSG_WORDS * 8;
            h.msg_len = 0;
        }
        // SAFETY: every header points into buffers owned by `self` (heap
        // allocations that never move), with their lengths.
        let r = unsafe {
            libc::recvmmsg(
                sock.as_raw_fd(),
                self.hdrs.as_mut_ptr(),
                BATCH as libc::c_uint,
                flags,
                std::ptr::null_mut(),
            )
        };
        if r < 0 {
            self.n = 0;
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(0);
            }
            return Err(e);
        }
        let _ = (&self.iovs, &self.cmsgs);
        self.n = r as usize;
        Ok(self.n)
    }

    /// Buffer `i` of the last batch: its bytes, its sender, the kernel's
    /// receive timestamp (ns of `CLOCK_REALTIME`) when given, and the
    /// segment size when the kernel coalesced datagrams (GRO; 0: one
    /// datagram).
    pub(crate) fn get(&self, i: usize) -> (&[u8], Option<SocketAddr>, Option<i64>, usize) {
        let h = &self.hdrs[i];
        let len = (h.msg_len as usize).min(SLOT);
        let data = &self.bufs[i * SLOT..i * SLOT + len];
        let from = sockaddr_to_std(&self.addrs[i], h.msg_hdr.msg_namelen);
        let mut ts = None;
        let mut seg = 0usize;
        // SAFETY: the kernel filled msg_control up to msg_controllen; the
        // CMSG macros walk only inside it.
        unsafe {
            let mut c = libc::CMSG_FIRSTHDR(&h.msg_hdr);
            while !c.is_null() {
                if (*c).cmsg_level == libc::SOL_SOCKET && (*c).cmsg_type == libc::SCM_TIMESTAMPNS {
                    let t: libc::timespec = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    ts = Some(t.tv_sec as i64 * 1_000_000_000 + t.tv_nsec as i64);
                } else if (*c).cmsg_level == SOL_UDP && (*c).cmsg_type == UDP_GRO {
                    let v: libc::c_int = std::ptr::read_unaligned(libc::CMSG_DATA(c).cast());
                    seg = usize::try_from(v).unwrap_or(0);
                }
                c = libc::CMSG_NXTHDR(&h.msg_hdr, c);
            }
        }
        (data, from, ts, seg)
    }
}

#[cfg(target_os = "linux")]
fn sockaddr_to_std(a: &libc::sockaddr_storage, len: libc::socklen_t) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
    match a.ss_family as libc::c_int {
        libc::AF_INET if len as usize >= std::mem::size_of::<libc::sockaddr_in>() => {
            // SAFETY: the family says the storage holds a sockaddr_in.
            let s: &libc::sockaddr_in = unsafe { &*(a as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(s.sin_addr.s_addr)),
                u16::from_be(s.sin_port),
            )))
        }
        libc::AF_INET6 if len as usize >= std::mem::size_of::<libc::sockaddr_in6>() => {
            // SAFETY: the family says the storage holds a sockaddr_in6.
            let s: &libc::sockaddr_in6 = unsafe { &*(a as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(s.sin6_addr.s6_addr),
                u16::from_be(s.sin6_port),
                s.sin6_flowinfo,
                s.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// The plain receive loop where `recvmmsg` is not available: one
/// `recv_from` per batch (the socket is readable when it is called on unix;
/// elsewhere it blocks up to the socket's read timeout).
#[cfg(not(target_os = "linux"))]
pub(crate) struct BatchRx {
    buf: Vec<u8>,
    last: Option<(usize, SocketAddr)>,
}

#[cfg(not(target_os = "linux"))]
impl BatchRx {
    pub(crate) fn new() -> BatchRx {
        BatchRx {
            buf: vec![0u8; SLOT],
            last: None,
        }
    }

    pub(crate) fn recv(&mut self, sock: &UdpSocket) -> io::Result<usize> {
        match sock.recv_from(&mut self.buf) {
            Ok((n, from)) => {
                self.last = Some((n, from));
                Ok(1)
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                self.last = None;
                Ok(0)
            }
            Err(e) => Err(e),
        }
    }

    pub(crate) fn get(&self, _i: usize) -> (&[u8], Option<SocketAddr>, Option<i64>, usize) {
        match self.last {
            Some((n, from)) => (&self.buf[..n], Some(from), None, 0),
            None => (&[], None, None, 0),
        }
    }
}
