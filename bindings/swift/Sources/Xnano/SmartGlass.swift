import CXnano
import Foundation

/// Curve of a console's key (`XNANO_CURVE_*`).
public struct Curve: RawRepresentable, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let p256 = Curve(rawValue: UInt32(XNANO_CURVE_P256))
    public static let p384 = Curve(rawValue: UInt32(XNANO_CURVE_P384))
    public static let p521 = Curve(rawValue: UInt32(XNANO_CURVE_P521))
}

/// Who may connect to a console (`XNANO_CONSOLE_FLAG_*`).
public struct ConsoleFlags: OptionSet, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let allowConsoleUsers = ConsoleFlags(rawValue: UInt32(XNANO_CONSOLE_FLAG_ALLOW_CONSOLE_USERS))
    public static let allowAuthenticatedUsers = ConsoleFlags(rawValue: UInt32(XNANO_CONSOLE_FLAG_ALLOW_AUTHENTICATED_USERS))
    public static let allowAnonymousUsers = ConsoleFlags(rawValue: UInt32(XNANO_CONSOLE_FLAG_ALLOW_ANONYMOUS_USERS))
    public static let certificatePending = ConsoleFlags(rawValue: UInt32(XNANO_CONSOLE_FLAG_CERTIFICATE_PENDING))
}

/// Where a title is launched (`XNANO_TITLE_LOCATION_*`).
public struct TitleLocation: RawRepresentable, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let full = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_FULL))
    public static let fill = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_FILL))
    public static let snapped = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_SNAPPED))
    public static let startView = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_START_VIEW))
    public static let systemUI = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_SYSTEM_UI))
    public static let `default` = TitleLocation(rawValue: UInt32(XNANO_TITLE_LOCATION_DEFAULT))
}

/// Media commands (`XNANO_MEDIA_*`).
public struct MediaCommand: RawRepresentable, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let play = MediaCommand(rawValue: UInt32(XNANO_MEDIA_PLAY))
    public static let pause = MediaCommand(rawValue: UInt32(XNANO_MEDIA_PAUSE))
    public static let playPauseToggle = MediaCommand(rawValue: UInt32(XNANO_MEDIA_PLAY_PAUSE_TOGGLE))
    public static let stop = MediaCommand(rawValue: UInt32(XNANO_MEDIA_STOP))
    public static let record = MediaCommand(rawValue: UInt32(XNANO_MEDIA_RECORD))
    public static let nextTrack = MediaCommand(rawValue: UInt32(XNANO_MEDIA_NEXT_TRACK))
    public static let previousTrack = MediaCommand(rawValue: UInt32(XNANO_MEDIA_PREVIOUS_TRACK))
    public static let fastForward = MediaCommand(rawValue: UInt32(XNANO_MEDIA_FAST_FORWARD))
    public static let rewind = MediaCommand(rawValue: UInt32(XNANO_MEDIA_REWIND))
    public static let channelUp = MediaCommand(rawValue: UInt32(XNANO_MEDIA_CHANNEL_UP))
    public static let channelDown = MediaCommand(rawValue: UInt32(XNANO_MEDIA_CHANNEL_DOWN))
    public static let back = MediaCommand(rawValue: UInt32(XNANO_MEDIA_BACK))
    public static let view = MediaCommand(rawValue: UInt32(XNANO_MEDIA_VIEW))
    public static let menu = MediaCommand(rawValue: UInt32(XNANO_MEDIA_MENU))
    public static let seek = MediaCommand(rawValue: UInt32(XNANO_MEDIA_SEEK))
}

