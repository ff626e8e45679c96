//! xnano player: shows a Nano gamestream in an SDL2 window, plays its audio, and sends the
//! keyboard and any game controllers as Xbox controller input.
//!
//! ```text
//! cargo run --release --features player --example player -- --sim
//! cargo run --release --features player --example player -- --nano 192.168.1.20:53000:53001
//! ```
//!
//! See `examples/player/README.md` for the options and the key map.

mod input;
mod media;
mod shot;

use std::net::{SocketAddr, ToSocketAddrs};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::{ArgGroup, Parser};
use crossbeam_channel::unbounded;
use sdl2::audio::{AudioQueue, AudioSpecDesired};
use sdl2::controller::GameController;
use sdl2::event::Event;
use sdl2::keyboard::Scancode;
use sdl2::pixels::{Color, PixelFormatEnum};
use sdl2::rect::Rect;
use sdl2::render::{Texture, WindowCanvas};
use sdl2::video::FullscreenType;
use xnano::nano::{
    Client, ClientConfig, ClientEvent, CloseReason, ControllerState, EventHandler, Rumble,
    StreamStats,
};
use xnano_sim::nano::{Host, Impairment, SimConfig};

use media::{AudioIn, Counters, Mailbox, Picture, ToWindow, VideoIn};

/// Controllers the Nano protocol carries.
const MAX_CONTROLLERS: usize = 4;
/// Audio buffered before playback starts.
const AUDIO_START_MS: u32 = 60;
/// Audio buffered beyond which the queue is flushed (the stream got ahead of the device).
const AUDIO_MAX_MS: u32 = 250;
/// A rumble command holds until the next one; SDL wants a duration, so pads get this one and
/// the player repeats the command before it runs out.
const PAD_RUMBLE_MS: u32 = 10_000;
/// How often a rumble that is still on is repeated to a pad.
const PAD_RUMBLE_REPEAT: Duration = Duration::from_secs(5);
/// Redraw at least this often even without a new picture (resize, expose, indicator).
const REDRAW: Duration = Duration::from_millis(100);

#[derive(Parser, Debug)]
#[command(
    name = "player",
    about = "xnano player: shows a Nano gamestream, plays its audio, sends keyboard/gamepad input",
    group(ArgGroup::new("source").required(true).args(["nano", "sim", "console"]))
)]
struct Args {
    /// Connect to a Nano host directly: HOST:TCP_PORT:UDP_PORT (e.g. 127.0.0.1:53000:53001).
    #[arg(long, value_name = "HOST:TCP:UDP")]
    nano: Option<String>,
    /// Start the simulated console in this process and connect to it.
    #[arg(long)]
    sim: bool,
    /// Connect to an Xbox One console through SmartGlass (HOST[:PORT]).
    #[arg(long, value_name = "HOST")]
    console: Option<String>,
    /// Simulated console: video size.
    #[arg(long, value_name = "WxH", default_value = "1280x720")]
    sim_size: String,
    /// Simulated console: frames per second.
    #[arg(long, default_value_t = 60)]
    sim_fps: u32,
    /// Simulated console: video bitrate in Mbit/s.
    #[arg(long, default_value_t = 8.0)]
    sim_mbps: f64,
    /// Simulated console: percentage of UDP datagrams it drops (to watch loss recovery).
    #[arg(long, default_value_t = 0.0)]
    sim_loss: f64,
    /// Initial window size.
    #[arg(long, value_name = "WxH", default_value = "1280x720")]
    window: String,
    /// Start in (desktop) fullscreen; F11 toggles.
    #[arg(long)]
    fullscreen: bool,
    /// Use SDL's software renderer (also: env SDL_RENDER_DRIVER=software).
    #[arg(long)]
    software: bool,
    /// Do not open an audio device.
    #[arg(long)]
    no_audio: bool,
    /// Drive controller 0 with a script (A pressed every other half second, right trigger
    /// ramping), on top of the keyboard: for unattended runs.
    #[arg(long)]
    auto_input: bool,
    /// Write the last rendered frame to this PNG file on exit (F12 writes it at any time).
    #[arg(long, value_name = "FILE")]
    screenshot: Option<PathBuf>,
    /// Quit after this many seconds (exit code 2 if no picture was shown by then).
    #[arg(long, value_name = "SECS")]
    exit_after: Option<f64>,
}

/// Where the Nano stream comes from, and what must stay alive while it runs.
struct Endpoint {
    tcp: SocketAddr,
    udp: SocketAddr,
    label: String,
    /// The simulated console, or (later) the SmartGlass session; dropped after the client.
    _keep: Option<Box<dyn std::any::Any>>,
}

