//! Gamestream control over the SystemBroadcast channel (reference
//! `xbox.nano.manager` / `xbox.nano.packet.json`).
//!
//! The client sends `{"type":1,"configuration":{...},"reQueryPreviewStatus":true}`
//! (StartGameStream) with the configuration described in
//! docs/protocol.md#startgamestream-configuration (every value a
//! string), and `{"type":2}` (StopGameStream). The console answers with
//! GameStreamEnabled (4), PreviewStatus (7), GameStreamState (3: Initializing
//! with the Nano TCP/UDP ports, Started with the link facts, Stopped...),
//! GameStreamError (5) and Telemetry (6). JSON texts are written compact with
//! sorted keys, as the reference writes them.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::nano::ClientConfig;

/// Broadcast message type values (`type`).
pub mod msg_type {
    /// Unknown.
    pub const UNKNOWN: i64 = 0;
    /// StartGameStream (client → console).
    pub const START_GAME_STREAM: i64 = 1;
    /// StopGameStream (client → console).
    pub const STOP_GAME_STREAM: i64 = 2;
    /// GameStreamState.
    pub const GAME_STREAM_STATE: i64 = 3;
    /// GameStreamEnabled.
    pub const GAME_STREAM_ENABLED: i64 = 4;
    /// GameStreamError.
    pub const GAME_STREAM_ERROR: i64 = 5;
    /// Telemetry.
    pub const TELEMETRY: i64 = 6;
    /// PreviewStatus.
    pub const PREVIEW_STATUS: i64 = 7;
}

/// The Nano protocol version the client speaks (NanoManager).
pub(crate) const CLIENT_MAJOR_VERSION: u32 = 6;
/// The Nano protocol minor version the client speaks.
pub(crate) const CLIENT_MINOR_VERSION: u32 = 0;

/// An error in a configuration value or a broadcast JSON message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GameStreamError {
    /// A configuration key is unknown to [`GameStreamConfig::set`] (use
    /// [`GameStreamConfig::extra`] for keys of your own).
    #[error("unknown gamestream configuration key {0:?}")]
    UnknownKey(String),
    /// A configuration value does not parse as the key's type.
    #[error("gamestream configuration {key}: {value:?} is not {expected}")]
    BadValue {
        /// The key.
        key: String,
        /// The value given.
        value: String,
        /// What the key takes.
        expected: &'static str,
    },
    /// A broadcast message is not usable JSON.
    #[error("broadcast message: {0}")]
    Json(String),
}

fn bad(key: &str, value: &str, expected: &'static str) -> GameStreamError {
    GameStreamError::BadValue {
        key: key.to_string(),
        value: value.to_string(),
        expected,
    }
}

trait ConfigValue: Sized {
    const KIND: &'static str;
    fn render(&self) -> String;
    fn parse(s: &str) -> Option<Self>;
}

impl ConfigValue for i64 {
    const KIND: &'static str = "an integer";
    fn render(&self) -> String {
        self.to_string()
    }
    fn parse(s: &str) -> Option<Self> {
        s.trim().parse().ok()
    }
}

impl ConfigValue for f64 {
    const KIND: &'static str = "a finite number";
    fn render(&self) -> String {
        // `{}` writes 0.99 as "0.99" and 1.0 as "1", as the reference's strings.
        format!("{self}")
    }
    fn parse(s: &str) -> Option<Self> {
        s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

impl ConfigValue for bool {
    const KIND: &'static str = "true or false";
    fn render(&self) -> String {
        if *self { "true" } else { "false" }.to_string()
    }
    fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        }
    }
}

