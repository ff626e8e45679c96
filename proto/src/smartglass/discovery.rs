//! Sans-IO discovery and power-on.
//!
//! Discovery (reference `protocol.discover`): a discovery request is sent to
//! every target (broadcast, multicast and/or a console's address) `tries`
//! times, `interval` apart; every discovery response received until
//! `timeout` becomes a [`ConsoleInfo`] (one per responding address).
//!
//! Power-on (reference `protocol.power_on`): a power-on request carrying the
//! console's Live ID is sent to every target `tries` times, `interval`
//! apart (2 × 100 ms in the reference).

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use crate::smartglass::ConsoleInfo;
use crate::wire::sg::common::{peek_packet_type, ClientType, PacketType};
use crate::wire::sg::simple::{DiscoveryRequest, PowerOnRequest, SimpleBody, SimplePacket};

/// How to discover.
#[derive(Debug, Clone)]
pub struct DiscoveryConfig {
    /// Where requests go (a console's address for unicast; broadcast and
    /// multicast on port 5050 to search the network).
    pub targets: Vec<SocketAddr>,
    /// How many times the request is sent to each target (reference: 5).
    pub tries: u32,
    /// Time between sends (reference: 500 ms).
    pub interval: Duration,
    /// How long responses are collected, from the first send.
    pub timeout: Duration,
    /// Finish as soon as this many consoles answered (e.g. 1 for unicast).
    pub max_consoles: Option<usize>,
    /// The client type announced (reference: Android).
    pub client_type: ClientType,
}

impl DiscoveryConfig {
    /// Unicast discovery of the console at `addr`, finishing at its first
    /// answer.
    pub fn unicast(addr: SocketAddr, timeout: Duration) -> DiscoveryConfig {
        DiscoveryConfig {
            targets: vec![addr],
            max_consoles: Some(1),
            timeout,
            ..DiscoveryConfig::default()
        }
    }

    /// Network-wide discovery: broadcast and multicast on port 5050.
    pub fn network(timeout: Duration) -> DiscoveryConfig {
        DiscoveryConfig {
            timeout,
            ..DiscoveryConfig::default()
        }
    }
}

impl Default for DiscoveryConfig {
    fn default() -> Self {
        DiscoveryConfig {
            targets: default_targets(),
            tries: 5,
            interval: Duration::from_millis(500),
            timeout: Duration::from_secs(5),
            max_consoles: None,
            client_type: ClientType::Android,
        }
    }
}

/// Broadcast and multicast addresses on port 5050.
pub(crate) fn default_targets() -> Vec<SocketAddr> {
    [super::BROADCAST_ADDR, super::MULTICAST_ADDR]
        .iter()
        .map(|a| a.parse().expect("literal address"))
        .collect()
}

/// What discovery reports.
#[derive(Debug, Clone, PartialEq)]
pub enum DiscoveryEvent {
    /// A console answered (once per address).
    Found(ConsoleInfo),
    /// A discovery response could not be used (e.g. a bad certificate).
    Rejected {
        /// Who sent it.
        from: SocketAddr,
        /// Why it was rejected.
        error: String,
    },
    /// The timeout passed (or enough consoles answered); nothing more comes.
    Finished,
}

/// The discovery state machine.
#[derive(Debug)]
pub struct Discovery {
    cfg: DiscoveryConfig,
    request: Vec<u8>,
    deadline: Instant,
    next_send: Option<Instant>,
    rounds_sent: u32,
    transmit: VecDeque<(Vec<u8>, SocketAddr)>,
    events: VecDeque<DiscoveryEvent>,
    consoles: Vec<ConsoleInfo>,
    finished: bool,
}

impl Discovery {
    /// Starts discovering; the first round of requests is queued.
    pub fn new(cfg: DiscoveryConfig, now: Instant) -> Discovery {
        let req = SimplePacket::new(SimpleBody::DiscoveryRequest(DiscoveryRequest {
            flags: 0,
            client_type: cfg.client_type,
            minimum_version: 0,
            maximum_version: 2,
        }));
        let request = req
            .to_bytes(None)
            .expect("a discovery request always encodes");
        let mut d = Discovery {
            deadline: now + cfg.timeout,
            cfg,
            request,
            next_send: Some(now),
            rounds_sent: 0,
            transmit: VecDeque::new(),
            events: VecDeque::new(),
            consoles: Vec::new(),
            finished: false,
        };
        d.handle_timeout(now);
        d
    }

    /// Feeds a datagram received from `from`. Anything but a discovery
    /// response is ignored (our own broadcast may come back).
    pub fn handle_datagram(&mut self, buf: &[u8], from: SocketAddr, now: Instant) {
        if self.finished {
            return;
        }
        if peek_packet_type(buf).ok() != Some(PacketType::DiscoveryResponse) {
            return;
        }
        match SimplePacket::decode(buf, None) {
            Ok(SimplePacket {
                body: SimpleBody::DiscoveryResponse(r),
                ..
            }) => {
                if self.consoles.iter().any(|c| c.address == from) {
                    return;
                }
                let info = ConsoleInfo::from_response(from, &r);
                self.consoles.push(info.clone());
                self.events.push_back(DiscoveryEvent::Found(info));
                if self
                    .cfg
                    .max_consoles
                    .is_some_and(|m| self.consoles.len() >= m)
                {
                    self.finish();
                }
            }
            Ok(_) => {}
            Err(e) => self.events.push_back(DiscoveryEvent::Rejected {
                from,
                error: e.to_string(),
            }),
        }
        self.handle_timeout(now);
    }

