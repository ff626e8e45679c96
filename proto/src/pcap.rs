//! A small capture-file reader for tests and tools: classic pcap (either
//! byte order, micro- or nanosecond timestamps) and pcapng (section header,
//! interface description, enhanced and simple packet blocks).
//!
//! Link types: Ethernet (with 802.1Q tags), raw IP, BSD loopback, Linux
//! SLL and SLL2. Network: IPv4 (unfragmented) and IPv6 (skipping extension
//! headers). Transport: UDP and TCP. Frames that are anything else are
//! skipped. Garbage gives an error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use crate::wire::WireError;

const P: &str = "pcap";

/// Transport protocol of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// UDP.
    Udp,
    /// TCP.
    Tcp,
}

/// One UDP datagram or TCP segment from a capture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PcapRecord {
    /// Capture time since the Unix epoch.
    pub timestamp: Duration,
    /// Source address.
    pub src: SocketAddr,
    /// Destination address.
    pub dst: SocketAddr,
    /// Transport protocol.
    pub transport: Transport,
    /// Transport payload.
    pub payload: Vec<u8>,
}

fn err(field: &'static str, reason: &str) -> WireError {
    WireError::invalid(P, field, reason.to_string())
}

#[derive(Clone, Copy)]
struct Cur<'a> {
    b: &'a [u8],
    le: bool,
}