macro_rules! gamestream_config {
    ($( $(#[$m:meta])* $field:ident : $ty:ty = $key:literal, $default:expr; )*) => {
        /// The StartGameStream configuration. Defaults are those of
        /// docs/protocol.md#startgamestream-configuration (NanoManager
        /// `DEFAULT_CONFIG`); every key can be set through its
        /// field or by its JSON name with [`GameStreamConfig::set`]. Keys of
        /// your own go into [`GameStreamConfig::extra`] (sent as given; they
        /// override a typed key of the same name).
        #[derive(Debug, Clone, PartialEq, Serialize)]
        pub struct GameStreamConfig {
            $( $(#[$m])* #[doc = concat!("(`", $key, "`)")] pub $field: $ty, )*
            /// Ask the console to (re)send its PreviewStatus (`reQueryPreviewStatus`).
            pub re_query_preview_status: bool,
            /// Further configuration keys, sent as strings.
            pub extra: BTreeMap<String, String>,
        }

        impl Default for GameStreamConfig {
            fn default() -> Self {
                GameStreamConfig {
                    $( $field: $default, )*
                    re_query_preview_status: true,
                    extra: BTreeMap::new(),
                }
            }
        }

        impl GameStreamConfig {
            /// Every typed key's JSON name.
            pub const KEYS: &'static [&'static str] = &[ $( $key, )* ];

            /// Sets a typed key by its JSON name (e.g. `"videoMaximumWidth"`)
            /// from its string form.
            pub fn set(&mut self, key: &str, value: &str) -> Result<(), GameStreamError> {
                match key {
                    $( $key => {
                        self.$field = <$ty as ConfigValue>::parse(value)
                            .ok_or_else(|| bad(key, value, <$ty as ConfigValue>::KIND))?;
                        Ok(())
                    } )*
                    _ => Err(GameStreamError::UnknownKey(key.to_string())),
                }
            }

            /// The string a key is sent as (typed keys, then `extra`).
            pub fn get(&self, key: &str) -> Option<String> {
                if let Some(v) = self.extra.get(key) {
                    return Some(v.clone());
                }
                match key {
                    $( $key => Some(ConfigValue::render(&self.$field)), )*
                    _ => None,
                }
            }

            /// The configuration as sent: every key with its string value.
            pub fn to_map(&self) -> BTreeMap<String, String> {
                let mut m = BTreeMap::new();
                $( m.insert($key.to_string(), ConfigValue::render(&self.$field)); )*
                for (k, v) in &self.extra {
                    m.insert(k.clone(), v.clone());
                }
                m
            }
        }
    };
}

gamestream_config! {
    /// Audio FEC type.
    audio_fec_type: i64 = "audioFecType", 0;
    /// Audio sync policy.
    audio_sync_policy: i64 = "audioSyncPolicy", 1;
    /// Audio sync: maximum latency (ms).
    audio_sync_max_latency: i64 = "audioSyncMaxLatency", 170;
    /// Audio sync: desired latency (ms).
    audio_sync_desired_latency: i64 = "audioSyncDesiredLatency", 40;
    /// Audio sync: minimum latency (ms).
    audio_sync_min_latency: i64 = "audioSyncMinLatency", 10;
    /// Audio sync: compress latency (ms).
    audio_sync_compress_latency: i64 = "audioSyncCompressLatency", 100;
    /// Audio sync: compress factor.
    audio_sync_compress_factor: f64 = "audioSyncCompressFactor", 0.99;
    /// Audio sync: lengthen factor.
    audio_sync_lengthen_factor: f64 = "audioSyncLengthenFactor", 1.01;
    /// Audio buffer length (100 ns units).
    audio_buffer_length_hns: i64 = "audioBufferLengthHns", 10_000_000;
    /// Opus for chat audio.
    enable_opus_chat_audio: bool = "enableOpusChatAudio", true;
    /// Dynamic bitrate.
    enable_dynamic_bitrate: bool = "enableDynamicBitrate", false;
    /// Chat audio.
    enable_audio_chat: bool = "enableAudioChat", true;
    /// Video frame acknowledgements.
    enable_video_frame_acks: bool = "enableVideoFrameAcks", false;
    /// Opus for game audio (AAC otherwise).
    enable_opus_audio: bool = "enableOpusAudio", false;
    /// Dynamic bitrate update interval (ms).
    dynamic_bitrate_update_ms: i64 = "dynamicBitrateUpdateMs", 5000;
    /// Dynamic bitrate scale factor.
    dynamic_bitrate_scale_factor: f64 = "dynamicBitrateScaleFactor", 1.0;
    /// Input reads per second.
    input_reads_per_second: i64 = "inputReadsPerSecond", 120;
    /// Video FEC type.
    video_fec_type: i64 = "videoFecType", 0;
    /// Video FEC level.
    video_fec_level: i64 = "videoFecLevel", 3;
    /// Maximum video width.
    video_maximum_width: i64 = "videoMaximumWidth", 1280;
    /// Maximum video height.
    video_maximum_height: i64 = "videoMaximumHeight", 720;
    /// Maximum video frame rate.
    video_maximum_frame_rate: i64 = "videoMaximumFrameRate", 60;
    /// Video packet utilization.
    video_packet_utilization: i64 = "videoPacketUtilization", 0;
    /// How long a frame waits for missing packets (ms).
    video_packet_defrag_timeout_ms: i64 = "videoPacketDefragTimeoutMs", 16;
    /// Keyframes over TCP.
    send_keyframes_over_tcp: bool = "sendKeyframesOverTCP", false;
    /// UDP sub-burst groups.
    udp_sub_burst_groups: i64 = "udpSubBurstGroups", 5;
    /// UDP burst duration (ms).
    udp_burst_duration_ms: i64 = "udpBurstDurationMs", 11;
    /// UDP packets in flight in Winsock.
    udp_max_send_packets_in_winsock: i64 = "udpMaxSendPacketsInWinsock", 250;
    /// URCP (rate control) type.
    urcp_type: i64 = "urcpType", 0;
    /// URCP fixed rate (-1: none).
    urcp_fixed_rate: i64 = "urcpFixedRate", -1;
    /// URCP maximum rate (bit/s).
    urcp_maximum_rate: i64 = "urcpMaximumRate", 10_000_000;
    /// URCP minimum rate (bit/s).
    urcp_minimum_rate: i64 = "urcpMinimumRate", 256_000;
    /// URCP maximum window (bytes).
    urcp_maximum_window: i64 = "urcpMaximumWindow", 1_310_720;
    /// URCP keep-alive timeout (ms).
    urcp_keep_alive_timeout_ms: i64 = "urcpKeepAliveTimeoutMs", 0;
}

impl GameStreamConfig {
    /// The StartGameStream JSON text (compact, sorted keys).
    pub fn start_message(&self) -> String {
        let conf: Map<String, Value> = self
            .to_map()
            .into_iter()
            .map(|(k, v)| (k, Value::String(v)))
            .collect();
        let mut m = Map::new();
        m.insert("configuration".into(), Value::Object(conf));
        m.insert(
            "reQueryPreviewStatus".into(),
            Value::Bool(self.re_query_preview_status),
        );
        m.insert("type".into(), Value::from(msg_type::START_GAME_STREAM));
        Value::Object(m).to_string()
    }

    /// Carries the values the Nano client also uses into its configuration:
    /// the defrag timeout (`videoPacketDefragTimeoutMs`), the input rate
    /// (`inputReadsPerSecond`) and whether ChatAudio is opened
    /// (`enableAudioChat`).
    pub fn apply_to(&self, nano: &mut ClientConfig) {
        if let Ok(ms) = u64::try_from(self.video_packet_defrag_timeout_ms) {
            nano.reassembly.defrag_timeout = Duration::from_millis(ms.max(1));
        }
        if let Ok(r) = u32::try_from(self.input_reads_per_second) {
            if r > 0 {
                nano.input_reads_per_second = r;
            }
        }
        nano.chat_audio = self.enable_audio_chat;
    }
}

/// The StopGameStream JSON text.
pub(crate) fn stop_message() -> String {
    format!("{{\"type\":{}}}", msg_type::STOP_GAME_STREAM)
}

/// A gamestream state (`state` of GameStreamState messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GameStreamState {
    /// Unknown (0; also the state before any message).
    Unknown,
    /// Initializing (1): the Nano ports are announced.
    Initializing,
    /// Started (2): the Nano host is ready.
    Started,
    /// Stopped (3).
    Stopped,
    /// Paused (4).
    Paused,
    /// A value this version does not know.
    Other(i64),
}

impl GameStreamState {
    /// From the JSON value.
    pub fn from_raw(v: i64) -> GameStreamState {
        match v {
            0 => GameStreamState::Unknown,
            1 => GameStreamState::Initializing,
            2 => GameStreamState::Started,
            3 => GameStreamState::Stopped,
            4 => GameStreamState::Paused,
            o => GameStreamState::Other(o),
        }
    }

    /// The JSON value.
    pub fn raw(self) -> i64 {
        match self {
            GameStreamState::Unknown => 0,
            GameStreamState::Initializing => 1,
            GameStreamState::Started => 2,
            GameStreamState::Stopped => 3,
            GameStreamState::Paused => 4,
            GameStreamState::Other(o) => o,
        }
    }

    /// The reference's name.
    pub fn name(self) -> &'static str {
        match self {
            GameStreamState::Unknown | GameStreamState::Other(_) => "Unknown",
            GameStreamState::Initializing => "Initializing",
            GameStreamState::Started => "Started",
            GameStreamState::Stopped => "Stopped",
            GameStreamState::Paused => "Paused",
        }
    }
}

impl Serialize for GameStreamState {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("GameStreamState", 2)?;
        st.serialize_field("name", self.name())?;
        st.serialize_field("value", &self.raw())?;
        st.end()
    }
}

