//! The xnano command-line tool: packet dissector, simulated console and
//! streaming client.

use std::fs;
use std::io::Write;
use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use parking_lot::Mutex;

use xnano::nano::{Client, ClientConfig, ClientEvent, ControllerState, StreamStats};
use xnano::smartglass;
use xnano_proto::dissect;

#[derive(Parser)]
#[command(
    name = "xnano",
    version,
    about = "Xbox One SmartGlass + Nano gamestreaming client core"
)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Decode one packet file (or, with --tcp, a length-prefixed stream) as JSON.
    Decode {
        /// How to read a Nano streamer payload.
        #[arg(long, value_parser = ["video", "audio", "chat-audio", "control", "input", "input-feedback"])]
        channel: Option<String>,
        /// The file holds Nano TCP framing (uint32 LE length before every packet).
        #[arg(long)]
        tcp: bool,
        /// SmartGlass session secret (64 bytes, hex) to decrypt with.
        #[arg(long)]
        secret: Option<String>,
        /// The packet file.
        file: PathBuf,
    },
    /// Decode every SmartGlass and Nano packet of a pcap / pcapng file, one JSON object per line.
    Pcap {
        /// SmartGlass session secret (64 bytes, hex) to decrypt with.
        #[arg(long)]
        secret: Option<String>,
        /// The capture file.
        file: PathBuf,
    },
    /// Stream and record what arrives: from a console over SmartGlass
    /// (--console: connect, start the gamestream, stream) or straight from a
    /// Nano host (--nano).
    Stream(StreamArgs),
    /// Find consoles: a unicast request to --addr, else broadcast and
    /// multicast on port 5050.
    Discover {
        /// A console's address (HOST[:PORT], port 5050 by default).
        #[arg(long)]
        addr: Option<String>,
        /// How long to wait for answers (milliseconds).
        #[arg(long, default_value_t = 3000)]
        timeout: u64,
        /// One JSON object per console instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Wake a console by Live ID (broadcast, multicast and --addr).
    PowerOn {
        /// The console's Live ID (see `xnano discover`).
        #[arg(long)]
        live_id: String,
        /// The console's address (HOST[:PORT]), tried as well.
        #[arg(long)]
        addr: Option<String>,
        /// Only send to --addr (no broadcast / multicast).
        #[arg(long)]
        unicast: bool,
        /// Rounds of requests.
        #[arg(long, default_value_t = 2)]
        tries: u32,
    },
    /// Run the simulated console until Ctrl-C: a SmartGlass console on
    /// --sg-port (whose gamestreams start their own Nano host) plus a Nano
    /// host on --tcp-port/--udp-port for direct `xnano stream --nano`.
    Sim(SimArgs),
    /// The whole path against the built-in simulated console: discovery,
    /// encrypted connect, gamestream start, Nano streaming with controller
    /// input and rumble; writes demo.h264, demo.wav and demo.png.
    Demo(DemoArgs),
}

#[derive(clap::Args)]
struct DemoArgs {
    /// How long to stream, seconds.
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Where to write demo.h264, demo.wav, demo.png and demo-stats.json.
    #[arg(long, default_value = ".")]
    out_dir: PathBuf,
    /// The simulated console's key curve (p256, p384, p521).
    #[arg(long, default_value = "p256", value_parser = parse_curve)]
    curve: xnano_proto::crypto::Curve,
}

#[derive(clap::Args)]
struct StreamArgs {
    /// The console as HOST[:PORT] (SmartGlass port, 5050 by default).
    #[arg(long, conflicts_with = "nano", required_unless_present = "nano")]
    console: Option<String>,
    /// A Nano host as HOST:TCP_PORT:UDP_PORT (no SmartGlass).
    #[arg(long)]
    nano: Option<String>,
    /// Xbox Live user hash (with --auth-token; anonymous when absent).
    #[arg(long, requires = "auth_token")]
    userhash: Option<String>,
    /// Xbox Live XSTS token (with --userhash).
    #[arg(long, requires = "userhash")]
    auth_token: Option<String>,
    /// A StartGameStream configuration value, KEY=VALUE (repeatable), e.g.
    /// videoMaximumWidth=1920. Unknown keys are sent as given.
    #[arg(long = "gs", value_name = "KEY=VALUE")]
    gamestream: Vec<String>,
    /// How long to wait for the console (connect, channels, stream start), seconds.
    #[arg(long, default_value_t = 15.0)]
    connect_timeout: f64,
    #[command(flatten)]
    out: StreamOutput,
}

