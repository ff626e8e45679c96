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

use xnano::dissect;
use xnano::nano::{Client, ClientConfig, ClientEvent, ControllerState};

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
    /// Stream from a Nano host (no SmartGlass) and record what arrives.
    Stream {
        /// The Nano host as HOST:TCP_PORT:UDP_PORT.
        #[arg(long)]
        nano: String,
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
    },
    /// Run the simulated console until Ctrl-C: a SmartGlass console on
    /// --sg-port (whose gamestreams start their own Nano host) plus a Nano
    /// host on --tcp-port/--udp-port for direct `xnano stream --nano`.
    Sim(SimArgs),
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
    curve: xnano::crypto::Curve,
    /// Live ID (certificate common name; default: random FD00...).
    #[arg(long)]
    live_id: Option<String>,
    /// Nano TCP port of gamestreams started over SmartGlass (0: any free port).
    #[arg(long, default_value_t = 0)]
    stream_tcp_port: u16,
    /// Nano UDP port of gamestreams started over SmartGlass (0: any free port).
    #[arg(long, default_value_t = 0)]
    stream_udp_port: u16,
}

fn parse_curve(s: &str) -> Result<xnano::crypto::Curve, String> {
    use xnano::crypto::Curve;
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
        Cmd::Stream {
            nano,
            seconds,
            video_out,
            audio_out,
            stats_json,
            input_demo,
        } => cmd_stream(nano, seconds, video_out, audio_out, stats_json, input_demo),
        Cmd::Sim(a) => cmd_sim(a),
    };
    match r {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("xnano: {e}");
            ExitCode::FAILURE
        }
    }
}