/// The name of a GameStreamError `errorType` (reference enum).
pub fn error_type_name(v: i64) -> &'static str {
    const NAMES: [&str; 19] = [
        "Unknown",
        "General",
        "FailedToInstantiate",
        "FailedToInitialize",
        "FailedToStart",
        "FailedToStop",
        "NoController",
        "DifferentMsaActive",
        "DrmVideo",
        "HdcpVideo",
        "KinectTitle",
        "ProhibitedGame",
        "PoorNetworkConnection",
        "StreamingDisabled",
        "CannotReachConsole",
        "GenericError",
        "VersionMismatch",
        "NoProfile",
        "BroadcastInProgress",
    ];
    usize::try_from(v)
        .ok()
        .and_then(|i| NAMES.get(i).copied())
        .unwrap_or("Unknown")
}

/// A GameStreamState message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamStateInfo {
    /// The state.
    pub state: GameStreamState,
    /// The stream session id (`sessionId`, e.g. `{14608F3C-...}`).
    pub session_id: String,
    /// Nano UDP port (Initializing).
    pub udp_port: Option<u16>,
    /// Nano TCP port (Initializing).
    pub tcp_port: Option<u16>,
    /// The console is on a wireless link (Started).
    pub is_wireless_connection: Option<bool>,
    /// Wireless channel (Started).
    pub wireless_channel: Option<i64>,
    /// Link speed in bit/s (Started).
    pub transmit_link_speed: Option<u64>,
}

