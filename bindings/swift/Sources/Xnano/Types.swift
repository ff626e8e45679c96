import CXnano

/// The state of a `Client` (`xnano_state`).
public enum ClientState: Equatable, Sendable {
    /// Created, not connected.
    case idle
    /// TCP is up; the control handshake runs.
    case connecting
    /// Handshake done; channels are opening.
    case connected
    /// Media flows.
    case streaming
    /// The session ended.
    case closed

    init(_ s: UInt32) {
        switch s {
        case u32(XNANO_STATE_IDLE): self = .idle
        case u32(XNANO_STATE_CONNECTING): self = .connecting
        case u32(XNANO_STATE_CONNECTED): self = .connected
        case u32(XNANO_STATE_STREAMING): self = .streaming
        case u32(XNANO_STATE_CLOSED): self = .closed
        default: self = .closed
        }
    }
}

/// Video codecs (`XNANO_VIDEO_CODEC_*`).
public enum VideoCodec: UInt32, Sendable {
    /// H.264 access units, Annex B.
    case h264
    /// Raw YUV.
    case yuv
    /// Raw RGB.
    case rgb

    init?(c: UInt32) {
        switch c {
        case UInt32(XNANO_VIDEO_CODEC_H264): self = .h264
        case UInt32(XNANO_VIDEO_CODEC_YUV): self = .yuv
        case UInt32(XNANO_VIDEO_CODEC_RGB): self = .rgb
        default: return nil
        }
    }
}

/// Audio codecs (`XNANO_AUDIO_CODEC_*`).
public enum AudioCodec: UInt32, Sendable {
    /// Opus packets.
    case opus
    /// AAC.
    case aac
    /// PCM, signed 16-bit little-endian interleaved.
    case pcm

    init?(c: UInt32) {
        switch c {
        case UInt32(XNANO_AUDIO_CODEC_OPUS): self = .opus
        case UInt32(XNANO_AUDIO_CODEC_AAC): self = .aac
        case UInt32(XNANO_AUDIO_CODEC_PCM): self = .pcm
        default: return nil
        }
    }
}

/// Controller buttons (`XNANO_BUTTON_*`).
public struct Buttons: OptionSet, Hashable, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    private init(_ c: Int32) { rawValue = UInt16(c) }

    public static let dpadUp = Buttons(XNANO_BUTTON_DPAD_UP)
    public static let dpadDown = Buttons(XNANO_BUTTON_DPAD_DOWN)
    public static let dpadLeft = Buttons(XNANO_BUTTON_DPAD_LEFT)
    public static let dpadRight = Buttons(XNANO_BUTTON_DPAD_RIGHT)
    public static let start = Buttons(XNANO_BUTTON_START)
    public static let back = Buttons(XNANO_BUTTON_BACK)
    public static let leftThumb = Buttons(XNANO_BUTTON_LEFT_THUMB)
    public static let rightThumb = Buttons(XNANO_BUTTON_RIGHT_THUMB)
    public static let leftShoulder = Buttons(XNANO_BUTTON_LEFT_SHOULDER)
    public static let rightShoulder = Buttons(XNANO_BUTTON_RIGHT_SHOULDER)
    public static let guide = Buttons(XNANO_BUTTON_GUIDE)
    public static let a = Buttons(XNANO_BUTTON_A)
    public static let b = Buttons(XNANO_BUTTON_B)
    public static let x = Buttons(XNANO_BUTTON_X)
    public static let y = Buttons(XNANO_BUTTON_Y)
}

/// Severity of a log message (`xnano_log_level`).
public enum LogLevel: Comparable, Sendable {
    case off, error, warn, info, debug, trace

    init(_ l: UInt32) {
        switch l {
        case u32(XNANO_LOG_ERROR): self = .error
        case u32(XNANO_LOG_WARN): self = .warn
        case u32(XNANO_LOG_INFO): self = .info
        case u32(XNANO_LOG_DEBUG): self = .debug
        case u32(XNANO_LOG_TRACE): self = .trace
        default: self = .off
        }
    }

    var c: UInt32 {
        switch self {
        case .off: return u32(XNANO_LOG_OFF)
        case .error: return u32(XNANO_LOG_ERROR)
        case .warn: return u32(XNANO_LOG_WARN)
        case .info: return u32(XNANO_LOG_INFO)
        case .debug: return u32(XNANO_LOG_DEBUG)
        case .trace: return u32(XNANO_LOG_TRACE)
        }
    }
}

/// One complete video frame (its bytes are a copy, yours to keep).
public struct VideoFrame: Sendable {
    /// Frame id; consecutive unless frames were lost.
    public let frameId: UInt32
    /// Codec of the stream (nil: a value this binding does not know).
    public let codec: VideoCodec?
    /// Width in pixels.
    public let width: UInt32
    /// Height in pixels.
    public let height: UInt32
    /// Frames per second announced by the console.
    public let fps: UInt32
    /// Console timestamp, microseconds.
    public let timestamp: UInt64
    /// True for keyframes (IDR).
    public let keyframe: Bool
    /// The frame's bytes (one H.264 access unit for H.264).
    public let data: [UInt8]