/// Parses `HOST:TCP:UDP` (HOST may be a name, an IPv4 address or a bracketed IPv6 address).
fn parse_nano(spec: &str) -> Result<(SocketAddr, SocketAddr), String> {
    let bad = || format!("--nano {spec}: expected HOST:TCP_PORT:UDP_PORT");
    let mut parts = spec.rsplitn(3, ':');
    let udp: u16 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let tcp: u16 = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
    let host = parts.next().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    let host = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    let ip = (host, tcp)
        .to_socket_addrs()
        .map_err(|e| format!("--nano {spec}: {e}"))?
        .next()
        .ok_or_else(|| format!("--nano {spec}: {host} has no address"))?
        .ip();
    Ok((SocketAddr::new(ip, tcp), SocketAddr::new(ip, udp)))
}

/// Parses `WxH`.
fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s
        .split_once(['x', 'X'])
        .ok_or_else(|| format!("{s}: expected WIDTHxHEIGHT"))?;
    let p = |v: &str| {
        v.trim()
            .parse::<u32>()
            .ok()
            .filter(|n| (16..=8192).contains(n))
    };
    match (p(w), p(h)) {
        (Some(w), Some(h)) => Ok((w, h)),
        _ => Err(format!("{s}: expected WIDTHxHEIGHT, each 16..=8192")),
    }
}

fn start_sim(args: &Args) -> Result<Endpoint, String> {
    let (width, height) = parse_size(&args.sim_size)?;
    let bitrate = (args.sim_mbps * 1e6).clamp(1e5, 1e9) as u32;
    let cfg = SimConfig {
        width,
        height,
        fps: args.sim_fps,
        bitrate_bps: bitrate,
        impairment: Impairment {
            loss_pct: args.sim_loss,
            ..Impairment::default()
        },
        ..SimConfig::default()
    };
    let sim = Host::start(cfg).map_err(|e| format!("simulated console: {e}"))?;
    Ok(Endpoint {
        tcp: sim.tcp_addr(),
        udp: sim.udp_addr(),
        label: format!(
            "simulated console ({width}x{height}@{} fps, {:.1} Mbit/s)",
            args.sim_fps,
            f64::from(bitrate) / 1e6
        ),
        _keep: Some(Box::new(sim)),
    })
}