/// A GameStreamEnabled message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamEnabledInfo {
    /// Streaming is enabled on the console.
    pub enabled: bool,
    /// Streaming could be enabled.
    pub can_be_enabled: bool,
    /// The console's Nano protocol major version.
    pub major_protocol_version: i64,
    /// The console's Nano protocol minor version.
    pub minor_protocol_version: i64,
}

/// A GameStreamError message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamErrorInfo {
    /// Error type (see [`error_type_name`]).
    pub error_type: i64,
    /// Error value.
    pub error_value: i64,
}

/// A PreviewStatus message.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PreviewStatusInfo {
    /// Public preview.
    pub is_public_preview: bool,
    /// Internal preview.
    pub is_internal_preview: bool,
}

/// A SystemBroadcast JSON message, parsed.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum GameStreamEvent {
    /// StartGameStream (a console receives it).
    Start {
        /// The configuration as sent.
        configuration: BTreeMap<String, String>,
        /// `reQueryPreviewStatus`.
        re_query_preview_status: bool,
    },
    /// StopGameStream (a console receives it).
    Stop,
    /// GameStreamState.
    State(StreamStateInfo),
    /// GameStreamEnabled.
    Enabled(StreamEnabledInfo),
    /// GameStreamError.
    Error(StreamErrorInfo),
    /// Telemetry (the whole JSON text).
    Telemetry {
        /// The JSON text.
        json: String,
    },
    /// PreviewStatus.
    PreviewStatus(PreviewStatusInfo),
    /// A type this version does not know (the whole JSON text).
    Unknown {
        /// The `type` value.
        msg_type: i64,
        /// The JSON text.
        json: String,
    },
}

