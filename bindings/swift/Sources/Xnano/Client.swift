import CXnano
import Foundation

/// The closures of one client. Native code gets an unretained pointer to it as `user_data`;
/// the `Client` owns it, and frees the native client (which joins every thread that could
/// call back) before the box goes away.
final class CallbackBox {
    private let lock = NSLock()
    private var _video: ((VideoFrame) -> Void)?
    private var _audio: ((AudioPacket) -> Void)?
    private var _rumble: ((Rumble) -> Void)?
    private var _state: ((StateChange) -> Void)?

    private func locked<T>(_ f: () -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return f()
    }

    var video: ((VideoFrame) -> Void)? {
        get { locked { _video } }
        set { locked { _video = newValue } }
    }
    var audio: ((AudioPacket) -> Void)? {
        get { locked { _audio } }
        set { locked { _audio = newValue } }
    }
    var rumble: ((Rumble) -> Void)? {
        get { locked { _rumble } }
        set { locked { _rumble = newValue } }
    }
    var state: ((StateChange) -> Void)? {
        get { locked { _state } }
        set { locked { _state = newValue } }
    }

    static func from(_ userData: UnsafeMutableRawPointer?) -> CallbackBox? {
        userData.map { Unmanaged<CallbackBox>.fromOpaque($0).takeUnretainedValue() }
    }
}

// C trampolines: no captures; the box comes through user_data.
private let videoTrampoline: xnano_video_callback = { userData, frame in
    guard let frame = frame, let f = CallbackBox.from(userData)?.video else { return }
    f(VideoFrame(frame.pointee))
}

private let audioTrampoline: xnano_audio_callback = { userData, packet in
    guard let packet = packet, let f = CallbackBox.from(userData)?.audio else { return }
    f(AudioPacket(packet.pointee))
}

private let rumbleTrampoline: xnano_rumble_callback = { userData, rumble in
    guard let rumble = rumble, let f = CallbackBox.from(userData)?.rumble else { return }
    f(Rumble(rumble.pointee))
}

private let stateTrampoline: xnano_state_callback = { userData, state, error, message in
    guard let f = CallbackBox.from(userData)?.state else { return }
    f(StateChange(state: ClientState(state), error: ResultCode(error),
                  message: message.map { String(cString: $0) } ?? ""))
}

/// A client handle and its box, handed to the thread that frees them.
private struct PendingFree: @unchecked Sendable {
    let handle: OpaquePointer
    let box: CallbackBox
}

/// A gamestream client session (`xnano_client`): set the closures, connect, send input,
/// then `stop()`; the native client is freed when the object goes away (`deinit`).
///
/// The closures run on libxnano's threads (video and audio on its UDP thread), one at a time
/// and in order; keep them short. They may call methods of the client, except `stop()`, which
/// throws `.fromCallback` there. Set them before `connect`.
///
/// Pull mode: with `ClientConfig.eventQueueCapacity > 0` no closure is called; read
/// `nextEvent(timeoutMs:)` on a thread of your choice.
public final class Client {
    /// The native handle, for calls through CXnano.
    public let handle: OpaquePointer
    private let box: CallbackBox

    /// Creates an idle client (`xnano_client_new`).
    public init(config: ClientConfig = ClientConfig()) throws {
        var raw = config.raw
        var p: OpaquePointer?
        try check(xnano_client_new(&raw, &p))
        guard let client = p else { throw XnanoError(code: .null, message: "xnano_client_new gave NULL") }
        let box = CallbackBox()
        if raw.event_queue_capacity == 0 {
            let ud = Unmanaged.passUnretained(box).toOpaque()
            var r = xnano_client_set_video_callback(client, videoTrampoline, ud)
            if r == XNANO_OK { r = xnano_client_set_audio_callback(client, audioTrampoline, ud) }
            if r == XNANO_OK { r = xnano_client_set_rumble_callback(client, rumbleTrampoline, ud) }
            if r == XNANO_OK { r = xnano_client_set_state_callback(client, stateTrampoline, ud) }
            if r != XNANO_OK {
                let e = XnanoError(code: ResultCode(r), message: String(cString: xnano_last_error()))
                _ = xnano_client_free(client)
                throw e
            }
        }
        handle = client
        self.box = box
    }