/// SmartGlass gamepad buttons (`XNANO_GAMEPAD_*`), for UI navigation.
public struct GamepadButtons: OptionSet, Sendable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }
    private init(_ c: Int32) { rawValue = UInt16(c) }
    public static let enroll = GamepadButtons(XNANO_GAMEPAD_ENROLL)
    public static let nexus = GamepadButtons(XNANO_GAMEPAD_NEXUS)
    public static let menu = GamepadButtons(XNANO_GAMEPAD_MENU)
    public static let view = GamepadButtons(XNANO_GAMEPAD_VIEW)
    public static let a = GamepadButtons(XNANO_GAMEPAD_A)
    public static let b = GamepadButtons(XNANO_GAMEPAD_B)
    public static let x = GamepadButtons(XNANO_GAMEPAD_X)
    public static let y = GamepadButtons(XNANO_GAMEPAD_Y)
    public static let dpadUp = GamepadButtons(XNANO_GAMEPAD_DPAD_UP)
    public static let dpadDown = GamepadButtons(XNANO_GAMEPAD_DPAD_DOWN)
    public static let dpadLeft = GamepadButtons(XNANO_GAMEPAD_DPAD_LEFT)
    public static let dpadRight = GamepadButtons(XNANO_GAMEPAD_DPAD_RIGHT)
    public static let leftShoulder = GamepadButtons(XNANO_GAMEPAD_LEFT_SHOULDER)
    public static let rightShoulder = GamepadButtons(XNANO_GAMEPAD_RIGHT_SHOULDER)
    public static let leftThumb = GamepadButtons(XNANO_GAMEPAD_LEFT_THUMB)
    public static let rightThumb = GamepadButtons(XNANO_GAMEPAD_RIGHT_THUMB)
}

/// SmartGlass service channels (`XNANO_CHANNEL_*`).
public struct ServiceChannel: RawRepresentable, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let core = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_CORE))
    public static let systemInput = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_SYSTEM_INPUT))
    public static let systemInputTVRemote = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_SYSTEM_INPUT_TV_REMOTE))
    public static let systemMedia = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_SYSTEM_MEDIA))
    public static let systemText = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_SYSTEM_TEXT))
    public static let systemBroadcast = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_SYSTEM_BROADCAST))
    public static let title = ServiceChannel(rawValue: UInt32(XNANO_CHANNEL_TITLE))
}

/// The console's gamestream state (`XNANO_GAMESTREAM_*`).
public struct GameStreamState: RawRepresentable, Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    public static let unknown = GameStreamState(rawValue: UInt32(XNANO_GAMESTREAM_UNKNOWN))
    public static let initializing = GameStreamState(rawValue: UInt32(XNANO_GAMESTREAM_INITIALIZING))
    public static let started = GameStreamState(rawValue: UInt32(XNANO_GAMESTREAM_STARTED))
    public static let stopped = GameStreamState(rawValue: UInt32(XNANO_GAMESTREAM_STOPPED))
    public static let paused = GameStreamState(rawValue: UInt32(XNANO_GAMESTREAM_PAUSED))
}

/// What a `ConsoleEvent` reports (`xnano_console_event_type`).
public enum ConsoleEventType: Equatable, Sendable {
    case connected, closed, consoleStatus, mediaState, textConfiguration, textInput, textDone
    case channelStarted, channelFailed, gameStreamState, gameStreamConnected, gameStreamFailed
    case other

    init(_ k: UInt32) {
        switch k {
        case u32(XNANO_CONSOLE_EVENT_CONNECTED): self = .connected
        case u32(XNANO_CONSOLE_EVENT_CLOSED): self = .closed
        case u32(XNANO_CONSOLE_EVENT_CONSOLE_STATUS): self = .consoleStatus
        case u32(XNANO_CONSOLE_EVENT_MEDIA_STATE): self = .mediaState
        case u32(XNANO_CONSOLE_EVENT_TEXT_CONFIGURATION): self = .textConfiguration
        case u32(XNANO_CONSOLE_EVENT_TEXT_INPUT): self = .textInput
        case u32(XNANO_CONSOLE_EVENT_TEXT_DONE): self = .textDone
        case u32(XNANO_CONSOLE_EVENT_CHANNEL_STARTED): self = .channelStarted
        case u32(XNANO_CONSOLE_EVENT_CHANNEL_FAILED): self = .channelFailed
        case u32(XNANO_CONSOLE_EVENT_GAMESTREAM_STATE): self = .gameStreamState
        case u32(XNANO_CONSOLE_EVENT_GAMESTREAM_CONNECTED): self = .gameStreamConnected
        case u32(XNANO_CONSOLE_EVENT_GAMESTREAM_FAILED): self = .gameStreamFailed
        case u32(XNANO_CONSOLE_EVENT_OTHER): self = .other
        default: self = .other
        }
    }
}