fn jerr(s: impl Into<String>) -> GameStreamError {
    GameStreamError::Json(s.into())
}

fn get_i64(m: &Map<String, Value>, k: &str) -> Result<i64, GameStreamError> {
    match m.get(k) {
        Some(Value::Number(n)) => n
            .as_i64()
            .ok_or_else(|| jerr(format!("{k} is not an integer"))),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map_err(|_| jerr(format!("{k} is not an integer"))),
        Some(_) => Err(jerr(format!("{k} is not an integer"))),
        None => Err(jerr(format!("{k} is missing"))),
    }
}

fn get_bool(m: &Map<String, Value>, k: &str) -> Result<bool, GameStreamError> {
    match m.get(k) {
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) => {
            bool::parse(s).ok_or_else(|| jerr(format!("{k} is not a boolean")))
        }
        Some(Value::Number(n)) => Ok(n.as_i64() != Some(0)),
        Some(_) => Err(jerr(format!("{k} is not a boolean"))),
        None => Err(jerr(format!("{k} is missing"))),
    }
}

fn get_port(m: &Map<String, Value>, k: &str) -> Result<u16, GameStreamError> {
    let v = get_i64(m, k)?;
    u16::try_from(v)
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| jerr(format!("{k} {v} is not a port")))
}

impl GameStreamEvent {
    /// Parses a SystemBroadcast JSON text. Numbers may also come as strings.
    pub fn parse(text: &str) -> Result<GameStreamEvent, GameStreamError> {
        let v: Value = serde_json::from_str(text).map_err(|e| jerr(format!("not JSON: {e}")))?;
        let m = v.as_object().ok_or_else(|| jerr("not a JSON object"))?;
        let t = get_i64(m, "type")?;
        Ok(match t {
            msg_type::START_GAME_STREAM => {
                let conf = m
                    .get("configuration")
                    .and_then(Value::as_object)
                    .ok_or_else(|| jerr("configuration is missing"))?;
                let configuration = conf
                    .iter()
                    .map(|(k, v)| {
                        let s = match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        };
                        (k.clone(), s)
                    })
                    .collect();
                GameStreamEvent::Start {
                    configuration,
                    re_query_preview_status: get_bool(m, "reQueryPreviewStatus").unwrap_or(false),
                }
            }
            msg_type::STOP_GAME_STREAM => GameStreamEvent::Stop,
            msg_type::GAME_STREAM_STATE => {
                let state = GameStreamState::from_raw(get_i64(m, "state")?);
                let session_id = match m.get("sessionId") {
                    Some(Value::String(s)) => s.clone(),
                    None => String::new(),
                    Some(_) => return Err(jerr("sessionId is not a string")),
                };
                let mut info = StreamStateInfo {
                    state,
                    session_id,
                    udp_port: None,
                    tcp_port: None,
                    is_wireless_connection: None,
                    wireless_channel: None,
                    transmit_link_speed: None,
                };
                match state {
                    GameStreamState::Initializing => {
                        info.udp_port = Some(get_port(m, "udpPort")?);
                        info.tcp_port = Some(get_port(m, "tcpPort")?);
                    }
                    GameStreamState::Started => {
                        info.is_wireless_connection = Some(get_bool(m, "isWirelessConnection")?);
                        info.wireless_channel = Some(get_i64(m, "wirelessChannel")?);
                        let speed = get_i64(m, "transmitLinkSpeed")?;
                        info.transmit_link_speed = Some(
                            u64::try_from(speed)
                                .map_err(|_| jerr("transmitLinkSpeed is negative"))?,
                        );
                    }
                    _ => {}
                }
                GameStreamEvent::State(info)
            }
            msg_type::GAME_STREAM_ENABLED => GameStreamEvent::Enabled(StreamEnabledInfo {
                enabled: get_bool(m, "enabled")?,
                can_be_enabled: get_bool(m, "canBeEnabled")?,
                major_protocol_version: get_i64(m, "majorProtocolVersion")?,
                minor_protocol_version: get_i64(m, "minorProtocolVersion")?,
            }),
            msg_type::GAME_STREAM_ERROR => GameStreamEvent::Error(StreamErrorInfo {
                error_type: get_i64(m, "errorType")?,
                error_value: get_i64(m, "errorValue")?,
            }),
            msg_type::TELEMETRY => GameStreamEvent::Telemetry {
                json: text.to_string(),
            },
            msg_type::PREVIEW_STATUS => GameStreamEvent::PreviewStatus(PreviewStatusInfo {
                is_public_preview: get_bool(m, "isPublicPreview")?,
                is_internal_preview: get_bool(m, "isInternalPreview")?,
            }),
            other => GameStreamEvent::Unknown {
                msg_type: other,
                json: text.to_string(),
            },
        })
    }

    /// The JSON text of this message as the console (or, for Start/Stop,
    /// the client) sends it: compact, sorted keys, ports and flags as JSON
    /// numbers and booleans.
    pub fn to_json(&self) -> String {
        let mut m = Map::new();
        let t = match self {
            GameStreamEvent::Start {
                configuration,
                re_query_preview_status,
            } => {
                let c: Map<String, Value> = configuration
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect();
                m.insert("configuration".into(), Value::Object(c));
                m.insert(
                    "reQueryPreviewStatus".into(),
                    Value::Bool(*re_query_preview_status),
                );
                msg_type::START_GAME_STREAM
            }
            GameStreamEvent::Stop => msg_type::STOP_GAME_STREAM,
            GameStreamEvent::State(s) => {
                m.insert("state".into(), Value::from(s.state.raw()));
                m.insert("sessionId".into(), Value::from(s.session_id.clone()));
                if let Some(p) = s.udp_port {
                    m.insert("udpPort".into(), Value::from(p));
                }
                if let Some(p) = s.tcp_port {
                    m.insert("tcpPort".into(), Value::from(p));
                }
                if let Some(w) = s.is_wireless_connection {
                    m.insert("isWirelessConnection".into(), Value::Bool(w));
                }
                if let Some(c) = s.wireless_channel {
                    m.insert("wirelessChannel".into(), Value::from(c));
                }
                if let Some(l) = s.transmit_link_speed {
                    m.insert("transmitLinkSpeed".into(), Value::from(l));
                }
                msg_type::GAME_STREAM_STATE
            }
            GameStreamEvent::Enabled(e) => {
                m.insert("enabled".into(), Value::Bool(e.enabled));
                m.insert("canBeEnabled".into(), Value::Bool(e.can_be_enabled));
                m.insert(
                    "majorProtocolVersion".into(),
                    Value::from(e.major_protocol_version),
                );
                m.insert(
                    "minorProtocolVersion".into(),
                    Value::from(e.minor_protocol_version),
                );
                msg_type::GAME_STREAM_ENABLED
            }
            GameStreamEvent::Error(e) => {
                m.insert("errorType".into(), Value::from(e.error_type));
                m.insert("errorValue".into(), Value::from(e.error_value));
                msg_type::GAME_STREAM_ERROR
            }
            GameStreamEvent::Telemetry { json } | GameStreamEvent::Unknown { json, .. } => {
                return json.clone()
            }
            GameStreamEvent::PreviewStatus(p) => {
                m.insert("isPublicPreview".into(), Value::Bool(p.is_public_preview));
                m.insert(
                    "isInternalPreview".into(),
                    Value::Bool(p.is_internal_preview),
                );
                msg_type::PREVIEW_STATUS
            }
        };
        m.insert("type".into(), Value::from(t));
        Value::Object(m).to_string()
    }
}