    /// Advances time: sends the next round when due, finishes at the timeout.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.finished {
            return;
        }
        if now >= self.deadline {
            self.finish();
            return;
        }
        while let Some(t) = self.next_send {
            if now < t {
                break;
            }
            for a in &self.cfg.targets {
                self.transmit.push_back((self.request.clone(), *a));
            }
            self.rounds_sent += 1;
            self.next_send = (self.rounds_sent < self.cfg.tries).then(|| t + self.cfg.interval);
        }
    }

    fn finish(&mut self) {
        if !self.finished {
            self.finished = true;
            self.next_send = None;
            self.events.push_back(DiscoveryEvent::Finished);
        }
    }

    /// The next datagram to send and where.
    pub fn poll_transmit(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        self.transmit.pop_front()
    }

    /// The next event.
    pub fn poll_event(&mut self) -> Option<DiscoveryEvent> {
        self.events.pop_front()
    }

    /// When [`Discovery::handle_timeout`] should be called next.
    pub fn poll_timeout(&self) -> Option<Instant> {
        if self.finished {
            return None;
        }
        Some(match self.next_send {
            Some(t) => t.min(self.deadline),
            None => self.deadline,
        })
    }

    /// True once the timeout passed (or enough consoles answered).
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The consoles found so far, in order of their first answer.
    pub fn consoles(&self) -> &[ConsoleInfo] {
        &self.consoles
    }

    /// Rounds of requests sent so far.
    pub fn rounds_sent(&self) -> u32 {
        self.rounds_sent
    }
}

/// How to power a console on.
#[derive(Debug, Clone)]
pub struct PowerOnConfig {
    /// The console's Live ID.
    pub live_id: String,
    /// Where requests go.
    pub targets: Vec<SocketAddr>,
    /// How many rounds (reference: 2).
    pub tries: u32,
    /// Time between rounds (reference: 100 ms).
    pub interval: Duration,
}

impl PowerOnConfig {
    /// The reference's behaviour: broadcast, multicast and, when given, the
    /// console's address; 2 rounds 100 ms apart.
    pub fn new(live_id: &str, addr: Option<SocketAddr>) -> PowerOnConfig {
        let mut targets = default_targets();
        targets.extend(addr);
        PowerOnConfig {
            live_id: live_id.to_string(),
            targets,
            tries: 2,
            interval: Duration::from_millis(100),
        }
    }
}

/// The power-on state machine: only sends.
#[derive(Debug)]
pub struct PowerOn {
    cfg: PowerOnConfig,
    request: Vec<u8>,
    next_send: Option<Instant>,
    rounds_sent: u32,
    transmit: VecDeque<(Vec<u8>, SocketAddr)>,
}

impl PowerOn {
    /// Starts; fails when the Live ID cannot be encoded (longer than 65535
    /// bytes).
    pub fn new(cfg: PowerOnConfig, now: Instant) -> Result<PowerOn, crate::wire::WireError> {
        let req = SimplePacket::new(SimpleBody::PowerOnRequest(PowerOnRequest {
            liveid: cfg.live_id.clone(),
        }));
        let request = req.to_bytes(None)?;
        let mut p = PowerOn {
            cfg,
            request,
            next_send: Some(now),
            rounds_sent: 0,
            transmit: VecDeque::new(),
        };
        p.handle_timeout(now);
        Ok(p)
    }

    /// Advances time: queues the next round when due.
    pub fn handle_timeout(&mut self, now: Instant) {
        while let Some(t) = self.next_send {
            if now < t {
                break;
            }
            for a in &self.cfg.targets {
                self.transmit.push_back((self.request.clone(), *a));
            }
            self.rounds_sent += 1;
            self.next_send = (self.rounds_sent < self.cfg.tries).then(|| t + self.cfg.interval);
        }
    }

    /// The next datagram to send and where.
    pub fn poll_transmit(&mut self) -> Option<(Vec<u8>, SocketAddr)> {
        self.transmit.pop_front()
    }

    /// When the next round is due (`None`: all sent).
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_send
    }

    /// True once every round was queued and taken.
    pub fn is_finished(&self) -> bool {
        self.next_send.is_none() && self.transmit.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_on_rounds() {
        let t0 = Instant::now();
        let addr: SocketAddr = "10.0.0.5:5050".parse().unwrap();
        let mut p = PowerOn::new(PowerOnConfig::new("FD00112233FFEE66", Some(addr)), t0).unwrap();
        let first: Vec<_> = std::iter::from_fn(|| p.poll_transmit()).collect();
        assert_eq!(first.len(), 3);
        assert_eq!(first[2].1, addr);
        assert!(!p.is_finished());
        assert_eq!(p.poll_timeout(), Some(t0 + Duration::from_millis(100)));
        p.handle_timeout(t0 + Duration::from_millis(100));
        assert_eq!(std::iter::from_fn(|| p.poll_transmit()).count(), 3);
        assert!(p.is_finished());
        let pkt = SimplePacket::decode(&first[0].0, None).unwrap();
        match pkt.body {
            SimpleBody::PowerOnRequest(r) => assert_eq!(r.liveid, "FD00112233FFEE66"),
            b => panic!("{b:?}"),
        }
        assert_eq!(pkt.header.version, 0);
    }

    #[test]
    fn discovery_rounds_and_timeout() {
        let t0 = Instant::now();
        let mut d = Discovery::new(DiscoveryConfig::network(Duration::from_secs(3)), t0);
        assert_eq!(std::iter::from_fn(|| d.poll_transmit()).count(), 2);
        for i in 1..10u64 {
            d.handle_timeout(t0 + Duration::from_millis(500 * i));
        }
        assert_eq!(d.rounds_sent(), 5);
        assert!(d.is_finished());
        assert_eq!(d.poll_event(), Some(DiscoveryEvent::Finished));
        assert_eq!(d.poll_timeout(), None);
    }
}