/// The state of a `Console` (`xnano_console_state`).
public enum ConsoleState: Equatable, Sendable {
    case idle, connected, closed

    init(_ s: UInt32) {
        switch s {
        case u32(XNANO_CONSOLE_STATE_IDLE): self = .idle
        case u32(XNANO_CONSOLE_STATE_CONNECTED): self = .connected
        case u32(XNANO_CONSOLE_STATE_CLOSED): self = .closed
        default: self = .closed
        }
    }
}

/// Reads a NUL-terminated string from a fixed-size C array (imported as a tuple).
func fixedString<T>(_ tuple: T, capacity: Int32) -> String {
    withUnsafeBytes(of: tuple) { raw in
        let bytes = raw.prefix(min(raw.count, Int(capacity)))
        let end = bytes.firstIndex(of: 0) ?? bytes.endIndex
        return String(decoding: bytes[bytes.startIndex..<end], as: UTF8.self)
    }
}

/// A console as its discovery response describes it (`xnano_console_info`).
public struct ConsoleInfo: Equatable, Sendable {
    public let name: String
    /// The Live ID (for `SmartGlass.powerOn`).
    public let liveId: String
    /// The SmartGlass address, "IP:PORT", as `Console.connect(address:)` takes it.
    public let address: String
    public let uuid: String
    public let curve: Curve
    public let flags: ConsoleFlags
    public let deviceType: UInt32
    public let lastError: UInt32
    public let port: UInt16

    /// From the C struct (`package`: XnanoSim's `Simulator.consoleInfo()` fills one too).
    package init(_ i: xnano_console_info) {
        name = fixedString(i.name, capacity: XNANO_CONSOLE_NAME_SIZE)
        liveId = fixedString(i.live_id, capacity: XNANO_LIVE_ID_SIZE)
        address = fixedString(i.address, capacity: XNANO_ADDRESS_SIZE)
        uuid = fixedString(i.uuid, capacity: XNANO_UUID_SIZE)
        curve = Curve(rawValue: i.curve)
        flags = ConsoleFlags(rawValue: i.flags)
        deviceType = i.device_type
        lastError = i.last_error
        port = i.port
    }

    /// True for an Xbox One console.
    public var isXboxOne: Bool { deviceType == UInt32(XNANO_DEVICE_XBOX_ONE) }
    /// True when anonymous connections are allowed.
    public var anonymousAllowed: Bool { flags.contains(.allowAnonymousUsers) }

    public static func == (a: ConsoleInfo, b: ConsoleInfo) -> Bool {
        a.name == b.name && a.liveId == b.liveId && a.address == b.address && a.uuid == b.uuid
            && a.curve == b.curve && a.flags == b.flags && a.port == b.port
    }
}

/// Settings of `Console.connect`; `ConsoleConfig()` holds the library's defaults (anonymous).
///
/// `@unchecked Sendable`: `raw`'s only non-Sendable fields are its two string pointers, which
/// are NULL here; `Console.connect` points them at `userHash` / `authToken` in its own copy
/// for the duration of the call (and overwrites whatever they held).
public struct ConsoleConfig: @unchecked Sendable {
    /// The C struct (its strings are set from `userHash` / `authToken` during connect;
    /// `struct_size` is set again before every call that takes it).
    public var raw: xnano_console_config
    /// Xbox Live user hash for an authenticated connection (with `authToken`).
    public var userHash: String?
    /// Xbox Live XSTS token.
    public var authToken: String?

    /// The library's defaults (zeros with a libxnano of another ABI, like `ClientConfig()`).
    public init() {
        raw = .sized()
        if abiIsCompatible {
            _ = xnano_console_config_default(&raw)
        }
    }