    deinit {
        if xnano_client_free(handle) == XNANO_ERR_FROM_CALLBACK {
            // The last reference went away inside one of this client's own callbacks, where
            // freeing would deadlock: free it from another thread, keeping the box alive.
            let pending = PendingFree(handle: handle, box: box)
            Thread.detachNewThread {
                _ = xnano_client_free(pending.handle)
                withExtendedLifetime(pending.box) {}
            }
        }
    }

    /// Called with each complete video frame, in frame-id order.
    public var onVideoFrame: ((VideoFrame) -> Void)? {
        get { box.video }
        set { box.video = newValue }
    }
    /// Called with each audio packet.
    public var onAudioPacket: ((AudioPacket) -> Void)? {
        get { box.audio }
        set { box.audio = newValue }
    }
    /// Called with each rumble command.
    public var onRumble: ((Rumble) -> Void)? {
        get { box.rumble }
        set { box.rumble = newValue }
    }
    /// Called on each state change; `.closed` comes once and is the last call.
    public var onStateChange: ((StateChange) -> Void)? {
        get { box.state }
        set { box.state = newValue }
    }

    /// Connects straight to a Nano host (`xnano_client_connect_nano`); returns once TCP is up.
    public func connectNano(host: String, tcpPort: UInt16, udpPort: UInt16) throws {
        guard !host.utf8.contains(0) else {
            throw XnanoError(code: .invalidArgument, message: "host contains a NUL character")
        }
        try check(xnano_client_connect_nano(handle, host, tcpPort, udpPort))
    }

    /// Starts a gamestream over SmartGlass (`xnano_client_connect_console`): asks the
    /// connected `console` to stream with `config` (nil: defaults), waits for its Nano host and
    /// connects to it. The client then works as after `connectNano`; `stop()` also stops the
    /// console's stream.
    public func connect(console: Console, config: GameStreamConfig? = nil) throws {
        try check(xnano_client_connect_console(handle, console.handle, config?.handle))
    }

    /// Connects to a simulated console on this machine.
    public func connect(to sim: Simulator) throws {
        try connectNano(host: Simulator.host, tcpPort: sim.tcpPort, udpPort: sim.udpPort)
    }

    /// The current state (`xnano_client_get_state`).
    public func state() throws -> ClientState {
        var s = XNANO_STATE_IDLE
        try check(xnano_client_get_state(handle, &s))
        return ClientState(s)
    }

    /// Session statistics (`xnano_client_get_stats`); the final numbers after a stop.
    public func stats() throws -> ClientStats {
        var s = xnano_client_stats()
        try check(xnano_client_get_stats(handle, &s))
        return s
    }

    /// Sets the state of controller 0...3; the first call announces it.
    public func setControllerState(_ controller: UInt8, _ state: ControllerState) throws {
        var c = state.c
        try check(xnano_client_set_controller_state(handle, controller, &c))
    }

    /// Announces or removes controller 0...3.
    public func setControllerConnected(_ controller: UInt8, _ connected: Bool) throws {
        try check(xnano_client_set_controller_connected(handle, controller, connected))
    }

    /// Asks the console for a keyframe.
    public func requestKeyframe() throws {
        try check(xnano_client_request_keyframe(handle))
    }

    /// Sends a Change Video Quality message (six values).
    public func changeVideoQuality(_ values: [UInt32]) throws {
        try values.withUnsafeBufferPointer {
            try check(xnano_client_change_video_quality(handle, $0.baseAddress, $0.count))
        }
    }

    /// Sends one encoded microphone packet to the console (copied).
    public func sendChatAudio(_ data: [UInt8]) throws {
        try data.withUnsafeBufferPointer {
            try check(xnano_client_send_chat_audio(handle, $0.baseAddress, $0.count))
        }
    }

