import CXnanoSim
import Xnano

/// Video source of the simulated console.
public enum SimVideoSource: Sendable {
    /// Real H.264 of a moving test pattern.
    case testPattern
    /// Synthetic self-checking frames (not decodable; cheap).
    case synthetic
}

/// Audio source of the simulated console.
public enum SimAudioSource: Sendable {
    /// Opus, stereo, 48 kHz, 20 ms packets.
    case opus
    /// PCM s16le, stereo, 48 kHz, 20 ms packets.
    case pcm
    /// No audio.
    case none
}

/// Settings of the simulated console; `SimConfig()` holds the library's defaults.
public struct SimConfig: Sendable {
    /// The C struct, for fields without a Swift property (`struct_size` is set again before
    /// every call that takes it).
    public var raw: xnano_sim_config

    /// The library's defaults (`xnano_sim_config_default`). With a libxnano_sim of another
    /// ABI nothing is called and the fields stay 0: `Simulator(config:)` then throws
    /// `XnanoSimError.abiMismatch`.
    public init() {
        raw = .sized()
        if SimLibrary.abiIsCompatible {
            _ = xnano_sim_config_default(&raw)
        }
    }

    public var width: UInt32 { get { raw.width } set { raw.width = newValue } }
    public var height: UInt32 { get { raw.height } set { raw.height = newValue } }
    public var fps: UInt32 { get { raw.fps } set { raw.fps = newValue } }
    public var bitrateBps: UInt32 { get { raw.bitrate_bps } set { raw.bitrate_bps = newValue } }
    public var keyframeInterval: UInt32 { get { raw.keyframe_interval } set { raw.keyframe_interval = newValue } }
    public var videoSource: SimVideoSource {
        get { raw.video_source == UInt32(XNANO_SIM_VIDEO_SYNTHETIC) ? .synthetic : .testPattern }
        set {
            raw.video_source = UInt32(newValue == .synthetic ? XNANO_SIM_VIDEO_SYNTHETIC : XNANO_SIM_VIDEO_TEST_PATTERN)
        }
    }
    public var audioSource: SimAudioSource {
        get {
            switch raw.audio_source {
            case UInt32(XNANO_SIM_AUDIO_PCM): return .pcm
            case UInt32(XNANO_SIM_AUDIO_NONE): return .none
            default: return .opus
            }
        }
        set {
            switch newValue {
            case .opus: raw.audio_source = UInt32(XNANO_SIM_AUDIO_OPUS)
            case .pcm: raw.audio_source = UInt32(XNANO_SIM_AUDIO_PCM)
            case .none: raw.audio_source = UInt32(XNANO_SIM_AUDIO_NONE)
            }
        }
    }
    /// UDP impairment: percentage of datagrams dropped.
    public var lossPercent: Double { get { raw.loss_pct } set { raw.loss_pct = newValue } }
    /// Also run the SmartGlass console (discovery, power, session, gamestreams).
    public var smartglass: Bool { get { raw.smartglass } set { raw.smartglass = newValue } }
    /// SmartGlass UDP port on 127.0.0.1; 0: any free port.
    public var smartglassPort: UInt16 { get { raw.smartglass_port } set { raw.smartglass_port = newValue } }
    /// The SmartGlass console refuses anonymous connections.
    public var smartglassRequireAuth: Bool { get { raw.smartglass_require_auth } set { raw.smartglass_require_auth = newValue } }
    /// The SmartGlass console starts powered on.
    public var smartglassPoweredOn: Bool { get { raw.smartglass_powered_on } set { raw.smartglass_powered_on = newValue } }
}