    public var ignoreAnonymousFlag: Bool { get { raw.ignore_anonymous_flag } set { raw.ignore_anonymous_flag = newValue } }
    public var discoveryTimeoutMs: UInt32 { get { raw.discovery_timeout_ms } set { raw.discovery_timeout_ms = newValue } }
    public var waitTimeoutMs: UInt32 { get { raw.wait_timeout_ms } set { raw.wait_timeout_ms = newValue } }
    public var heartbeatIntervalMs: UInt32 { get { raw.heartbeat_interval_ms } set { raw.heartbeat_interval_ms = newValue } }
    public var consoleTimeoutMs: UInt32 { get { raw.console_timeout_ms } set { raw.console_timeout_ms = newValue } }
    /// N > 0: pull mode (`Console.nextEvent`), at most N events queued.
    public var eventQueueCapacity: UInt32 { get { raw.event_queue_capacity } set { raw.event_queue_capacity = newValue } }
}

/// One event of a `Console` (`xnano_console_event`); fields that do not belong to `kind`
/// are 0 or "".
public struct ConsoleEvent: Sendable {
    public let kind: ConsoleEventType
    public let error: ResultCode
    public let message: String
    public let json: String
    public let participantId: UInt32
    public let titleId: UInt32
    public let osMajorVersion: UInt32
    public let osMinorVersion: UInt32
    public let osBuildNumber: UInt32
    public let activeTitleCount: UInt32
    public let playbackStatus: UInt32
    public let mediaPosition: UInt64
    public let mediaEnd: UInt64
    public let textSessionId: UInt32
    public let textVersion: UInt32
    public let textMaxLength: UInt32
    public let textResult: UInt32
    public let text: String
    public let channel: ServiceChannel
    public let gameStreamState: GameStreamState
    public let tcpPort: UInt16
    public let udpPort: UInt16

    init(_ e: xnano_console_event) {
        kind = ConsoleEventType(u32(e.kind))
        error = ResultCode(u32(e.error))
        message = e.message.map { String(cString: $0) } ?? ""
        json = e.json.map { String(cString: $0) } ?? ""
        participantId = e.participant_id
        titleId = e.title_id
        osMajorVersion = e.os_major_version
        osMinorVersion = e.os_minor_version
        osBuildNumber = e.os_build_number
        activeTitleCount = e.active_title_count
        playbackStatus = e.playback_status
        mediaPosition = e.media_position
        mediaEnd = e.media_end
        textSessionId = e.text_session_id
        textVersion = e.text_version
        textMaxLength = e.text_max_length
        textResult = e.text_result
        text = e.text.map { String(cString: $0) } ?? ""
        channel = ServiceChannel(rawValue: e.channel)
        gameStreamState = GameStreamState(rawValue: e.gamestream_state)
        tcpPort = e.tcp_port
        udpPort = e.udp_port
    }

    /// TEXT_DONE: true when the text was accepted.
    public var textAccepted: Bool { textResult == UInt32(XNANO_TEXT_RESULT_ACCEPT) }
}

/// A SmartGlass gamepad state (UI navigation outside a gamestream).
public struct GamepadState: Sendable {
    public var buttons: GamepadButtons
    public var leftTrigger: Float
    public var rightTrigger: Float
    public var leftThumbX: Float
    public var leftThumbY: Float
    public var rightThumbX: Float
    public var rightThumbY: Float

    public init(buttons: GamepadButtons = [], leftTrigger: Float = 0, rightTrigger: Float = 0,
                leftThumbX: Float = 0, leftThumbY: Float = 0, rightThumbX: Float = 0, rightThumbY: Float = 0) {
        self.buttons = buttons
        self.leftTrigger = leftTrigger
        self.rightTrigger = rightTrigger
        self.leftThumbX = leftThumbX
        self.leftThumbY = leftThumbY
        self.rightThumbX = rightThumbX
        self.rightThumbY = rightThumbY
    }
}

/// Discovery and power-on.
public enum SmartGlass {
    /// The SmartGlass UDP port of consoles.
    public static let defaultPort = UInt16(XNANO_SMARTGLASS_PORT)

    /// Discovers consoles (`xnano_discover`): with `address` ("host" or "host:port") asks that
    /// console and returns when it answers; with nil broadcasts and collects answers for the
    /// whole timeout. Nothing found: an empty array.
    public static func discover(address: String? = nil, timeoutMs: UInt32 = 3000) throws -> [ConsoleInfo] {
        try requireAbi()
        var list: OpaquePointer?
        try check(xnano_discover(address, timeoutMs, &list))
        defer { xnano_discovery_free(list) }
        var count = 0
        try check(xnano_discovery_count(list, &count))
        return try (0..<count).map { i in
            var info = xnano_console_info.sized()
            try check(xnano_discovery_get(list, i, &info))
            return ConsoleInfo(info)
        }
    }