/// What `xnano stream` records; shared by both stream paths.
#[derive(clap::Args)]
struct StreamOutput {
    /// How long to stream (seconds); until Ctrl-C when absent.
    #[arg(long)]
    seconds: Option<f64>,
    /// Write the complete frames, in delivery order, as a raw H.264 stream.
    #[arg(long)]
    video_out: Option<PathBuf>,
    /// Write the audio packets (raw, as received).
    #[arg(long)]
    audio_out: Option<PathBuf>,
    /// Write the final statistics as JSON.
    #[arg(long)]
    stats_json: Option<PathBuf>,
    /// Press and release A every second (exercises input and rumble).
    #[arg(long)]
    input_demo: bool,
    /// Stop once this many frames were delivered and (with --input-demo)
    /// an input frame was acknowledged; --seconds stays the upper bound.
    #[arg(long)]
    until_frames: Option<u64>,
}

#[derive(clap::Args)]
struct SimArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: std::net::IpAddr,
    /// Nano TCP control port (0: any free port).
    #[arg(long, default_value_t = 0)]
    tcp_port: u16,
    /// Nano UDP data port (0: any free port).
    #[arg(long, default_value_t = 0)]
    udp_port: u16,
    /// Video width.
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Video height.
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Frames per second.
    #[arg(long, default_value_t = 60)]
    fps: u32,
    /// H.264 target bitrate (bits per second).
    #[arg(long, default_value_t = 8_000_000)]
    bitrate: u32,
    /// Percentage of video/audio datagrams dropped.
    #[arg(long, default_value_t = 0.0)]
    loss: f64,
    /// Percentage of datagrams reordered.
    #[arg(long, default_value_t = 0.0)]
    reorder: f64,
    /// Percentage of datagrams duplicated.
    #[arg(long, default_value_t = 0.0)]
    duplicate: f64,
    /// Seed of the impairment.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Stop after this many seconds (default: until Ctrl-C).
    #[arg(long)]
    seconds: Option<f64>,
    /// SmartGlass UDP port (0: any free port).
    #[arg(long, default_value_t = 5050)]
    sg_port: u16,
    /// Do not answer SmartGlass (direct Nano host only).
    #[arg(long)]
    no_sg: bool,
    /// Console name announced in discovery responses.
    #[arg(long, default_value = "XboxOne")]
    name: String,
    /// Curve of the console key: p256, p384 or p521.
    #[arg(long, default_value = "p256", value_parser = parse_curve)]
    curve: xnano_proto::crypto::Curve,
    /// Live ID (certificate common name; default: random FD00...).
    #[arg(long)]
    live_id: Option<String>,
    /// Nano TCP port of gamestreams started over SmartGlass (0: any free port).
    #[arg(long, default_value_t = 0)]
    stream_tcp_port: u16,
    /// Nano UDP port of gamestreams started over SmartGlass (0: any free port).
    #[arg(long, default_value_t = 0)]
    stream_udp_port: u16,
    /// Restart the video frame ids at every N-th keyframe, as an encoder
    /// restart does (0: never).
    #[arg(long, default_value_t = 0)]
    restart_ids_every: u32,
    /// Vary the flags between a frame's chunks (keyframe bit on the first only).
    #[arg(long)]
    vary_chunk_flags: bool,
    /// Go silent on UDP for SECS seconds, AT seconds into the session
    /// (TCP stays up), as AT:SECS.
    #[arg(long, value_parser = parse_silence)]
    udp_silence: Option<(f64, f64)>,
    /// Grow keyframes to at least this many bytes with H.264 filler NAL units
    /// (a real console's keyframes are 50-150 KB).
    #[arg(long, default_value_t = 0)]
    pad_keyframes_to: usize,
    /// Grow other frames to at least this many bytes the same way.
    #[arg(long, default_value_t = 0)]
    pad_frames_to: usize,
    /// Pace UDP sending at this many bits per second instead of bursting each
    /// frame (0: burst).
    #[arg(long, default_value_t = 0)]
    pace_bps: u64,
    /// The SmartGlass console sends its own heartbeats (empty need-ack
    /// acknowledgements) every this many milliseconds (0: never).
    #[arg(long, default_value_t = 0)]
    sg_heartbeat_ms: u64,
    /// Gamestreams started over SmartGlass pace their UDP at the rate the
    /// client's StartGameStream asks for (urcpFixedRate, else
    /// urcpMaximumRate), unless --pace-bps is given.
    #[arg(long)]
    pace_from_gamestream: bool,
    /// Do not start ChatAudio with an AudioControl after the console's
    /// ChatAudio handshake (a real console sends one).
    #[arg(long)]
    no_chat_audio_control: bool,
}

fn parse_silence(s: &str) -> Result<(f64, f64), String> {
    let (a, b) = s.split_once(':').ok_or("expected AT:SECS, e.g. 5:8")?;
    let at: f64 = a.parse().map_err(|e| format!("AT: {e}"))?;
    let secs: f64 = b.parse().map_err(|e| format!("SECS: {e}"))?;
    if !(at >= 0.0 && secs >= 0.0 && at.is_finite() && secs.is_finite()) {
        return Err("AT and SECS must be non-negative seconds".into());
    }
    Ok((at, secs))
}

