import CXnano

private let any = UInt32(truncatingIfNeeded: XNANO_ANY)

private func pref(_ v: UInt32) -> UInt32? { v == any ? nil : v }

/// Client settings; `ClientConfig()` holds the library's defaults
/// (`xnano_client_config_default`). Preferences left nil mean "any".
public struct ClientConfig: Sendable {
    /// The C struct, for fields without a Swift property (`struct_size` is set again before
    /// every call that takes it).
    public var raw: xnano_client_config

    /// The library's defaults. With a libxnano of another ABI nothing is called and the
    /// fields stay 0: `Client(config:)` then throws `XnanoError.abiMismatch`.
    public init() {
        raw = .sized()
        if abiIsCompatible {
            // Cannot fail: the pointer is valid and struct_size is set.
            _ = xnano_client_config_default(&raw)
        }
    }

    /// Preferred video width, or nil for any.
    public var videoWidth: UInt32? { get { pref(raw.video_width) } set { raw.video_width = newValue ?? any } }
    /// Preferred video height, or nil for any.
    public var videoHeight: UInt32? { get { pref(raw.video_height) } set { raw.video_height = newValue ?? any } }
    /// Preferred video codec, or nil for any.
    public var videoCodec: VideoCodec? {
        get { pref(raw.video_codec).flatMap { VideoCodec(c: $0) } }
        set { raw.video_codec = newValue?.rawValue ?? any }
    }
    /// Preferred audio codec, or nil for any.
    public var audioCodec: AudioCodec? {
        get { pref(raw.audio_codec).flatMap { AudioCodec(c: $0) } }
        set { raw.audio_codec = newValue?.rawValue ?? any }
    }
    /// TCP connect and handshake timeout, ms.
    public var connectTimeoutMs: UInt32 { get { raw.connect_timeout_ms } set { raw.connect_timeout_ms = newValue } }
    /// The session closes (`.timeout`) when the console is silent this long, ms.
    public var silenceTimeoutMs: UInt32 { get { raw.silence_timeout_ms } set { raw.silence_timeout_ms = newValue } }
    /// 0: events go to the closures only. N > 0: pull mode, no closures are called and at
    /// most N events are queued for `Client.nextEvent`.
    public var eventQueueCapacity: UInt32 { get { raw.event_queue_capacity } set { raw.event_queue_capacity = newValue } }
    /// Hold video back until the first keyframe.
    public var waitForFirstKeyframe: Bool { get { raw.wait_for_first_keyframe } set { raw.wait_for_first_keyframe = newValue } }
    /// Open the ChatAudio channel.
    public var chatAudio: Bool { get { raw.chat_audio } set { raw.chat_audio = newValue } }
}