    /// Sends power-on requests for `liveId` (broadcast, multicast and, when given, to
    /// `address`), `tries` rounds (0: 2).
    public static func powerOn(liveId: String, address: String? = nil, tries: UInt32 = 0) throws {
        try requireAbi()
        try check(xnano_power_on(liveId, address, tries))
    }
}

/// A gamestream configuration (`xnano_gamestream_config`): keys by their protocol name
/// ("videoMaximumWidth", "enableOpusAudio"...) with text values. Freed exactly once, in
/// `deinit`.
///
/// `@unchecked Sendable`: `lock` serialises `set` and `get` (and `Client.connect(console:config:)`
/// reads it under the same lock); the handle is immutable and freed only in `deinit`.
public final class GameStreamConfig: @unchecked Sendable {
    /// The native handle; private (`Client.connect(console:config:)` reads it through
    /// `withHandle`) so that only this object frees it.
    private let handle: OpaquePointer
    private let lock = NSLock()

    /// The defaults (1280x720 at 60 fps, AAC audio, chat audio on...).
    public init() throws {
        try requireAbi()
        var p: OpaquePointer?
        try check(xnano_gamestream_config_new(&p))
        guard let h = p else { throw XnanoError(code: .null, message: "xnano_gamestream_config_new gave NULL") }
        handle = h
    }

    deinit {
        xnano_gamestream_config_free(handle)
    }

    /// Sets `key` from its text form (integers, numbers, true/false).
    public func set(_ key: String, _ value: String) throws {
        try withHandle { try check(xnano_gamestream_config_set($0, key, value)) }
    }

    /// Runs `body` with the handle, under the lock.
    func withHandle<R>(_ body: (OpaquePointer) throws -> R) rethrows -> R {
        lock.lock()
        defer { lock.unlock() }
        return try body(handle)
    }

    /// Sets `key` from an integer.
    public func set(_ key: String, _ value: Int64) throws { try set(key, String(value)) }

    /// Sets `key` from a boolean.
    public func set(_ key: String, _ value: Bool) throws { try set(key, value ? "true" : "false") }

    /// The text form of `key`.
    public func get(_ key: String) throws -> String {
        var size = 32
        while true {
            var buffer = [CChar](repeating: 0, count: size)
            var len = 0
            let r = withHandle { xnano_gamestream_config_get($0, key, &buffer, size, &len) }
            if r == u32(XNANO_ERR_BUFFER_TOO_SMALL) && size < 1 << 20 {
                size *= 8
                continue
            }
            try check(r)
            return String(decoding: buffer.prefix(len).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
    }
}

/// The event closure and streams of one console, passed as `user_data` (unretained; the
/// `Console` owns it and frees the native console before it lets the box go; a running
/// callback keeps it alive itself).
///
/// `@unchecked Sendable`: `_handler` is only touched under `lock`; `hub` and `callback`
/// synchronise themselves.
final class ConsoleBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _handler: ((ConsoleEvent) -> Void)?
    let hub = EventHub<ConsoleEvent>()
    let callback = CallbackThread()
    var handler: ((ConsoleEvent) -> Void)? {
        get { lock.lock(); defer { lock.unlock() }; return _handler }
        set { lock.lock(); _handler = newValue; lock.unlock() }
    }
}

private let consoleTrampoline: xnano_console_event_callback = { userData, event in
    guard let userData = userData, let event = event else { return }
    let box = Unmanaged<ConsoleBox>.fromOpaque(userData).takeUnretainedValue()
    withExtendedLifetime(box) {
        let handler = box.handler
        let streams = box.hub.hasSubscribers
        guard handler != nil || streams else { return }
        let e = ConsoleEvent(event.pointee)
        box.callback.run {
            handler?(e)
            if streams { box.hub.yield(e) }
            // CLOSED is the last event of the session.
            if e.kind == .closed { box.hub.finish() }
        }
    }
}

/// A SmartGlass session with a console (`xnano_console`): connect, receive events through
/// `onEvent` or `events`, send commands, start gamestreams with `Client.connect(console:)`,
/// then `disconnect()`; freed exactly once, in `deinit`. The handle never leaves the binding.
///
/// `onEvent` runs on the console's socket thread (events arriving during `connect` on the
/// calling thread, before it returns), one at a time, in order; `.closed` comes once, last.
/// It may send commands but not `disconnect()` (`.fromCallback`).
///
/// `@unchecked Sendable`: libxnano synchronises the calls on one `xnano_console`
/// (disconnect against disconnect/connect included); `disconnectLock` serialises
/// `disconnect()`; the closure and streams live in the lock-protected `ConsoleBox`; the handle
/// is immutable and freed only in `deinit`.
public final class Console: @unchecked Sendable {
    /// The native handle; internal (for `Client.connect(console:)`) so that only this object
    /// frees it.
    let handle: OpaquePointer
    private let box: ConsoleBox
    private let disconnectLock = NSLock()