fn crypto_arg(secret: Option<String>) -> Result<Option<xnano::crypto::Crypto>, String> {
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

fn cmd_stream(
    nano: String,
    seconds: Option<f64>,
    video_out: Option<PathBuf>,
    audio_out: Option<PathBuf>,
    stats_json: Option<PathBuf>,
    input_demo: bool,
) -> Result<(), String> {
    let (tcp, udp) = parse_nano_target(&nano)?;
    let open = |p: &Option<PathBuf>| -> Result<Option<fs::File>, String> {
        p.as_ref()
            .map(|p| fs::File::create(p).map_err(|e| format!("{}: {e}", p.display())))
            .transpose()
    };
    let video = Arc::new(Mutex::new(open(&video_out)?.map(std::io::BufWriter::new)));
    let audio = Arc::new(Mutex::new(open(&audio_out)?.map(std::io::BufWriter::new)));
    let closed = Arc::new(Mutex::new(None::<String>));
    let (v2, a2, c2) = (video.clone(), audio.clone(), closed.clone());
    let handler = Box::new(move |e: &ClientEvent| match e {
        ClientEvent::VideoFrame(f) => {
            if let Some(w) = v2.lock().as_mut() {
                let _ = w.write_all(&f.data);
            }
        }
        ClientEvent::Audio(p) => {
            if let Some(w) = a2.lock().as_mut() {
                let _ = w.write_all(&p.data);
            }
        }
        ClientEvent::VideoFormat(f) => {
            eprintln!(
                "video: {}x{} @ {} fps, {}",
                f.width,
                f.height,
                f.fps,
                f.codec.name()
            )
        }
        ClientEvent::AudioFormat(f) => eprintln!(
            "audio: {} ch, {} Hz, {}",
            f.channels,
            f.sample_rate,
            f.codec.name()
        ),
        ClientEvent::Closed(r) => *c2.lock() = Some(r.to_string()),
        _ => {}
    });
    let client =
        Client::connect(tcp, udp, ClientConfig::default(), handler).map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    {
        let stop = stop.clone();
        let _ = ctrlc::set_handler(move || stop.store(true, Ordering::SeqCst));
    }
    let start = Instant::now();
    let deadline = seconds.map(|s| start + Duration::from_secs_f64(s.max(0.0)));
    let mut last_print = start;
    let mut pressed = false;
    let mut last_toggle = start;
    while !stop.load(Ordering::SeqCst) && !client.is_closed() {
        if deadline.is_some_and(|d| Instant::now() >= d) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
        if input_demo && last_toggle.elapsed() >= Duration::from_millis(500) {
            last_toggle = Instant::now();
            pressed = !pressed;
            let st = ControllerState {
                buttons: if pressed { xnano::nano::buttons::A } else { 0 },
                right_trigger: if pressed { 255 } else { 0 },
                ..Default::default()
            };
            let _ = client.set_controller_state(0, st);
        }
        if last_print.elapsed() >= Duration::from_secs(1) {
            last_print = Instant::now();
            let s = client.stats();
            let secs = start.elapsed().as_secs_f64();
            eprintln!(
                "{:6.1}s frames {} lost {} dropped {} | {:.2} Mbit/s | audio {} | input {}/{} acked | rumble {}",
                secs,
                s.frames_delivered,
                s.frames_lost,
                s.frames_dropped,
                s.video_bytes as f64 * 8.0 / secs / 1e6,
                s.audio_packets,
                s.input_frames_acked,
                s.input_frames_sent,
                s.rumble_events
            );
        }
    }
    let elapsed = start.elapsed().as_secs_f64();
    let stats = client.stop().map_err(|e| e.to_string())?;
    for w in [&video, &audio] {
        if let Some(w) = w.lock().as_mut() {
            w.flush().map_err(|e| e.to_string())?;
        }
    }
    let mut v = serde_json::to_value(&stats).map_err(|e| e.to_string())?;
    if let serde_json::Value::Object(m) = &mut v {
        m.insert("seconds".into(), serde_json::json!(elapsed));
        m.insert(
            "bitrate_bps".into(),
            serde_json::json!(stats.video_bytes as f64 * 8.0 / elapsed.max(1e-9)),
        );
        m.insert("closed".into(), serde_json::json!(closed.lock().clone()));
    }
    if let Some(p) = stats_json {
        fs::write(
            &p,
            serde_json::to_vec_pretty(&v).map_err(|e| e.to_string())?,
        )
        .map_err(|e| format!("{}: {e}", p.display()))?;
    }
    eprintln!(
        "done: {} frames, {} lost, {} audio packets, {} input frames acked",
        stats.frames_delivered, stats.frames_lost, stats.audio_packets, stats.input_frames_acked
    );
    if let Some(reason) = closed.lock().clone() {
        if reason != "stopped" {
            return Err(format!("session ended: {reason}"));
        }
    }
    Ok(())
}

fn cmd_sim(a: SimArgs) -> Result<(), String> {
    use xnano::sim::server::{Impairment, SimConfig, SimServer};
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
        ..SimConfig::default()
    };
    let mut console = if a.no_sg {
        None
    } else {
        use xnano::sim::console::{ConsoleSim, ConsoleSimConfig};
        let mut c = ConsoleSimConfig {
            bind_ip: a.bind,
            port: a.sg_port,
            name: a.name.clone(),
            curve: a.curve,
            nano: SimConfig {
                tcp_port: a.stream_tcp_port,
                udp_port: a.stream_udp_port,
                ..cfg.clone()
            },
            ..ConsoleSimConfig::default()
        };
        if let Some(id) = &a.live_id {
            c.live_id = id.clone();
        }
        let port = c.port;
        Some(ConsoleSim::start(c).map_err(|e| format!("SmartGlass console on port {port}: {e}"))?)
    };
    let mut sim = SimServer::start(cfg).map_err(|e| e.to_string())?;
    let (t, u) = (sim.tcp_addr(), sim.udp_addr());
    if let Some(c) = &console {
        println!("smartglass udp {}", c.addr());
        println!("live id {}", c.live_id());
        println!("curve {:?}", c.curve());
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