fn parse_curve(s: &str) -> Result<xnano_proto::crypto::Curve, String> {
    use xnano_proto::crypto::Curve;
    match s.to_ascii_lowercase().replace('-', "").as_str() {
        "p256" => Ok(Curve::P256),
        "p384" => Ok(Curve::P384),
        "p521" => Ok(Curve::P521),
        _ => Err(format!("unknown curve {s:?} (p256, p384 or p521)")),
    }
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("warn")).init();
    let cli = Cli::parse();
    let r = match cli.cmd {
        Cmd::Decode {
            channel,
            tcp,
            secret,
            file,
        } => cmd_decode(channel, tcp, secret, file),
        Cmd::Pcap { secret, file } => cmd_pcap(secret, file),
        Cmd::Stream(a) => cmd_stream(a),
        Cmd::Discover {
            addr,
            timeout,
            json,
        } => cmd_discover(addr, timeout, json),
        Cmd::PowerOn {
            live_id,
            addr,
            unicast,
            tries,
        } => cmd_power_on(live_id, addr, unicast, tries),
        Cmd::Sim(a) => cmd_sim(a),
        Cmd::Demo(a) => cmd_demo(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xnano: {e}");
            ExitCode::FAILURE
        }
    }
}

fn crypto_arg(secret: Option<String>) -> Result<Option<xnano_proto::crypto::Crypto>, String> {
    secret.map(|s| dissect::parse_secret(&s)).transpose()
}

fn print_json(v: &serde_json::Value) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer(&mut out, v).map_err(|e| e.to_string())?;
    writeln!(out).map_err(|e| e.to_string())
}

fn cmd_decode(
    channel: Option<String>,
    tcp: bool,
    secret: Option<String>,
    file: PathBuf,
) -> Result<(), String> {
    let data = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let crypto = crypto_arg(secret)?;
    let channel = channel.map(|c| dissect::parse_channel(&c)).transpose()?;
    for v in dissect::decode_file(&data, channel, tcp, crypto.as_ref()) {
        print_json(&v)?;
    }
    Ok(())
}

fn cmd_pcap(secret: Option<String>, file: PathBuf) -> Result<(), String> {
    let data = fs::read(&file).map_err(|e| format!("{}: {e}", file.display()))?;
    let crypto = crypto_arg(secret)?;
    let values = dissect::decode_pcap(&data, crypto.as_ref()).map_err(|e| e.to_string())?;
    for v in values {
        print_json(&v)?;
    }
    Ok(())
}

fn parse_nano_target(s: &str) -> Result<(SocketAddr, SocketAddr), String> {
    let (host_tcp, udp) = s
        .rsplit_once(':')
        .ok_or("--nano wants HOST:TCP_PORT:UDP_PORT")?;
    let udp: u16 = udp.parse().map_err(|_| "bad UDP port")?;
    let tcp = host_tcp
        .to_socket_addrs()
        .map_err(|e| format!("{host_tcp}: {e}"))?
        .next()
        .ok_or("host did not resolve")?;
    Ok((tcp, SocketAddr::new(tcp.ip(), udp)))
}

/// Resolves HOST[:PORT] with a default port.
fn resolve(s: &str) -> Result<SocketAddr, String> {
    xnano::smartglass::resolve_addr(s).map_err(|e| e.to_string())
}

fn cmd_discover(addr: Option<String>, timeout_ms: u64, json: bool) -> Result<(), String> {
    use xnano::smartglass::{self, DiscoveryConfig};
    let timeout = Duration::from_millis(timeout_ms);
    let cfg = match &addr {
        Some(a) => DiscoveryConfig::unicast(resolve(a)?, timeout),
        None => DiscoveryConfig::network(timeout),
    };
    if !json {
        println!(
            "{:<22} {:<16} {:<18} {:<10} {:<36} FLAGS",
            "ADDRESS", "NAME", "LIVE ID", "CURVE", "UUID"
        );
    }
    let mut err = None;
    let found = smartglass::discover_with(cfg, |c| {
        let r = if json {
            serde_json::to_value(c)
                .map_err(|e| e.to_string())
                .and_then(|v| print_json(&v))
        } else {
            println!(
                "{:<22} {:<16} {:<18} {:<10} {:<36} {}",
                c.address.to_string(),
                c.name,
                c.live_id,
                xnano::smartglass::curve_name(c.curve),
                xnano_proto::wire::sg::common::guid_text(&c.uuid),
                c.flags.name()
            );
            Ok(())
        };
        if let Err(e) = r {
            err.get_or_insert(e);
        }
        let _ = std::io::stdout().flush();
    })
    .map_err(|e| format!("discovery: {e}"))?;
    if let Some(e) = err {
        return Err(e);
    }
    eprintln!("{} console(s) found", found.len());
    Ok(())
}