    /// Creates an idle console handle (`xnano_console_new`). Throws `XnanoError.abiMismatch`
    /// when the loaded libxnano has another ABI.
    public init() throws {
        try requireAbi()
        var p: OpaquePointer?
        try check(xnano_console_new(&p))
        guard let h = p else { throw XnanoError(code: .null, message: "xnano_console_new gave NULL") }
        let box = ConsoleBox()
        let r = xnano_console_set_event_callback(h, consoleTrampoline, Unmanaged.passUnretained(box).toOpaque())
        if r != u32(XNANO_OK) {
            let e = lastError(r)
            xnano_console_free(h)
            throw e
        }
        handle = h
        self.box = box
    }

    deinit {
        // The only free of this handle (see `Client.deinit`: from inside the console's own
        // callback libxnano detaches it).
        xnano_console_free(handle)
        box.hub.finish()
    }

    /// Called with each event of the session.
    public var onEvent: ((ConsoleEvent) -> Void)? {
        get { box.handler }
        set { box.handler = newValue }
    }

    /// The session's events as an `AsyncStream`, beside `onEvent` (which still runs): every
    /// event from now on, in order, until `.closed` (or the console goes away). In pull mode
    /// (`ConsoleConfig.eventQueueCapacity > 0`) a thread of the binding reads the queue while a
    /// stream is open: do not also call `nextEvent`.
    public var events: AsyncStream<ConsoleEvent> { events() }

    /// `events` with a buffering policy.
    public func events(bufferingPolicy: AsyncStream<ConsoleEvent>.Continuation.BufferingPolicy = .unbounded)
        -> AsyncStream<ConsoleEvent> {
        let (stream, startPump) = box.hub.subscribe(bufferingPolicy: bufferingPolicy)
        if startPump { startPullPump() }
        return stream
    }

    private func startPullPump() {
        let hub = box.hub
        Thread.detachNewThread { [weak self] in
            while hub.pumpShouldContinue() {
                guard let console = self else { return hub.finish() }
                do {
                    if let e = try console.nextEvent(timeoutMs: 100) {
                        hub.yield(e)
                        if e.kind == .closed { return hub.finish() }
                    }
                } catch {
                    return hub.finish()
                }
            }
        }
    }

    /// Connects to the console at `address` ("host" or "host:port") and waits until it
    /// accepts. Errors: `.notFound`, `.refused`, `.timeout`, `.io`.
    public func connect(address: String, config: ConsoleConfig = ConsoleConfig()) throws {
        var raw = config.raw.sized
        let r: UInt32 = withOptionalCString(config.userHash) { user in
            withOptionalCString(config.authToken) { token in
                raw.userhash = user
                raw.auth_token = token
                return xnano_console_connect(handle, address, &raw)
            }
        }
        try check(r)
        if raw.event_queue_capacity > 0 && box.hub.enablePull() { startPullPump() }
    }

    /// Connects to a discovered console.
    public func connect(info: ConsoleInfo, config: ConsoleConfig = ConsoleConfig()) throws {
        try connect(address: info.address, config: config)
    }

    public func state() throws -> ConsoleState {
        var s: UInt32 = 0
        try check(xnano_console_get_state(handle, &s))
        return ConsoleState(s)
    }