/// What the console said about the gamestream so far (everything NanoManager
/// exposes).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GameStreamStatus {
    /// The Nano protocol major version we speak (6).
    pub client_major_version: u32,
    /// The Nano protocol minor version we speak (0).
    pub client_minor_version: u32,
    /// The latest state.
    pub state: GameStreamState,
    /// The stream reached Started since it last was Stopped/Unknown.
    pub streaming: bool,
    /// Streaming enabled (GameStreamEnabled).
    pub enabled: Option<bool>,
    /// Streaming can be enabled (GameStreamEnabled).
    pub can_be_enabled: Option<bool>,
    /// The console's Nano protocol major version (GameStreamEnabled).
    pub server_major_version: Option<i64>,
    /// The console's Nano protocol minor version (GameStreamEnabled).
    pub server_minor_version: Option<i64>,
    /// Stream session id (Initializing).
    pub session_id: Option<String>,
    /// Nano TCP port (Initializing).
    pub tcp_port: Option<u16>,
    /// Nano UDP port (Initializing).
    pub udp_port: Option<u16>,
    /// Wireless link (Started).
    pub wireless: Option<bool>,
    /// Wireless channel (Started).
    pub wireless_channel: Option<i64>,
    /// Link speed (Started).
    pub transmit_linkspeed: Option<u64>,
    /// The last GameStreamError.
    pub last_error: Option<StreamErrorInfo>,
    /// The last PreviewStatus.
    pub preview_status: Option<PreviewStatusInfo>,
    /// The last Telemetry JSON text.
    pub telemetry: Option<String>,
}