// ==== SmartGlass: --console HOST ============================================================
// Finds HOST (unicast discovery fetches its certificate), opens the encrypted SmartGlass
// session, asks for the gamestream on the broadcast channel and returns the Nano TCP/UDP
// addresses the console announces. The SmartGlass session goes in `_keep` so it lives as
// long as the stream; dropping it disconnects.
fn connect_console(host: &str) -> Result<Endpoint, String> {
    use xnano::smartglass::{self, ConnectOptions, Event};
    use xnano::smartglass::{GameStreamConfig, ServiceChannel};
    let addr =
        xnano::smartglass::resolve_addr(host).map_err(|e| format!("--console {host}: {e}"))?;
    let console =
        smartglass::Client::connect(addr, ConnectOptions::default(), Box::new(|_: &Event| {}))
            .map_err(|e| format!("SmartGlass connect to {addr}: {e}"))?;
    console
        .start_channel(ServiceChannel::SystemBroadcast)
        .map_err(|e| e.to_string())?;
    console
        .wait_channel(ServiceChannel::SystemBroadcast, Duration::from_secs(10))
        .map_err(|e| e.to_string())?;
    let gs = GameStreamConfig::default();
    // Only the StartGameStream request: the player runs its own Nano client.
    console
        .with_session(|s, now| s.start_gamestream(&gs, now))
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(15);
    let (tcp_port, udp_port) = loop {
        if let Some(p) = console.gamestream_status().nano_ports() {
            break p;
        }
        if console.is_closed() || Instant::now() > deadline {
            return Err(format!("{addr}: the console did not start the gamestream"));
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ip = console.console().address.ip();
    Ok(Endpoint {
        tcp: SocketAddr::new(ip, tcp_port),
        udp: SocketAddr::new(ip, udp_port),
        label: format!("console {} ({addr})", console.console().name),
        _keep: Some(Box::new(console)),
    })
}
// ==== end SmartGlass ========================================================================

fn endpoint(args: &Args) -> Result<Endpoint, String> {
    if let Some(spec) = &args.nano {
        let (tcp, udp) = parse_nano(spec)?;
        Ok(Endpoint {
            tcp,
            udp,
            label: format!("Nano host {tcp} (udp {})", udp.port()),
            _keep: None,
        })
    } else if let Some(host) = &args.console {
        connect_console(host)
    } else {
        start_sim(args)
    }
}

/// What the engine's callback tells the window thread directly.
enum FromEngine {
    VideoFormat(u32, u32, u32),
    InputReady(u8),
    Rumble(Rumble),
    Closed(CloseReason),
}

/// The largest rectangle of the video's aspect ratio centred in the output.
fn fit(out: (u32, u32), video: (u32, u32)) -> Rect {
    let (ow, oh) = (u64::from(out.0.max(1)), u64::from(out.1.max(1)));
    let (vw, vh) = (u64::from(video.0.max(1)), u64::from(video.1.max(1)));
    let (w, h) = if ow * vh > oh * vw {
        (oh * vw / vh, oh)
    } else {
        (ow, ow * vh / vw)
    };
    let x = (ow - w) / 2;
    let y = (oh - h) / 2;
    Rect::new(x as i32, y as i32, w.max(1) as u32, h.max(1) as u32)
}

/// Per-second figures for the window title.
struct TitleStats {
    since: Instant,
    shown: u64,
    latencies: Vec<Duration>,
    last: StreamStats,
}

impl TitleStats {
    fn new() -> Self {
        TitleStats {
            since: Instant::now(),
            shown: 0,
            latencies: Vec::new(),
            last: StreamStats::default(),
        }
    }

    /// The title for the interval since the last call; resets the interval.
    fn title(&mut self, now: Instant, st: StreamStats, video: Option<(u32, u32)>) -> String {
        let dt = now.duration_since(self.since).as_secs_f64().max(1e-3);
        let fps = self.shown as f64 / dt;
        let bytes = (st.video_bytes + st.audio_bytes)
            .saturating_sub(self.last.video_bytes + self.last.audio_bytes);
        let mbps = bytes as f64 * 8.0 / dt / 1e6;
        let lost_total = st.frames_lost + st.frames_dropped;
        let lost = lost_total.saturating_sub(self.last.frames_lost + self.last.frames_dropped);
        let got = st
            .frames_delivered
            .saturating_sub(self.last.frames_delivered);
        let loss = if lost + got == 0 {
            0.0
        } else {
            lost as f64 * 100.0 / (lost + got) as f64
        };
        self.latencies.sort_unstable();
        let lat = self
            .latencies
            .get(self.latencies.len() / 2)
            .map(|d| format!("{:.1} ms", d.as_secs_f64() * 1e3))
            .unwrap_or_else(|| "-".into());
        let size = video
            .map(|(w, h)| format!("{w}x{h}"))
            .unwrap_or_else(|| "waiting for video".into());
        self.since = now;
        self.shown = 0;
        self.latencies.clear();
        self.last = st;
        format!(
            "xnano player | {size} | {fps:.0} fps | {mbps:.1} Mbit/s | loss {loss:.1}% \
             ({lost_total}) | latency {lat}"
        )
    }
}

/// A game controller in one of the four Nano controller slots.
struct Pad {
    ctl: GameController,
    slot: usize,
}

/// Everything the window thread owns besides the SDL objects with lifetimes.
struct Player {
    client: Client,
    pads: Vec<Pad>,
    sent: [Option<ControllerState>; MAX_CONTROLLERS],
    /// The motor levels each controller was last told, and when its pad was last set.
    rumble: [(Rumble, Instant); MAX_CONTROLLERS],
    /// The rumble indicator changed since the last drawing.
    rumble_dirty: bool,
    rumble_events: u64,
    input_errors: u64,
    warned: std::collections::HashSet<String>,
}

impl Player {
    fn warn(&mut self, msg: String) {
        if self.warned.insert(msg.clone()) {
            eprintln!("player: {msg}");
        }
    }

    fn send_state(&mut self, slot: usize, st: ControllerState) {
        if self.sent[slot] == Some(st) {
            return;
        }
        match self.client.set_controller_state(slot as u8, st) {
            Ok(()) => self.sent[slot] = Some(st),
            Err(e) => {
                self.input_errors += 1;
                self.warn(format!("controller {slot}: {e}"));
            }
        }
    }

    fn open_pad(&mut self, gc: &sdl2::GameControllerSubsystem, index: u32) {
        let Ok(ctl) = gc.open(index) else {
            return;
        };
        if self
            .pads
            .iter()
            .any(|p| p.ctl.instance_id() == ctl.instance_id())
        {
            return;
        }
        let Some(slot) = (0..MAX_CONTROLLERS).find(|s| self.pads.iter().all(|p| p.slot != *s))
        else {
            self.warn(format!("{}: all four controllers are taken", ctl.name()));
            return;
        };
        eprintln!("player: {} is controller {slot}", ctl.name());
        self.pads.push(Pad { ctl, slot });
    }

    fn close_pad(&mut self, instance: u32) {
        if let Some(i) = self
            .pads
            .iter()
            .position(|p| p.ctl.instance_id() == instance)
        {
            let pad = self.pads.remove(i);
            eprintln!(
                "player: {} (controller {}) removed",
                pad.ctl.name(),
                pad.slot
            );
            // Slot 0 stays: the keyboard drives it.
            if pad.slot != 0
                && self
                    .client
                    .set_controller_connected(pad.slot as u8, false)
                    .is_ok()
            {
                self.sent[pad.slot] = None;
            }
        }
    }

    /// Reads the keyboard, the pads and the script; sends what changed.
    fn poll_input(&mut self, keyboard: ControllerState, script: Option<ControllerState>) {
        let mut states: [Option<ControllerState>; MAX_CONTROLLERS] = [None; MAX_CONTROLLERS];
        states[0] = Some(match script {
            Some(s) => input::merge(keyboard, s),
            None => keyboard,
        });
        for p in &self.pads {
            let st = input::from_pad(|b| p.ctl.button(b), |a| p.ctl.axis(a));
            let slot = &mut states[p.slot];
            *slot = Some(match *slot {
                Some(prev) => input::merge(prev, st),
                None => st,
            });
        }
        for (slot, st) in states.into_iter().enumerate() {
            if let Some(st) = st {
                self.send_state(slot, st);
            }
        }
    }

    fn on_rumble(&mut self, r: Rumble) {
        self.rumble_events += 1;
        let slot = usize::from(r.controller);
        if slot >= MAX_CONTROLLERS {
            return;
        }
        self.rumble_dirty |= motors(&self.rumble[slot].0) != motors(&r);
        self.rumble[slot] = (r, Instant::now());
        self.rumble_pad(slot);
    }

    /// Sets the pad in `slot` (if any) to the slot's current rumble.
    fn rumble_pad(&mut self, slot: usize) {
        let (r, at) = &mut self.rumble[slot];
        let wide = |v: u8| u16::from(v) * 257;
        if let Some(p) = self.pads.iter_mut().find(|p| p.slot == slot) {
            // Errors mean "this pad cannot rumble": nothing to do about it.
            let _ = p
                .ctl
                .set_rumble(wide(r.left_handle), wide(r.right_handle), PAD_RUMBLE_MS);
            let _ = p.ctl.set_rumble_triggers(
                wide(r.left_trigger),
                wide(r.right_trigger),
                PAD_RUMBLE_MS,
            );
            *at = Instant::now();
        }
    }

    /// Repeats rumble that is still on before the pad's duration runs out.
    fn refresh_rumble(&mut self, now: Instant) {
        for slot in 0..MAX_CONTROLLERS {
            let (r, at) = &self.rumble[slot];
            if motors(r) != [0; 4] && now.duration_since(*at) >= PAD_RUMBLE_REPEAT {
                self.rumble_pad(slot);
            }
        }
    }

    /// Draws the rumble indicator for slots without a pad: four bars per controller (left
    /// trigger, left handle, right handle, right trigger) at the bottom right.
    fn draw_rumble(&self, canvas: &mut WindowCanvas) -> bool {
        let Ok((ow, oh)) = canvas.output_size() else {
            return false;
        };
        let mut drawn = false;
        for (slot, (r, _)) in self.rumble.iter().enumerate() {
            let levels = motors(r);
            if levels == [0; 4] || self.pads.iter().any(|p| p.slot == slot) {
                continue;
            }
            drawn = true;
            let (bar_w, max_h, gap) = (10i32, 60i32, 4i32);
            let box_w = 4 * bar_w + 5 * gap;
            let x0 = ow as i32 - (slot as i32 + 1) * (box_w + 8);
            let y0 = oh as i32 - max_h - 2 * gap - 8;
            canvas.set_draw_color(Color::RGB(24, 24, 24));
            let _ = canvas.fill_rect(Rect::new(x0, y0, box_w as u32, (max_h + 2 * gap) as u32));
            for (i, &l) in levels.iter().enumerate() {
                let h = (i32::from(l) * max_h / 255).max(1);
                let x = x0 + gap + i as i32 * (bar_w + gap);
                canvas.set_draw_color(if i == 0 || i == 3 {
                    Color::RGB(255, 170, 0)
                } else {
                    Color::RGB(255, 60, 40)
                });
                let _ =
                    canvas.fill_rect(Rect::new(x, y0 + gap + max_h - h, bar_w as u32, h as u32));
            }
        }
        drawn
    }
}

/// The four motor levels of a rumble command: left trigger, left handle, right handle, right
/// trigger (the order the indicator draws them).
fn motors(r: &Rumble) -> [u8; 4] {
    [
        r.left_trigger,
        r.left_handle,
        r.right_handle,
        r.right_trigger,
    ]
}

/// Uploads a picture to the streaming YUV texture, recreating it when the size changes.
fn upload<'t>(
    creator: &'t sdl2::render::TextureCreator<sdl2::video::WindowContext>,
    texture: &mut Option<(Texture<'t>, u32, u32)>,
    pic: &Picture,
) -> Result<(), String> {
    if !matches!(texture, Some((_, w, h)) if *w == pic.width && *h == pic.height) {
        let t = creator
            .create_texture_streaming(PixelFormatEnum::IYUV, pic.width, pic.height)
            .map_err(|e| e.to_string())?;
        *texture = Some((t, pic.width, pic.height));
    }
    let (tex, _, _) = texture.as_mut().ok_or("no texture")?;
    tex.update_yuv(
        None,
        &pic.y,
        pic.width as usize,
        &pic.u,
        pic.chroma_width() as usize,
        &pic.v,
        pic.chroma_width() as usize,
    )
    .map_err(|e| e.to_string())
}

fn render(canvas: &mut WindowCanvas, texture: &Option<(Texture<'_>, u32, u32)>, player: &Player) {
    canvas.set_draw_color(Color::RGB(0, 0, 0));
    canvas.clear();
    if let Some((tex, w, h)) = texture {
        if let Ok(out) = canvas.output_size() {
            let _ = canvas.copy(tex, None, Some(fit(out, (*w, *h))));
        }
    }
    player.draw_rumble(canvas);
}

/// Reads back what `render` drew (call before `present`) and writes it as PNG.
fn save_screenshot(canvas: &WindowCanvas, path: &std::path::Path) -> Result<String, String> {
    let (w, h) = canvas.output_size()?;
    let rgb = canvas.read_pixels(None, PixelFormatEnum::RGB24)?;
    shot::write_png(path, w, h, &rgb)?;
    let colours = shot::distinct_colours(&rgb, 1 << 16);
    Ok(format!("{w}x{h}, {colours} colours"))
}

/// Audio output: an SDL queue fed with decoded PCM.
struct Audio {
    queue: AudioQueue<i16>,
    bytes_per_ms: u32,
    playing: bool,
    flushes: u64,
    samples: u64,
}

impl Audio {
    fn open(sub: &sdl2::AudioSubsystem, rate: u32, channels: u8) -> Result<Audio, String> {
        let spec = AudioSpecDesired {
            freq: i32::try_from(rate).ok(),
            channels: Some(channels),
            samples: Some(512),
        };
        let queue = sub.open_queue::<i16, _>(None, &spec)?;
        let got = queue.spec();
        if got.freq != i32::try_from(rate).unwrap_or(0) || got.channels != channels {
            return Err(format!(
                "device opened at {} Hz x{}, stream is {rate} Hz x{channels}",
                got.freq, got.channels
            ));
        }
        Ok(Audio {
            queue,
            bytes_per_ms: (rate * u32::from(channels) * 2 / 1000).max(1),
            playing: false,
            flushes: 0,
            samples: 0,
        })
    }

    fn push(&mut self, pcm: &[i16]) {
        if self.queue.size() > AUDIO_MAX_MS * self.bytes_per_ms {
            // The device fell behind (or the stream ran ahead): drop what waits, keep latency.
            self.queue.clear();
            self.flushes += 1;
        }
        if self.queue.queue_audio(pcm).is_ok() {
            self.samples += pcm.len() as u64;
        }
        if !self.playing && self.queue.size() >= AUDIO_START_MS * self.bytes_per_ms {
            self.queue.resume();
            self.playing = true;
        }
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("player: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<ExitCode, String> {
    let (win_w, win_h) = parse_size(&args.window)?;
    // Where to connect first: a bad address or an unwired --console fails before any window.
    let ep = endpoint(args)?;
    let sdl = sdl2::init()?;
    let video = sdl.video()?;
    let audio_sub = if args.no_audio {
        None
    } else {
        sdl.audio()
            .map_err(|e| eprintln!("player: no audio ({e})"))
            .ok()
    };
    let gc = sdl
        .game_controller()
        .map_err(|e| eprintln!("player: no game controller support ({e})"))
        .ok();
    let _ = sdl2::hint::set("SDL_RENDER_SCALE_QUALITY", "1");
    let mut window = video.window("xnano player | connecting", win_w, win_h);
    window.position_centered().resizable().allow_highdpi();
    let window = window.build().map_err(|e| e.to_string())?;
    let mut builder = window.into_canvas();
    if args.software {
        builder = builder.software();
    }
    let mut canvas = builder.build().map_err(|e| e.to_string())?;
    if args.fullscreen {
        let _ = canvas.window_mut().set_fullscreen(FullscreenType::Desktop);
    }
    let creator = canvas.texture_creator();
    let mut event_pump = sdl.event_pump()?;
    eprintln!(
        "player: SDL video driver {}, renderer {}",
        video.current_video_driver(),
        canvas.info().name
    );

    // Show something while connecting.
    canvas.set_draw_color(Color::RGB(0, 0, 0));
    canvas.clear();
    canvas.present();

    eprintln!("player: connecting to {}", ep.label);

    let (video_tx, video_rx) = unbounded::<VideoIn>();
    let (audio_tx, audio_rx) = unbounded::<AudioIn>();
    let (media_tx, media_rx) = unbounded::<ToWindow>();
    let (engine_tx, engine_rx) = unbounded::<FromEngine>();
    let mailbox = Arc::new(Mailbox::default());
    let counters = Arc::new(Counters::default());
    let video_thread = media::spawn_video(
        video_rx,
        mailbox.clone(),
        counters.clone(),
        media_tx.clone(),
    )
    .map_err(|e| e.to_string())?;
    let audio_thread =
        media::spawn_audio(audio_rx, counters.clone(), media_tx).map_err(|e| e.to_string())?;

    let handler: EventHandler = Box::new(move |ev: &ClientEvent| {
        // Runs on the engine's socket threads: copy and hand over, never block.
        match ev {
            ClientEvent::VideoFrame(f) => {
                let _ = video_tx.send(VideoIn::Frame {
                    frame_id: f.frame_id,
                    keyframe: f.keyframe,
                    data: f.data.clone(),
                    arrived: f.completed_at,
                });
            }
            ClientEvent::FramesLost { .. } => {
                let _ = video_tx.send(VideoIn::Lost);
            }
            ClientEvent::Audio(p) => {
                let _ = audio_tx.send(AudioIn::Packet(p.data.clone()));
            }
            ClientEvent::AudioFormat(f) => {
                let _ = audio_tx.send(AudioIn::Format(f.clone()));
            }
            ClientEvent::VideoFormat(f) => {
                let _ = engine_tx.send(FromEngine::VideoFormat(f.width, f.height, f.fps));
            }
            ClientEvent::InputReady(n) => {
                let _ = engine_tx.send(FromEngine::InputReady(*n));
            }
            ClientEvent::Rumble(r) => {
                let _ = engine_tx.send(FromEngine::Rumble(*r));
            }
            ClientEvent::Closed(reason) => {
                let _ = engine_tx.send(FromEngine::Closed(reason.clone()));
            }
            _ => {}
        }
    });
    let client = Client::connect(ep.tcp, ep.udp, ClientConfig::default(), handler)
        .map_err(|e| format!("connecting to {}: {e}", ep.label))?;

    let mut player = Player {
        client,
        pads: Vec::new(),
        sent: [None; MAX_CONTROLLERS],
        rumble: [(Rumble::default(), Instant::now()); MAX_CONTROLLERS],
        rumble_dirty: false,
        rumble_events: 0,
        input_errors: 0,
        warned: Default::default(),
    };
    if let Some(gc) = &gc {
        for i in 0..gc.num_joysticks().unwrap_or(0) {
            if gc.is_game_controller(i) {
                player.open_pad(gc, i);
            }
        }
    }
    // Announce controller 0 (the keyboard) so the console opens the Input channel.
    player.send_state(0, ControllerState::default());

    let started = Instant::now();
    let deadline = args
        .exit_after
        .map(|s| started + Duration::from_secs_f64(s.clamp(0.0, 1e6)));
    let mut texture: Option<(Texture<'_>, u32, u32)> = None;
    let mut audio: Option<Audio> = None;
    let mut title = TitleStats::new();
    let mut video_size: Option<(u32, u32)> = None;
    let mut shown: u64 = 0;
    let mut last_draw = Instant::now() - REDRAW;
    let mut closed: Option<CloseReason> = None;
    let mut fullscreen = args.fullscreen;
    let mut want_shot = false;
    let mut quit = false;

    while !quit {
        // Sleep until an event or 4 ms (the mailbox is checked every turn).
        let first = event_pump.wait_event_timeout(4);
        let events: Vec<Event> = first.into_iter().chain(event_pump.poll_iter()).collect();
        for ev in events {
            match ev {
                Event::Quit { .. } => quit = true,
                Event::KeyDown {
                    scancode: Some(sc),
                    repeat: false,
                    ..
                } => match sc {
                    Scancode::Escape => quit = true,
                    Scancode::F11 => {
                        fullscreen = !fullscreen;
                        let mode = if fullscreen {
                            FullscreenType::Desktop
                        } else {
                            FullscreenType::Off
                        };
                        let _ = canvas.window_mut().set_fullscreen(mode);
                    }
                    Scancode::F12 => want_shot = true,
                    _ => {}
                },
                Event::ControllerDeviceAdded { which, .. } => {
                    if let Some(gc) = &gc {
                        player.open_pad(gc, which);
                    }
                }
                Event::ControllerDeviceRemoved { which, .. } => player.close_pad(which),
                _ => {}
            }
        }
        let now = Instant::now();

        for msg in engine_rx.try_iter() {
            match msg {
                FromEngine::VideoFormat(w, h, fps) => {
                    eprintln!("player: video {w}x{h} at {fps} fps");
                }
                FromEngine::InputReady(n) => eprintln!("player: input ready on controller {n}"),
                FromEngine::Rumble(r) => player.on_rumble(r),
                FromEngine::Closed(reason) => {
                    closed = Some(reason);
                    quit = true;
                }
            }
        }
        for msg in media_rx.try_iter() {
            match msg {
                ToWindow::NeedKeyframe => {
                    let _ = player.client.request_keyframe();
                }
                ToWindow::AudioFormat {
                    sample_rate,
                    channels,
                } => {
                    audio = None;
                    if let Some(sub) = &audio_sub {
                        match Audio::open(sub, sample_rate, channels) {
                            Ok(a) => {
                                eprintln!("player: audio {sample_rate} Hz x{channels}");
                                audio = Some(a);
                            }
                            Err(e) => player.warn(format!("no audio: {e}")),
                        }
                    }
                }
                ToWindow::Pcm(pcm) => {
                    if let Some(a) = audio.as_mut() {
                        a.push(&pcm);
                    }
                }
                ToWindow::Warn(w) => player.warn(w),
            }
        }

        let keyboard = input::from_keyboard(|k| event_pump.keyboard_state().is_scancode_pressed(k));
        let script = args
            .auto_input
            .then(|| input::scripted(now.duration_since(started).as_millis()));
        player.poll_input(keyboard, script);

        let mut fresh = None;
        if let Some(pic) = mailbox.take() {
            match upload(&creator, &mut texture, &pic) {
                Ok(()) => {
                    video_size = Some((pic.width, pic.height));
                    fresh = Some(pic.arrived);
                }
                Err(e) => player.warn(format!("video texture: {e}")),
            }
            mailbox.recycle(pic);
        }
        player.refresh_rumble(now);
        let finishing = quit || deadline.is_some_and(|d| now >= d);
        if fresh.is_some()
            || player.rumble_dirty
            || want_shot
            || finishing
            || now.duration_since(last_draw) >= REDRAW
        {
            render(&mut canvas, &texture, &player);
            player.rumble_dirty = false;
            if want_shot || (finishing && args.screenshot.is_some()) {
                want_shot = false;
                let path = args.screenshot.clone().unwrap_or_else(|| {
                    let secs = std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map(|d| d.as_secs())
                        .unwrap_or(0);
                    PathBuf::from(format!("xnano-player-{secs}.png"))
                });
                match save_screenshot(&canvas, &path) {
                    Ok(what) => eprintln!("player: screenshot {} ({what})", path.display()),
                    Err(e) => eprintln!("player: screenshot {}: {e}", path.display()),
                }
            }
            canvas.present();
            last_draw = Instant::now();
            if let Some(arrived) = fresh {
                shown += 1;
                title.shown += 1;
                title
                    .latencies
                    .push(last_draw.saturating_duration_since(arrived));
            }
        }
        if now.duration_since(title.since) >= Duration::from_secs(1) {
            let t = title.title(now, player.client.stats(), video_size);
            let _ = canvas.window_mut().set_title(&t);
        }
        if finishing {
            quit = true;
        }
    }

    let elapsed = started.elapsed().as_secs_f64();
    let Player {
        client,
        pads,
        rumble_events,
        input_errors,
        ..
    } = player;
    drop(pads);
    let stats = client.stop().map_err(|e| e.to_string())?;
    // The engine's handler (and with it the channel senders) is gone: the threads end.
    let _ = video_thread.join();
    let _ = audio_thread.join();
    drop(ep);

    let g = |c: &std::sync::atomic::AtomicU64| Counters::get(c);
    println!(
        "player: seconds={elapsed:.1} shown={shown} decoded={} frames_in={} skipped={} \
         decode_errors={} frames_delivered={} frames_lost={} keyframes={} audio_packets={} \
         audio_errors={} audio_samples={} audio_flushes={} input_frames_sent={} input_errors={} \
         rumble={rumble_events}",
        g(&counters.decoded),
        g(&counters.frames_in),
        g(&counters.skipped),
        g(&counters.decode_errors),
        stats.frames_delivered,
        stats.frames_lost,
        stats.keyframes_delivered,
        g(&counters.audio_packets),
        g(&counters.audio_errors),
        audio.as_ref().map_or(0, |a| a.samples),
        audio.as_ref().map_or(0, |a| a.flushes),
        stats.input_frames_sent,
        input_errors,
    );
    match closed {
        Some(CloseReason::Local) | Some(CloseReason::ConnectionClosed) | None => {}
        Some(reason) => {
            eprintln!("player: the session ended: {reason}");
            return Ok(ExitCode::FAILURE);
        }
    }
    if args.exit_after.is_some() && shown == 0 {
        eprintln!("player: no picture was shown");
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nano_spec() {
        let (t, u) = parse_nano("127.0.0.1:53000:53001").unwrap();
        assert_eq!(t, "127.0.0.1:53000".parse().unwrap());
        assert_eq!(u, "127.0.0.1:53001".parse().unwrap());
        let (t, u) = parse_nano("[::1]:1:2").unwrap();
        assert_eq!(t, "[::1]:1".parse().unwrap());
        assert_eq!(u.port(), 2);
        let (t, _) = parse_nano("localhost:5:6").unwrap();
        assert!(t.ip().is_loopback());
        for bad in ["", "1.2.3.4", "1.2.3.4:5", ":5:6", "h:x:6", "h:5:70000"] {
            assert!(parse_nano(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1280x720"), Ok((1280, 720)));
        assert_eq!(parse_size("640X360"), Ok((640, 360)));
        assert!(parse_size("0x5").is_err());
        assert!(parse_size("1280").is_err());
    }

    #[test]
    fn letterbox() {
        assert_eq!(fit((1280, 720), (1280, 720)), Rect::new(0, 0, 1280, 720));
        // Wider window: bars left and right.
        assert_eq!(fit((1600, 720), (1280, 720)), Rect::new(160, 0, 1280, 720));
        // Taller window: bars top and bottom.
        assert_eq!(fit((640, 640), (1280, 720)), Rect::new(0, 140, 640, 360));
        assert_eq!(fit((0, 0), (0, 0)), Rect::new(0, 0, 1, 1));
    }

    #[test]
    fn console_with_a_bad_address_is_a_clear_error() {
        let e = connect_console("no-such-host.invalid").err().unwrap();
        assert!(e.contains("--console no-such-host.invalid"), "{e}");
    }

    #[test]
    fn console_streams_from_the_simulated_console() {
        use xnano_sim::smartglass::{Host as SgHost, SimConfig as SgSimConfig};
        let sim = SgHost::start(SgSimConfig::default()).unwrap();
        let ep = connect_console(&sim.addr().to_string()).unwrap();
        let (tcp, udp) = sim.nano_addrs().expect("the console started its Nano host");
        assert_eq!((ep.tcp.port(), ep.udp.port()), (tcp.port(), udp.port()));
    }

    #[test]
    fn title_figures() {
        let mut t = TitleStats::new();
        t.since = Instant::now() - Duration::from_secs(1);
        t.shown = 60;
        t.latencies = vec![Duration::from_millis(3), Duration::from_millis(9)];
        let st = StreamStats {
            video_bytes: 1_000_000,
            frames_delivered: 57,
            frames_lost: 3,
            ..Default::default()
        };
        let s = t.title(Instant::now(), st, Some((1280, 720)));
        assert!(s.contains("1280x720"), "{s}");
        assert!(s.contains("| 60 fps"), "{s}");
        assert!(s.contains("8.0 Mbit/s"), "{s}");
        assert!(s.contains("loss 5.0% (3)"), "{s}");
        assert!(s.contains("latency 9.0 ms"), "{s}");
        assert_eq!(t.shown, 0);
    }
}
