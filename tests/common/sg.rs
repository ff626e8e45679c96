//! The simulated SmartGlass console as the SmartGlass tests (the root
//! crate's and the CLI's) start and watch it.

use std::time::{Duration, Instant};

use xnano_proto::crypto::Curve;
use xnano_sim::nano::SimConfig;
use xnano_sim::smartglass::{Host as SgHost, HostEvent as SgHostEvent, SimConfig as SgSimConfig};

/// How long a test waits for the console to report something.
pub const WAIT: Duration = Duration::from_secs(10);

/// A small console on `curve`: 320x240 at 30 fps, quick resends.
pub fn sim_cfg(curve: Curve) -> SgSimConfig {
    SgSimConfig {
        curve,
        nano: SimConfig {
            width: 320,
            height: 240,
            fps: 30,
            bitrate_bps: 1_000_000,
            ..SimConfig::default()
        },
        resend_interval: Duration::from_millis(300),
        ..SgSimConfig::default()
    }
}

/// Waits (up to [`WAIT`]) for the console's first event that `f` accepts.
pub fn sim_event(sim: &SgHost, what: &str, mut f: impl FnMut(&SgHostEvent) -> bool) -> SgHostEvent {
    let rx = sim.events();
    let deadline = Instant::now() + WAIT;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(e) if f(&e) => return e,
            Ok(_) => {}
            Err(_) => panic!("console never reported {what}"),
        }
    }
}