impl<'a> Cur<'a> {
    fn slice(&self, at: usize, n: usize, field: &'static str) -> Result<&'a [u8], WireError> {
        at.checked_add(n)
            .and_then(|e| self.b.get(at..e))
            .ok_or(WireError::Truncated {
                packet: P,
                field,
                need: n,
                have: self.b.len().saturating_sub(at),
            })
    }
    fn u16(&self, at: usize, field: &'static str) -> Result<u16, WireError> {
        let s = self.slice(at, 2, field)?;
        let a = [s[0], s[1]];
        Ok(if self.le {
            u16::from_le_bytes(a)
        } else {
            u16::from_be_bytes(a)
        })
    }
    fn u32(&self, at: usize, field: &'static str) -> Result<u32, WireError> {
        let s = self.slice(at, 4, field)?;
        let a = [s[0], s[1], s[2], s[3]];
        Ok(if self.le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    }
}

/// Reads every UDP/TCP record of a pcap or pcapng file.
pub fn read(buf: &[u8]) -> Result<Vec<PcapRecord>, WireError> {
    if buf.len() < 4 {
        return Err(err("magic", "file too short"));
    }
    match &buf[..4] {
        [0xd4, 0xc3, 0xb2, 0xa1] => classic(buf, true, 1_000),
        [0xa1, 0xb2, 0xc3, 0xd4] => classic(buf, false, 1_000),
        [0x4d, 0x3c, 0xb2, 0xa1] => classic(buf, true, 1),
        [0xa1, 0xb2, 0x3c, 0x4d] => classic(buf, false, 1),
        [0x0a, 0x0d, 0x0d, 0x0a] => pcapng(buf),
        _ => Err(err("magic", "not a pcap or pcapng file")),
    }
}

fn classic(buf: &[u8], le: bool, ns_per_unit: u64) -> Result<Vec<PcapRecord>, WireError> {
    let c = Cur { b: buf, le };
    let linktype = c.u32(20, "network")?;
    let mut out = Vec::new();
    let mut at = 24;
    while at < buf.len() {
        let sec = c.u32(at, "ts_sec")? as u64;
        let frac = c.u32(at + 4, "ts_frac")? as u64;
        let incl = c.u32(at + 8, "incl_len")? as usize;
        let data = c.slice(at + 16, incl, "packet data")?;
        let ts = Duration::from_secs(sec) + Duration::from_nanos(frac.saturating_mul(ns_per_unit));
        if let Some(r) = frame(linktype, data, ts) {
            out.push(r);
        }
        at = at + 16 + incl;
    }
    Ok(out)
}

fn pcapng(buf: &[u8]) -> Result<Vec<PcapRecord>, WireError> {
    let mut out = Vec::new();
    let mut at = 0usize;
    let mut le = true;
    // (linktype, ns per timestamp unit)
    let mut ifaces: Vec<(u32, u64)> = Vec::new();
    while at < buf.len() {
        let raw_type = Cur { b: buf, le: true }.u32(at, "block type")?;
        if raw_type == 0x0A0D_0D0A {
            let bom = Cur { b: buf, le: true }.u32(at + 8, "byte-order magic")?;
            le = match bom {
                0x1A2B_3C4D => true,
                0x4D3C_2B1A => false,
                _ => return Err(err("byte-order magic", "bad section header")),
            };
            ifaces.clear();
        }
        let c = Cur { b: buf, le };
        let btype = c.u32(at, "block type")?;
        let blen = c.u32(at + 4, "block length")? as usize;
        if blen < 12 || !blen.is_multiple_of(4) {
            return Err(err("block length", "invalid"));
        }
        let body = c.slice(at + 8, blen - 12, "block body")?;
        let b = Cur { b: body, le };
        match btype {
            1 => {
                let lt = b.u16(0, "linktype")? as u32;
                let mut unit = 1_000u64;
                // options: code u16, len u16, value padded to 4
                let mut o = 8;
                while o + 4 <= body.len() {
                    let code = b.u16(o, "option code")?;
                    let len = b.u16(o + 2, "option length")? as usize;
                    if code == 0 {
                        break;
                    }
                    if code == 9 && len >= 1 {
                        let v = b.slice(o + 4, 1, "if_tsresol")?[0];
                        let exp = (v & 0x7f) as u32;
                        unit = if v & 0x80 == 0 {
                            10u64
                                .checked_pow(9u32.saturating_sub(exp))
                                .filter(|_| exp <= 9)
                                .unwrap_or(1)
                        } else {
                            2u64.checked_pow(30u32.saturating_sub(exp))
                                .filter(|_| exp <= 30)
                                .unwrap_or(1)
                        };
                    }
                    o += 4 + len.div_ceil(4) * 4;
                }
                ifaces.push((lt, unit));
            }
            6 => {
                let iface = b.u32(0, "interface id")? as usize;
                let (lt, unit) = *ifaces
                    .get(iface)
                    .ok_or_else(|| err("interface id", "no such interface"))?;
                let ts = ((b.u32(4, "ts high")? as u64) << 32) | b.u32(8, "ts low")? as u64;
                let cap = b.u32(12, "captured length")? as usize;
                let data = b.slice(20, cap, "packet data")?;
                let nanos = (ts as u128) * (unit as u128);
                let ts = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
                if let Some(r) = frame(lt, data, ts) {
                    out.push(r);
                }
            }
            3 => {
                let (lt, _) = *ifaces
                    .first()
                    .ok_or_else(|| err("interface id", "no interface"))?;
                let orig = b.u32(0, "original length")? as usize;
                let data = b.slice(4, orig.min(body.len().saturating_sub(4)), "packet data")?;
                if let Some(r) = frame(lt, data, Duration::ZERO) {
                    out.push(r);
                }
            }
            _ => {}
        }
        at += blen;
    }
    Ok(out)
}

/// Decodes one link-layer frame down to UDP/TCP; `None` for anything else.
fn frame(linktype: u32, d: &[u8], ts: Duration) -> Option<PcapRecord> {
    let (ethertype, rest) = match linktype {
        1 => {
            let mut et = u16::from_be_bytes([*d.get(12)?, *d.get(13)?]);
            let mut off = 14;
            while et == 0x8100 || et == 0x88a8 {
                et = u16::from_be_bytes([*d.get(off + 2)?, *d.get(off + 3)?]);
                off += 4;
            }
            (et, d.get(off..)?)
        }
        101 | 12 | 14 => (ip_version_ethertype(d)?, d),
        228 => (0x0800, d),
        229 => (0x86dd, d),
        0 => {
            // BSD loopback: 4-byte address family in host order.
            (ip_version_ethertype(d.get(4..)?)?, d.get(4..)?)
        }
        113 => (u16::from_be_bytes([*d.get(14)?, *d.get(15)?]), d.get(16..)?),
        276 => (u16::from_be_bytes([*d.first()?, *d.get(1)?]), d.get(20..)?),
        _ => return None,
    };
    match ethertype {
        0x0800 => ipv4(rest, ts),
        0x86dd => ipv6(rest, ts),
        _ => None,
    }
}

fn ip_version_ethertype(d: &[u8]) -> Option<u16> {
    match d.first()? >> 4 {
        4 => Some(0x0800),
        6 => Some(0x86dd),
        _ => None,
    }
}

fn ipv4(d: &[u8], ts: Duration) -> Option<PcapRecord> {
    let ihl = ((*d.first()? & 0x0f) as usize) * 4;
    if *d.first()? >> 4 != 4 || ihl < 20 {
        return None;
    }
    let total = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]) as usize;
    let frag = u16::from_be_bytes([*d.get(6)?, *d.get(7)?]);
    if frag & 0x3fff != 0 {
        return None; // fragmented
    }
    let proto = *d.get(9)?;
    let a = d.get(12..20)?;
    let src = IpAddr::V4(Ipv4Addr::new(a[0], a[1], a[2], a[3]));
    let dst = IpAddr::V4(Ipv4Addr::new(a[4], a[5], a[6], a[7]));
    let end = total.min(d.len());
    transport(proto, d.get(ihl..end)?, src, dst, ts)
}