fn cmd_power_on(
    live_id: String,
    addr: Option<String>,
    unicast: bool,
    tries: u32,
) -> Result<(), String> {
    use xnano::smartglass::{self, PowerOnConfig};
    let addr = addr.map(|a| resolve(&a)).transpose()?;
    let mut cfg = PowerOnConfig::new(&live_id, addr);
    if unicast {
        cfg.targets = addr.into_iter().collect();
        if cfg.targets.is_empty() {
            return Err("--unicast needs --addr".into());
        }
    }
    cfg.tries = tries.max(1);
    let targets = cfg.targets.clone();
    smartglass::power_on_with(cfg).map_err(|e| format!("power-on: {e}"))?;
    eprintln!(
        "power-on for {live_id} sent {} time(s) to {}",
        tries.max(1),
        targets
            .iter()
            .map(|t| t.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}

/// A running stream, whichever way it was started.
trait RunningStream {
    /// The stream ended.
    fn is_closed(&self) -> bool;
    /// Why the stream ended, if the stream itself knows better than the
    /// Nano session (e.g. the console session ended).
    fn close_reason(&self) -> Option<String>;
    /// Sets controller 0.
    fn set_controller_state(&self, st: ControllerState);
    /// Statistics so far.
    fn stats(&self) -> Option<StreamStats>;
    /// Stops everything; the final statistics.
    fn finish(self: Box<Self>) -> Result<StreamStats, String>;
}

impl RunningStream for Client {
    fn is_closed(&self) -> bool {
        Client::is_closed(self)
    }
    fn close_reason(&self) -> Option<String> {
        None
    }
    fn set_controller_state(&self, st: ControllerState) {
        let _ = Client::set_controller_state(self, 0, st);
    }
    fn stats(&self) -> Option<StreamStats> {
        Some(Client::stats(self))
    }
    fn finish(self: Box<Self>) -> Result<StreamStats, String> {
        self.stop().map_err(|e| e.to_string())
    }
}

struct ConsoleStream(smartglass::Client);

impl RunningStream for ConsoleStream {
    fn is_closed(&self) -> bool {
        self.0.is_closed() || !self.0.stream_connected()
    }
    fn close_reason(&self) -> Option<String> {
        self.0.close_reason().map(|r| format!("smartglass: {r}"))
    }
    fn set_controller_state(&self, st: ControllerState) {
        let _ = self.0.with_nano(|c| c.set_controller_state(0, st));
    }
    fn stats(&self) -> Option<StreamStats> {
        self.0.with_nano(|c| c.stats())
    }
    fn finish(self: Box<Self>) -> Result<StreamStats, String> {
        let last = self.stats();
        let st = self.0.stop_gamestream().map_err(|e| e.to_string())?;
        self.0.disconnect().map_err(|e| e.to_string())?;
        st.or(last).ok_or_else(|| "no stream ran".to_string())
    }
}

type Sink = Arc<Mutex<Option<std::io::BufWriter<fs::File>>>>;

/// Writes what a stream delivers and reports progress.
struct Recorder {
    video: Sink,
    audio: Sink,
    closed: Arc<Mutex<Option<String>>>,
    /// When set, every frame is also kept (for the demo's decode check).
    keep: Option<Arc<Mutex<Kept>>>,
}

/// What the demo keeps in memory besides the files.
#[derive(Default)]
struct Kept {
    frames: Vec<Vec<u8>>,
    audio: Vec<Vec<u8>>,
    audio_format: Option<xnano_proto::wire::nano::audio::AudioFormat>,
    rumble: u64,
}

impl Recorder {
    fn new(out: &StreamOutput) -> Result<Recorder, String> {
        let open = |p: &Option<PathBuf>| -> Result<Sink, String> {
            let f = p
                .as_ref()
                .map(|p| fs::File::create(p).map_err(|e| format!("{}: {e}", p.display())))
                .transpose()?;
            Ok(Arc::new(Mutex::new(f.map(std::io::BufWriter::new))))
        };
        Ok(Recorder {
            video: open(&out.video_out)?,
            audio: open(&out.audio_out)?,
            closed: Arc::new(Mutex::new(None)),
            keep: None,
        })
    }

    /// The Nano event handler writing into the recorder.
    fn handler(&self) -> xnano::nano::EventHandler {
        let (v2, a2, c2) = (self.video.clone(), self.audio.clone(), self.closed.clone());
        let keep = self.keep.clone();
        Box::new(move |e: &ClientEvent| match e {
            ClientEvent::VideoFrame(f) => {
                if let Some(w) = v2.lock().as_mut() {
                    let _ = w.write_all(&f.data);
                }
                if let Some(k) = &keep {
                    k.lock().frames.push(f.data.clone());
                }
            }
            ClientEvent::Audio(p) => {
                if let Some(w) = a2.lock().as_mut() {
                    let _ = w.write_all(&p.data);
                }
                if let Some(k) = &keep {
                    k.lock().audio.push(p.data.clone());
                }
            }
            ClientEvent::Rumble(_) => {
                if let Some(k) = &keep {
                    k.lock().rumble += 1;
                }
            }
            ClientEvent::VideoFormat(f) => {
                log::info!(
                    "video: {}x{} @ {} fps, {}",
                    f.width,
                    f.height,
                    f.fps,
                    f.codec.name()
                )
            }
            ClientEvent::AudioFormat(f) => {
                log::info!(
                    "audio: {} ch, {} Hz, {}",
                    f.channels,
                    f.sample_rate,
                    f.codec.name()
                );
                if let Some(k) = &keep {
                    k.lock().audio_format = Some(f.clone());
                }
            }
            ClientEvent::Closed(r) => *c2.lock() = Some(r.to_string()),
            _ => {}
        })
    }

    /// Streams until the time is up, Ctrl-C or the stream ends; then stops
    /// it and writes the statistics.
    fn run(&self, out: &StreamOutput, stream: Box<dyn RunningStream>) -> Result<(), String> {
        let stop = Arc::new(AtomicBool::new(false));
        {
            let stop = stop.clone();
            let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
        }
        let start = Instant::now();
        let deadline = out
            .seconds
            .map(|s| start + Duration::from_secs_f64(s.max(0.0)));
        let mut pressed = false;
        let mut last_toggle = start;
        // Live progress on a terminal (hidden when stderr is not one).
        let bar = match out.seconds {
            Some(s) => indicatif::ProgressBar::new((s.max(0.0) * 10.0) as u64),
            None => indicatif::ProgressBar::new_spinner(),
        };
        bar.set_style(
            indicatif::ProgressStyle::with_template(
                "{spinner} [{elapsed_precise}] {wide_bar} {msg}",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        let mut last_print = start;
        while !stop.load(Ordering::SeqCst) && !stream.is_closed() {
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if let (Some(n), Some(s)) = (out.until_frames, stream.stats()) {
                if s.frames_delivered >= n && (!out.input_demo || s.input_frames_acked > 0) {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(20));
            if out.input_demo && last_toggle.elapsed() >= Duration::from_millis(500) {
                last_toggle = Instant::now();
                pressed = !pressed;
                stream.set_controller_state(ControllerState {
                    buttons: if pressed { xnano::nano::buttons::A } else { 0 },
                    right_trigger: if pressed { 255 } else { 0 },
                    left_trigger: if pressed { 0 } else { 128 },
                    ..Default::default()
                });
            }
            if last_print.elapsed() >= Duration::from_millis(200) {
                last_print = Instant::now();
                let secs = start.elapsed().as_secs_f64();
                bar.set_position((secs * 10.0) as u64);
                if let Some(s) = stream.stats() {
                    bar.set_message(format!(
                        "{} frames | {:.2} Mbit/s | lost {} | latency p50 {:.1} µs p99 {:.1} µs | input {}/{} acked | rumble {}",
                        s.frames_delivered,
                        s.video_bytes as f64 * 8.0 / secs.max(1e-3) / 1e6,
                        s.frames_lost,
                        s.latency_p50_ns as f64 / 1000.0,
                        s.latency_p99_ns as f64 / 1000.0,
                        s.input_frames_acked,
                        s.input_frames_sent,
                        s.rumble_events
                    ));
                }
            }
        }
        bar.finish_and_clear();
        let elapsed = start.elapsed().as_secs_f64();
        let outer_reason = stream.close_reason();
        let stats = stream.finish()?;
        for w in [&self.video, &self.audio] {
            if let Some(w) = w.lock().as_mut() {
                w.flush().map_err(|e| e.to_string())?;
            }
        }
        let closed = outer_reason.or_else(|| self.closed.lock().clone());
        let mut v = serde_json::to_value(&stats).map_err(|e| e.to_string())?;
        if let serde_json::Value::Object(m) = &mut v {
            m.insert("seconds".into(), serde_json::json!(elapsed));
            m.insert(
                "bitrate_bps".into(),
                serde_json::json!(stats.video_bytes as f64 * 8.0 / elapsed.max(1e-9)),
            );
            m.insert("closed".into(), serde_json::json!(closed.clone()));
        }
        if let Some(p) = &out.stats_json {
            fs::write(p, serde_json::to_vec_pretty(&v).map_err(|e| e.to_string())?)
                .map_err(|e| format!("{}: {e}", p.display()))?;
        }
        eprintln!(
            "done: {} frames, {} lost, {} audio packets, {} input frames acked, {} rumble, {:.2} Mbit/s, latency p50 {:.1} µs p99 {:.1} µs",
            stats.frames_delivered,
            stats.frames_lost,
            stats.audio_packets,
            stats.input_frames_acked,
            stats.rumble_events,
            stats.video_bytes as f64 * 8.0 / elapsed.max(1e-9) / 1e6,
            stats.latency_p50_ns as f64 / 1000.0,
            stats.latency_p99_ns as f64 / 1000.0
        );
        if let Some(reason) = closed {
            if reason != "stopped" {
                return Err(format!("session ended: {reason}"));
            }
        }
        Ok(())
    }
}

fn cmd_stream(a: StreamArgs) -> Result<(), String> {
    let rec = Recorder::new(&a.out)?;
    let stream: Box<dyn RunningStream> = match (&a.nano, &a.console) {
        (Some(nano), _) => {
            let (tcp, udp) = parse_nano_target(nano)?;
            Box::new(
                Client::connect(tcp, udp, ClientConfig::default(), rec.handler())
                    .map_err(|e| e.to_string())?,
            )
        }
        (None, Some(console)) => Box::new(start_console_stream(&a, console, &rec)?),
        (None, None) => return Err("give --console HOST[:PORT] or --nano HOST:TCP:UDP".into()),
    };
    rec.run(&a.out, stream)
}

/// Connects to the console, starts the gamestream and waits for the Nano
/// client to run.
fn start_console_stream(
    a: &StreamArgs,
    console: &str,
    rec: &Recorder,
) -> Result<ConsoleStream, String> {
    use xnano::smartglass::SessionEvent;
    use xnano::smartglass::{ConnectOptions, Event};
    use xnano::smartglass::{GameStreamConfig, GameStreamEvent};
    let addr = resolve(console)?;
    let mut gs = GameStreamConfig::default();
    for kv in &a.gamestream {
        let (k, v) = kv
            .split_once('=')
            .ok_or_else(|| format!("--gs {kv:?}: want KEY=VALUE"))?;
        match gs.set(k, v) {
            Ok(()) => {}
            Err(xnano::smartglass::GameStreamError::UnknownKey(_)) => {
                gs.extra.insert(k.to_string(), v.to_string());
            }
            Err(e) => return Err(e.to_string()),
        }
    }
    let wait = Duration::from_secs_f64(a.connect_timeout.max(0.1));
    let mut opts = ConnectOptions {
        wait_timeout: wait,
        discovery_timeout: wait.min(Duration::from_secs(5)),
        ..ConnectOptions::default()
    };
    if let (Some(u), Some(t)) = (&a.userhash, &a.auth_token) {
        opts.session.userhash = u.clone();
        opts.session.auth_token = t.clone();
    }
    let handler = Box::new(|e: &Event| match e {
        Event::Session(SessionEvent::Connected {
            participant_id,
            pairing_state,
        }) => eprintln!(
            "smartglass: connected, participant {participant_id}, {}",
            pairing_state.name()
        ),
        Event::Session(SessionEvent::ConsoleStatus(s)) => eprintln!(
            "smartglass: console {}.{}.{} ({}), titles: {}",
            s.major_version,
            s.minor_version,
            s.build_number,
            s.locale,
            s.active_titles
                .iter()
                .map(|t| format!("{} {}", t.title_id, t.aum))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        Event::Session(SessionEvent::GameStream(GameStreamEvent::State(s))) => {
            eprintln!("smartglass: gamestream {}", s.state.name())
        }
        Event::Session(SessionEvent::GameStream(GameStreamEvent::Error(e))) => eprintln!(
            "smartglass: gamestream error {} ({})",
            xnano::smartglass::error_type_name(e.error_type),
            e.error_value
        ),
        Event::Session(SessionEvent::Rejected { error }) => {
            eprintln!("smartglass: rejected: {error}")
        }
        Event::Session(SessionEvent::Closed(r)) => eprintln!("smartglass: session ended: {r}"),
        Event::NanoConnected { tcp, udp } => eprintln!("nano: connected to {tcp} / {udp}"),
        Event::NanoFailed { error } => eprintln!("nano: {error}"),
        _ => {}
    });
    eprintln!("smartglass: connecting to {addr}");
    let client = smartglass::Client::connect(addr, opts, handler).map_err(|e| e.to_string())?;
    let c = client.console();
    eprintln!(
        "smartglass: console {} ({}, {}), live id {}",
        c.name,
        c.address,
        xnano::smartglass::curve_name(c.curve),
        c.live_id
    );
    client
        .start_gamestream(&gs, ClientConfig::default(), rec.handler())
        .map_err(|e| e.to_string())?;
    if let Err(e) = client.wait_gamestream(wait) {
        let _ = client.disconnect();
        return Err(e.to_string());
    }
    Ok(ConsoleStream(client))
}

fn cmd_sim(a: SimArgs) -> Result<(), String> {
    use xnano_sim::nano::{Host, Impairment, SimConfig};
    for (name, v) in [
        ("--loss", a.loss),
        ("--reorder", a.reorder),
        ("--duplicate", a.duplicate),
    ] {
        if !(0.0..=100.0).contains(&v) {
            return Err(format!("{name} must be a percentage (0..100), got {v}"));
        }
    }
    if a.width == 0 || a.height == 0 || a.fps == 0 || a.bitrate == 0 {
        return Err("--width, --height, --fps and --bitrate must be positive".into());
    }
    let cfg = SimConfig {
        bind_ip: a.bind,
        tcp_port: a.tcp_port,
        udp_port: a.udp_port,
        width: a.width,
        height: a.height,
        fps: a.fps,
        bitrate_bps: a.bitrate,
        impairment: Impairment {
            loss_pct: a.loss,
            reorder_pct: a.reorder,
            duplicate_pct: a.duplicate,
            seed: a.seed,
            ..Impairment::default()
        },
        behaviour: xnano_sim::nano::HostBehaviour {
            restart_ids_every_keyframes: a.restart_ids_every,
            vary_chunk_flags: a.vary_chunk_flags,
            udp_silence: a
                .udp_silence
                .map(|(at, secs)| (Duration::from_secs_f64(at), Duration::from_secs_f64(secs))),
            pad_keyframes_to: a.pad_keyframes_to,
            pad_frames_to: a.pad_frames_to,
            withhold_chat_audio_control: a.no_chat_audio_control,
        },
        pace_bps: a.pace_bps,
        ..SimConfig::default()
    };
    let mut console = if a.no_sg {
        None
    } else {
        use xnano_sim::smartglass::{Host as SgHost, SimConfig as SgSimConfig};
        let mut c = SgSimConfig {
            bind_ip: a.bind,
            port: a.sg_port,
            name: a.name.clone(),
            curve: a.curve,
            nano: SimConfig {
                tcp_port: a.stream_tcp_port,
                udp_port: a.stream_udp_port,
                ..cfg.clone()
            },
            heartbeat_interval: (a.sg_heartbeat_ms > 0)
                .then(|| Duration::from_millis(a.sg_heartbeat_ms)),
            pace_from_gamestream: a.pace_from_gamestream,
            ..SgSimConfig::default()
        };
        if let Some(id) = &a.live_id {
            c.live_id = id.clone();
        }
        let port = c.port;
        Some(SgHost::start(c).map_err(|e| format!("SmartGlass console on port {port}: {e}"))?)
    };
    let mut sim = Host::start(cfg).map_err(|e| e.to_string())?;
    let (t, u) = (sim.tcp_addr(), sim.udp_addr());
    if let Some(c) = &console {
        println!("smartglass udp {}", c.addr());
        println!("live id {}", c.live_id());
        println!("curve {:?}", c.curve());
        // What happens on the SmartGlass side, one line per event on stderr.
        let events = c.events();
        std::thread::spawn(move || {
            use xnano_sim::smartglass::HostEvent as SgHostEvent;
            for e in events.iter() {
                match &e {
                    SgHostEvent::Message(m) => eprintln!(
                        "sg: {} {} on {}",
                        m.peer,
                        m.msg_type.name(),
                        m.channel.map_or("?", |c| c.name())
                    ),
                    _ => eprintln!("sg: {}", serde_json::to_string(&e).unwrap_or_default()),
                }
            }
        });
    }
    println!("nano tcp {t}");
    println!("nano udp {u}");
    println!(
        "connect with: xnano stream --nano {}:{}:{}",
        t.ip(),
        t.port(),
        u.port()
    );
    let _ = std::io::stdout().flush();
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let start = Instant::now();
    let deadline = a
        .seconds
        .map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    while !stop.load(Ordering::SeqCst) && deadline.is_none_or(|d| Instant::now() < d) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let st = sim.stats();
    sim.stop();
    if let Some(c) = console.as_mut() {
        let s = c.stats();
        c.stop();
        eprintln!(
            "sim: smartglass: {} discovery requests, {} connects, {} gamestreams, {} bad HMAC",
            s.discovery_requests, s.connects_accepted, s.gamestreams_started, s.bad_hmac
        );
    }
    eprintln!(
        "sim: {} clients, {} video frames sent, {} datagrams dropped by impairment",
        st.clients_accepted, st.session.video_frames_sent, st.udp.dropped
    );
    Ok(())
}

fn cmd_demo(a: DemoArgs) -> Result<(), String> {
    use xnano_sim::media::H264Decoder;
    use xnano_sim::smartglass::{Host as SgHost, SimConfig as SgSimConfig};
    fs::create_dir_all(&a.out_dir).map_err(|e| format!("{}: {e}", a.out_dir.display()))?;
    let mut sim = SgHost::start(SgSimConfig {
        curve: a.curve,
        ..SgSimConfig::default()
    })
    .map_err(|e| e.to_string())?;
    let addr = sim.addr();
    eprintln!("demo: simulated console listening for SmartGlass on {addr}");
    let found = xnano::smartglass::discover(Some(addr), Duration::from_secs(3))
        .map_err(|e| e.to_string())?;
    let c = found.first().ok_or("demo: discovery found no console")?;
    eprintln!(
        "demo: discovered {} (live id {}, {} key)",
        c.name,
        c.live_id,
        xnano::smartglass::curve_name(c.curve)
    );
    let out = StreamOutput {
        seconds: Some(a.seconds),
        video_out: Some(a.out_dir.join("demo.h264")),
        audio_out: None,
        stats_json: Some(a.out_dir.join("demo-stats.json")),
        input_demo: true,
        until_frames: None,
    };
    let mut rec = Recorder::new(&out)?;
    let kept = Arc::new(Mutex::new(Kept::default()));
    rec.keep = Some(kept.clone());
    let args = StreamArgs {
        console: Some(addr.to_string()),
        nano: None,
        userhash: None,
        auth_token: None,
        gamestream: Vec::new(),
        connect_timeout: 15.0,
        out,
    };
    let stream = start_console_stream(&args, &addr.to_string(), &rec)?;
    rec.run(&args.out, Box::new(stream))?;
    sim.stop();

    let k = kept.lock();
    // Decode what was recorded with a real decoder; snapshot the last frame.
    let mut dec = H264Decoder::new().map_err(|e| e.to_string())?;
    let mut pictures = 0u64;
    let mut snapshot = None;
    for (i, f) in k.frames.iter().enumerate() {
        if i + 1 == k.frames.len() {
            if let Some(img) = dec.decode_rgb(f).map_err(|e| e.to_string())? {
                pictures += 1;
                snapshot = Some(img);
            }
        } else {
            pictures += dec.decode(f).map_err(|e| e.to_string())?;
        }
    }
    let (rest, last) = dec.flush(snapshot.is_none()).map_err(|e| e.to_string())?;
    pictures += rest;
    if snapshot.is_none() {
        snapshot = last;
    }
    let h264 = a.out_dir.join("demo.h264");
    eprintln!(
        "demo: {} decodes into {pictures} pictures ({} frames delivered)",
        h264.display(),
        k.frames.len()
    );
    if let Some(img) = snapshot {
        let p = a.out_dir.join("demo.png");
        write_png(&p, &img)?;
        eprintln!("demo: {} ({}x{})", p.display(), img.width, img.height);
    }
    if let Some(fmt) = &k.audio_format {
        let p = a.out_dir.join("demo.wav");
        let pcm = match fmt.codec {
            xnano_proto::wire::nano::audio::AudioCodec::Opus => {
                xnano_sim::media::decode_opus_to_pcm(&k.audio, fmt.sample_rate, fmt.channels as u8)
                    .map_err(|e| e.to_string())?
            }
            xnano_proto::wire::nano::audio::AudioCodec::PCM => k
                .audio
                .iter()
                .flat_map(|b| b.chunks_exact(2).map(|c| i16::from_le_bytes([c[0], c[1]])))
                .collect(),
            _ => Vec::new(),
        };
        if !pcm.is_empty() {
            let spec = hound::WavSpec {
                channels: fmt.channels as u16,
                sample_rate: fmt.sample_rate,
                bits_per_sample: 16,
                sample_format: hound::SampleFormat::Int,
            };
            let mut w = hound::WavWriter::create(&p, spec).map_err(|e| e.to_string())?;
            for s in &pcm {
                w.write_sample(*s).map_err(|e| e.to_string())?;
            }
            w.finalize().map_err(|e| e.to_string())?;
            eprintln!(
                "demo: {} ({:.1} s of {} audio)",
                p.display(),
                pcm.len() as f64 / f64::from(fmt.sample_rate) / f64::from(fmt.channels.max(1)),
                fmt.codec.name()
            );
        }
    }
    eprintln!("demo: rumble events received: {}", k.rumble);
    if pictures != k.frames.len() as u64 {
        return Err(format!(
            "demo: decoded {pictures} pictures from {} frames",
            k.frames.len()
        ));
    }
    Ok(())
}

fn write_png(path: &std::path::Path, img: &xnano_sim::media::RgbImage) -> Result<(), String> {
    let f = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut enc = png::Encoder::new(std::io::BufWriter::new(f), img.width, img.height);
    enc.set_color(png::ColorType::Rgb);
    enc.set_depth(png::BitDepth::Eight);
    let mut w = enc.write_header().map_err(|e| e.to_string())?;
    w.write_image_data(&img.data).map_err(|e| e.to_string())?;
    w.finish().map_err(|e| e.to_string())
}