    /// What discovery said about the connected console.
    public func info() throws -> ConsoleInfo {
        var i = xnano_console_info.sized()
        try check(xnano_console_get_info(handle, &i))
        return ConsoleInfo(i)
    }

    /// Pull mode: the next event, waiting up to `timeoutMs`; nil on timeout; throws `.closed`
    /// after the last event.
    public func nextEvent(timeoutMs: UInt32) throws -> ConsoleEvent? {
        var ev: UnsafeMutablePointer<xnano_console_event>?
        let r = xnano_console_next_event(handle, timeoutMs, &ev)
        if r == u32(XNANO_ERR_TIMEOUT) { return nil }
        try check(r)
        defer { xnano_console_event_free(ev) }
        return ev.map { ConsoleEvent($0.pointee) }
    }

    /// Events dropped because the pull-mode queue was full.
    public func eventsDropped() throws -> UInt64 {
        var n: UInt64 = 0
        try check(xnano_console_events_dropped(handle, &n))
        return n
    }

    /// Says goodbye and joins the session's thread; `.closed` is delivered before it returns
    /// and no callback runs afterwards. Disconnecting twice, or from two threads at once, is
    /// fine (the second waits for the first). From inside `onEvent`: `.fromCallback`.
    public func disconnect() throws {
        if box.callback.isCurrent {
            // Before the lock: a thread inside disconnect() holds it while it waits for this
            // very callback to return.
            throw XnanoError(code: .fromCallback,
                             message: "disconnect() called from inside this console's own callback; disconnect from another thread")
        }
        disconnectLock.lock()
        defer { disconnectLock.unlock() }
        try check(xnano_console_disconnect(handle))
    }

    /// Powers the console off (`.closed` with `.closed` follows).
    public func powerOff() throws { try check(xnano_console_power_off(handle)) }

    /// Launches a title or URI.
    public func launchTitle(_ uri: String, location: TitleLocation = .default) throws {
        try check(xnano_console_launch_title(handle, uri, location.rawValue))
    }

    /// Sends a media command to `titleId`; returns the request id.
    @discardableResult
    public func mediaCommand(titleId: UInt32, _ command: MediaCommand, seekPosition: UInt64 = 0) throws -> UInt64 {
        var id: UInt64 = 0
        try check(xnano_console_media_command(handle, titleId, command.rawValue, seekPosition, &id))
        return id
    }

    /// Sends a gamepad state on the SystemInput channel.
    public func gamepad(_ s: GamepadState) throws {
        var g = xnano_gamepad.sized()
        g.buttons = s.buttons.rawValue
        g.left_trigger = s.leftTrigger
        g.right_trigger = s.rightTrigger
        g.left_thumb_x = s.leftThumbX
        g.left_thumb_y = s.leftThumbY
        g.right_thumb_x = s.rightThumbX
        g.right_thumb_y = s.rightThumbY
        try check(xnano_console_gamepad(handle, &g))
    }

    /// Replaces the text of the active text session.
    public func sendText(_ text: String) throws { try check(xnano_console_send_text(handle, text)) }

    /// Acknowledges a version of a text session.
    public func textAcknowledge(sessionId: UInt32, version: UInt32) throws {
        try check(xnano_console_text_acknowledge(handle, sessionId, version))
    }

    /// Ends the active text session, keeping the text or not.
    public func textDone(accept: Bool) throws {
        try check(xnano_console_text_done(handle, UInt32(accept ? XNANO_TEXT_RESULT_ACCEPT : XNANO_TEXT_RESULT_CANCEL)))
    }

    /// Records a game DVR clip between two offsets from now, in seconds.
    public func gameDvrRecord(startDelta: Int32, endDelta: Int32) throws {
        try check(xnano_console_game_dvr_record(handle, startDelta, endDelta))
    }

    /// Unsnaps the snapped app.
    public func unsnap() throws { try check(xnano_console_unsnap(handle)) }
}

func withOptionalCString<R>(_ s: String?, _ body: (UnsafePointer<CChar>?) throws -> R) rethrows -> R {
    guard let s = s, !s.isEmpty else { return try body(nil) }
    return try s.withCString { try body($0) }
}