fn ipv6(d: &[u8], ts: Duration) -> Option<PcapRecord> {
    if *d.first()? >> 4 != 6 || d.len() < 40 {
        return None;
    }
    let plen = u16::from_be_bytes([d[4], d[5]]) as usize;
    let mut next = d[6];
    let mut s = [0u8; 16];
    s.copy_from_slice(&d[8..24]);
    let mut t = [0u8; 16];
    t.copy_from_slice(&d[24..40]);
    let end = (40 + plen).min(d.len());
    let mut body = d.get(40..end)?;
    loop {
        match next {
            0 | 43 | 60 => {
                let len = (*body.get(1)? as usize + 1) * 8;
                next = *body.first()?;
                body = body.get(len..)?;
            }
            44 => return None, // fragment
            _ => break,
        }
    }
    transport(
        next,
        body,
        IpAddr::V6(Ipv6Addr::from(s)),
        IpAddr::V6(Ipv6Addr::from(t)),
        ts,
    )
}

fn transport(proto: u8, d: &[u8], src: IpAddr, dst: IpAddr, ts: Duration) -> Option<PcapRecord> {
    let sp = u16::from_be_bytes([*d.first()?, *d.get(1)?]);
    let dp = u16::from_be_bytes([*d.get(2)?, *d.get(3)?]);
    let (transport, payload) = match proto {
        17 => {
            let len = u16::from_be_bytes([*d.get(4)?, *d.get(5)?]) as usize;
            if len < 8 {
                return None;
            }
            (Transport::Udp, d.get(8..len.min(d.len()))?)
        }
        6 => {
            let off = ((*d.get(12)? >> 4) as usize) * 4;
            if off < 20 {
                return None;
            }
            (Transport::Tcp, d.get(off..)?)
        }
        _ => return None,
    };
    Some(PcapRecord {
        timestamp: ts,
        src: SocketAddr::new(src, sp),
        dst: SocketAddr::new(dst, dp),
        transport,
        payload: payload.to_vec(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eth_udp_v4(payload: &[u8]) -> Vec<u8> {
        let mut f = vec![0u8; 12];
        f.extend_from_slice(&[0x08, 0x00]);
        let total = 20 + 8 + payload.len();
        f.extend_from_slice(&[
            0x45,
            0,
            (total >> 8) as u8,
            total as u8,
            0,
            0,
            0x40,
            0,
            64,
            17,
            0,
            0,
        ]);
        f.extend_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
        let ul = 8 + payload.len();
        f.extend_from_slice(&[0x13, 0xba, 0x13, 0xba, (ul >> 8) as u8, ul as u8, 0, 0]);
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn classic_and_pcapng_synthetic() {
        let frame = eth_udp_v4(b"hello");
        let mut c = vec![0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0];
        c.extend_from_slice(&[0; 8]);
        c.extend_from_slice(&65535u32.to_le_bytes());
        c.extend_from_slice(&1u32.to_le_bytes());
        c.extend_from_slice(&5u32.to_le_bytes());
        c.extend_from_slice(&7u32.to_le_bytes());
        c.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        c.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        c.extend_from_slice(&frame);
        let r = read(&c).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].payload, b"hello");
        assert_eq!(r[0].src, "10.0.0.1:5050".parse().unwrap());
        assert_eq!(r[0].timestamp, Duration::new(5, 7000));

        let mut ng = Vec::new();
        let block = |t: u32, body: &[u8]| {
            let mut b = Vec::new();
            let pad = body.len().div_ceil(4) * 4;
            let len = (12 + pad) as u32;
            b.extend_from_slice(&t.to_le_bytes());
            b.extend_from_slice(&len.to_le_bytes());
            b.extend_from_slice(body);
            b.resize(8 + pad, 0);
            b.extend_from_slice(&len.to_le_bytes());
            b
        };
        let mut shb = 0x1A2B3C4Du32.to_le_bytes().to_vec();
        shb.extend_from_slice(&[1, 0, 0, 0]);
        shb.extend_from_slice(&u64::MAX.to_le_bytes());
        ng.extend(block(0x0A0D0D0A, &shb));
        let mut idb = 1u16.to_le_bytes().to_vec();
        idb.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
        ng.extend(block(1, &idb));
        let mut epb = 0u32.to_le_bytes().to_vec();
        epb.extend_from_slice(&0u32.to_le_bytes());
        epb.extend_from_slice(&1_000_000u32.to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        epb.extend_from_slice(&frame);
        ng.extend(block(6, &epb));
        let r = read(&ng).unwrap();
        assert_eq!(r.len(), 1);
        assert_eq!(r[0].payload, b"hello");
        assert_eq!(r[0].timestamp, Duration::from_secs(1));

        for n in 0..c.len() {
            let _ = read(&c[..n]);
        }
        for n in 0..ng.len() {
            let _ = read(&ng[..n]);
        }
    }
}