    init(_ f: xnano_video_frame) {
        frameId = f.frame_id
        codec = VideoCodec(c: f.codec)
        width = f.width
        height = f.height
        fps = f.fps
        timestamp = f.timestamp
        keyframe = f.keyframe
        data = copyBytes(f.data, f.len)
    }
}

/// One audio packet (its bytes are a copy).
public struct AudioPacket: Sendable {
    /// Frame id as sent by the console.
    public let frameId: UInt32
    /// Codec of the stream.
    public let codec: AudioCodec?
    /// Channel count.
    public let channels: UInt32
    /// Sample rate, Hz.
    public let sampleRate: UInt32
    /// Console timestamp, microseconds.
    public let timestamp: UInt64
    /// The encoded packet.
    public let data: [UInt8]

    init(_ p: xnano_audio_packet) {
        frameId = p.frame_id
        codec = AudioCodec(c: p.codec)
        channels = p.channels
        sampleRate = p.sample_rate
        timestamp = p.timestamp
        data = copyBytes(p.data, p.len)
    }
}

/// A rumble (force feedback) command.
public struct Rumble: Equatable, Sendable {
    public let controller: UInt8
    public let leftTrigger: UInt8
    public let rightTrigger: UInt8
    public let leftHandle: UInt8
    public let rightHandle: UInt8

    init(_ r: xnano_rumble) {
        controller = r.controller
        leftTrigger = r.left_trigger
        rightTrigger = r.right_trigger
        leftHandle = r.left_handle
        rightHandle = r.right_handle
    }
}

/// A state change; with `.closed`, `error` says why (`.ok` after `stop()`).
public struct StateChange: Sendable {
    public let state: ClientState
    public let error: ResultCode
    public let message: String
}

/// An event of a `Client`: what `Client.events` streams and `Client.nextEvent` returns in
/// pull mode (the closures get the same values one by one).
public enum ClientEvent: Sendable {
    case videoFrame(VideoFrame)
    case audioPacket(AudioPacket)
    case rumble(Rumble)
    case stateChange(StateChange)

    /// From a pull-mode event (ABI 1: the payload is behind a pointer that is set for its kind).
    init?(_ e: xnano_event) {
        switch u32(e.kind) {
        case u32(XNANO_EVENT_VIDEO_FRAME):
            guard let v = e.video else { return nil }
            self = .videoFrame(VideoFrame(v.pointee))
        case u32(XNANO_EVENT_AUDIO):
            guard let a = e.audio else { return nil }
            self = .audioPacket(AudioPacket(a.pointee))
        case u32(XNANO_EVENT_RUMBLE):
            guard let r = e.rumble else { return nil }
            self = .rumble(Rumble(r.pointee))
        case u32(XNANO_EVENT_STATE):
            self = .stateChange(StateChange(
                state: ClientState(u32(e.state)), error: ResultCode(u32(e.error)),
                message: e.message.map { String(cString: $0) } ?? ""))
        default: return nil
        }
    }
}

/// The former name of `ClientEvent`.
public typealias Event = ClientEvent

/// The state of one controller, for `Client.setControllerState`.
public struct ControllerState: Equatable, Sendable {
    public var buttons: Buttons
    public var leftTrigger: UInt8
    public var rightTrigger: UInt8
    public var leftThumbX: Int16
    public var leftThumbY: Int16
    public var rightThumbX: Int16
    public var rightThumbY: Int16

    public init(buttons: Buttons = [], leftTrigger: UInt8 = 0, rightTrigger: UInt8 = 0,
                leftThumbX: Int16 = 0, leftThumbY: Int16 = 0,
                rightThumbX: Int16 = 0, rightThumbY: Int16 = 0) {
        self.buttons = buttons
        self.leftTrigger = leftTrigger
        self.rightTrigger = rightTrigger
        self.leftThumbX = leftThumbX
        self.leftThumbY = leftThumbY
        self.rightThumbX = rightThumbX
        self.rightThumbY = rightThumbY
    }

    /// The C struct, `struct_size` set.
    var c: xnano_controller_state {
        var c = xnano_controller_state.sized()
        c.buttons = buttons.rawValue
        c.left_trigger = leftTrigger
        c.right_trigger = rightTrigger
        c.left_thumb_x = leftThumbX
        c.left_thumb_y = leftThumbY
        c.right_thumb_x = rightThumbX
        c.right_thumb_y = rightThumbY
        return c
    }
}

/// Session statistics: the C struct `xnano_client_stats` (every counter, snake_case names;
/// `struct_size` says how many bytes of it the library filled, the rest is 0).
public typealias ClientStats = xnano_client_stats

func copyBytes(_ p: UnsafePointer<UInt8>?, _ len: Int) -> [UInt8] {
    guard let p = p, len > 0 else { return [] }
    return Array(UnsafeBufferPointer(start: p, count: len))
}