    /// Pull mode: the next queued event, waiting up to `timeoutMs`; nil when nothing arrived
    /// in time. Throws `.closed` once the session closed and every event was taken.
    public func nextEvent(timeoutMs: UInt32) throws -> Event? {
        var ev: UnsafeMutablePointer<xnano_event>?
        let r = xnano_client_next_event(handle, timeoutMs, &ev)
        if r == XNANO_ERR_TIMEOUT { return nil }
        try check(r)
        defer { xnano_event_free(ev) }
        guard let e = ev, let event = Event(e.pointee) else {
            throw XnanoError(code: .protocol, message: "unknown event kind")
        }
        return event
    }

    /// Stops the session (`xnano_client_stop`): when it returns no closure runs any more.
    /// Stopping a stopped or never connected client does nothing. Returns the final stats.
    @discardableResult
    public func stop() throws -> ClientStats {
        try check(xnano_client_stop(handle))
        return try stats()
    }
}

/// A simulated console (`xnano_sim`) on 127.0.0.1: it streams to one client at a time and
/// answers input with rumble (trigger values echoed). Freed in `deinit`.
public final class Simulator {
    /// The address the simulated console listens on.
    public static let host = "127.0.0.1"
    /// The native handle.
    public let handle: OpaquePointer
    /// The Nano control port (TCP).
    public let tcpPort: UInt16
    /// The Nano data port (UDP).
    public let udpPort: UInt16

    /// Starts a simulated console (`xnano_sim_new`).
    public init(config: SimConfig = SimConfig()) throws {
        var raw = config.raw
        var p: OpaquePointer?
        try check(xnano_sim_new(&raw, &p))
        guard let sim = p else { throw XnanoError(code: .null, message: "xnano_sim_new gave NULL") }
        var tcp: UInt16 = 0
        var udp: UInt16 = 0
        let r = xnano_sim_nano_ports(sim, &tcp, &udp)
        if r != XNANO_OK {
            let e = XnanoError(code: ResultCode(r), message: String(cString: xnano_last_error()))
            xnano_sim_free(sim)
            throw e
        }
        handle = sim
        tcpPort = tcp
        udpPort = udp
    }

    deinit {
        xnano_sim_free(handle)
    }

    /// The console's counters (final after `stop()`).
    public func stats() throws -> SimStats {
        var s = xnano_sim_stats()
        try check(xnano_sim_get_stats(handle, &s))
        return s
    }

    /// Ends the current client's session from the console's side; it keeps listening.
    public func closeClient() throws {
        try check(xnano_sim_close_client(handle))
    }

    /// Stops the console; counters stay readable.
    public func stop() throws {
        try check(xnano_sim_stop(handle))
    }

    /// The SmartGlass UDP port on `Simulator.host` (`.wrongState` without SmartGlass).
    public func smartglassPort() throws -> UInt16 {
        var port: UInt16 = 0
        try check(xnano_sim_smartglass_port(handle, &port))
        return port
    }

    /// "127.0.0.1:PORT", the SmartGlass address to discover and connect to.
    public func smartglassAddress() throws -> String {
        "\(Simulator.host):\(try smartglassPort())"
    }

    /// What the simulated SmartGlass console announces, as discovery reports it.
    public func consoleInfo() throws -> ConsoleInfo {
        var info = xnano_console_info()
        try check(xnano_sim_console_info(handle, &info))
        return ConsoleInfo(info)
    }

    /// Whether the simulated SmartGlass console is powered on.
    public func smartglassPoweredOn() throws -> Bool {
        var on = false
        try check(xnano_sim_smartglass_powered_on(handle, &on))
        return on
    }

    /// How many SmartGlass messages of `type` ("TitleLaunch", "Gamepad"...; nil: all) arrived.
    public func messageCount(_ type: String? = nil) throws -> UInt64 {
        var n: UInt64 = 0
        try check(xnano_sim_smartglass_message_count(handle, type, &n))
        return n
    }

    /// Opens a text entry session on every connected SmartGlass client with the SystemText
    /// channel open; returns how many it reached.
    @discardableResult
    public func startTextSession(prompt: String? = nil) throws -> UInt32 {
        var n: UInt32 = 0
        try check(xnano_sim_start_text_session(handle, prompt, &n))
        return n
    }
}