impl Default for GameStreamStatus {
    fn default() -> Self {
        GameStreamStatus {
            client_major_version: CLIENT_MAJOR_VERSION,
            client_minor_version: CLIENT_MINOR_VERSION,
            state: GameStreamState::Unknown,
            streaming: false,
            enabled: None,
            can_be_enabled: None,
            server_major_version: None,
            server_minor_version: None,
            session_id: None,
            tcp_port: None,
            udp_port: None,
            wireless: None,
            wireless_channel: None,
            transmit_linkspeed: None,
            last_error: None,
            preview_status: None,
            telemetry: None,
        }
    }
}

impl GameStreamStatus {
    /// Folds in a message from the console (as NanoManager does: Stopped and
    /// Unknown clear the states seen before).
    pub fn update(&mut self, ev: &GameStreamEvent) {
        match ev {
            GameStreamEvent::State(s) => {
                if matches!(s.state, GameStreamState::Stopped | GameStreamState::Unknown) {
                    self.streaming = false;
                    self.session_id = None;
                    self.tcp_port = None;
                    self.udp_port = None;
                    self.wireless = None;
                    self.wireless_channel = None;
                    self.transmit_linkspeed = None;
                }
                match s.state {
                    GameStreamState::Initializing => {
                        self.session_id = Some(s.session_id.clone());
                        self.tcp_port = s.tcp_port;
                        self.udp_port = s.udp_port;
                    }
                    GameStreamState::Started => {
                        self.streaming = true;
                        self.wireless = s.is_wireless_connection;
                        self.wireless_channel = s.wireless_channel;
                        self.transmit_linkspeed = s.transmit_link_speed;
                    }
                    _ => {}
                }
                self.state = s.state;
            }
            GameStreamEvent::Enabled(e) => {
                self.enabled = Some(e.enabled);
                self.can_be_enabled = Some(e.can_be_enabled);
                self.server_major_version = Some(e.major_protocol_version);
                self.server_minor_version = Some(e.minor_protocol_version);
            }
            GameStreamEvent::Error(e) => self.last_error = Some(e.clone()),
            GameStreamEvent::PreviewStatus(p) => self.preview_status = Some(p.clone()),
            GameStreamEvent::Telemetry { json } => self.telemetry = Some(json.clone()),
            _ => {}
        }
    }

    /// The Nano ports once Started was reported after Initializing:
    /// `(tcp, udp)`.
    pub fn nano_ports(&self) -> Option<(u16, u16)> {
        if self.streaming {
            Some((self.tcp_port?, self.udp_port?))
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_start_message_matches_reference_size() {
        let s = GameStreamConfig::default().start_message();
        // The reference's json.dumps(separators=(',',':'), sort_keys=True).
        assert_eq!(s.len(), 1002);
        assert!(s.starts_with("{\"configuration\":{\"audioBufferLengthHns\":\"10000000\","));
        assert!(s.contains("\"audioSyncCompressFactor\":\"0.99\""));
        assert!(s.contains("\"dynamicBitrateScaleFactor\":\"1\""));
        assert!(s.contains("\"urcpFixedRate\":\"-1\""));
        assert!(s.ends_with("},\"reQueryPreviewStatus\":true,\"type\":1}"));
        assert_eq!(GameStreamConfig::KEYS.len(), 34);
    }

    #[test]
    fn set_and_get_by_key() {
        let mut c = GameStreamConfig::default();
        c.set("videoMaximumWidth", "1920").unwrap();
        c.set("enableOpusAudio", "true").unwrap();
        c.set("audioSyncCompressFactor", "0.5").unwrap();
        assert_eq!(c.video_maximum_width, 1920);
        assert!(c.enable_opus_audio);
        assert_eq!(c.get("audioSyncCompressFactor").as_deref(), Some("0.5"));
        assert!(matches!(
            c.set("videoMaximumWidth", "wide"),
            Err(GameStreamError::BadValue { .. })
        ));
        assert!(matches!(
            c.set("noSuchKey", "1"),
            Err(GameStreamError::UnknownKey(_))
        ));
        c.extra.insert("videoMaximumWidth".into(), "640".into());
        assert_eq!(c.to_map()["videoMaximumWidth"], "640");
    }

    #[test]
    fn parse_states_and_status() {
        let mut st = GameStreamStatus::default();
        for (text, check) in [
            (
                r#"{"type":4,"enabled":true,"canBeEnabled":true,"majorProtocolVersion":6,"minorProtocolVersion":0}"#,
                0,
            ),
            (
                r#"{"type":3,"state":1,"sessionId":"{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}","udpPort":49665,"tcpPort":53394}"#,
                1,
            ),
            (
                r#"{"type":3,"state":2,"sessionId":"{14608F3C-1C4A-4F32-9DA6-179CE1001E4A}","isWirelessConnection":false,"wirelessChannel":0,"transmitLinkSpeed":1000000000}"#,
                2,
            ),
        ] {
            let ev = GameStreamEvent::parse(text).unwrap();
            assert_eq!(GameStreamEvent::parse(&ev.to_json()).unwrap(), ev);
            st.update(&ev);
            match check {
                0 => assert_eq!(st.server_major_version, Some(6)),
                1 => assert_eq!(st.nano_ports(), None),
                _ => assert_eq!(st.nano_ports(), Some((53394, 49665))),
            }
        }
        assert_eq!(st.transmit_linkspeed, Some(1_000_000_000));
        let stopped = GameStreamEvent::parse(r#"{"type":3,"state":3,"sessionId":"x"}"#).unwrap();
        st.update(&stopped);
        assert!(!st.streaming);
        assert_eq!(st.tcp_port, None);
        assert!(GameStreamEvent::parse(
            r#"{"type":3,"state":1,"sessionId":"x","udpPort":0,"tcpPort":5}"#
        )
        .is_err());
        assert!(GameStreamEvent::parse("[1]").is_err());
        assert!(matches!(
            GameStreamEvent::parse(r#"{"type":42}"#).unwrap(),
            GameStreamEvent::Unknown { msg_type: 42, .. }
        ));
    }
}
