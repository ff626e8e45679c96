import CXnano
import Foundation

/// The closures and streams of one client. Native code gets an unretained pointer to it as
/// `user_data`; the `Client` owns it, and frees the native client (after which no callback
/// starts) before it lets the box go. A callback that is running keeps the box alive itself
/// (the trampolines hold a strong reference for the whole call), so freeing the client from
/// inside one of its own closures is safe too.
///
/// `@unchecked Sendable`: the closures are read and written under `lock`; `hub` and `callback`
/// synchronise themselves.
final class CallbackBox: @unchecked Sendable {
    private let lock = NSLock()
    private var _video: ((VideoFrame) -> Void)?
    private var _audio: ((AudioPacket) -> Void)?
    private var _rumble: ((Rumble) -> Void)?
    private var _state: ((StateChange) -> Void)?
    let hub = EventHub<ClientEvent>()
    let callback = CallbackThread()

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

    /// The box behind `user_data`, retained by the caller for as long as it uses it.
    static func from(_ userData: UnsafeMutableRawPointer?) -> CallbackBox? {
        userData.map { Unmanaged<CallbackBox>.fromOpaque($0).takeUnretainedValue() }
    }

    /// Delivers one event to the closure (if set) and the streams (if any), marked as a
    /// callback of this client; `make` copies the C data only when someone takes it.
    func deliver<T>(_ closure: ((T) -> Void)?, _ make: () -> T, _ wrap: (T) -> ClientEvent) {
        let streams = hub.hasSubscribers
        guard closure != nil || streams else { return }
        let value = make()
        callback.run {
            closure?(value)
            if streams { hub.yield(wrap(value)) }
        }
    }
}

// C trampolines: no captures; the box comes through user_data. `withExtendedLifetime` keeps the
// box alive until the trampoline returns, even when its closure dropped the last reference to
// the client (whose deinit then frees the native client from inside this callback).
private let videoTrampoline: xnano_video_callback = { userData, frame in
    guard let frame = frame, let box = CallbackBox.from(userData) else { return }
    withExtendedLifetime(box) {
        box.deliver(box.video, { VideoFrame(frame.pointee) }, ClientEvent.videoFrame)
    }
}

private let audioTrampoline: xnano_audio_callback = { userData, packet in
    guard let packet = packet, let box = CallbackBox.from(userData) else { return }
    withExtendedLifetime(box) {
        box.deliver(box.audio, { AudioPacket(packet.pointee) }, ClientEvent.audioPacket)
    }
}

private let rumbleTrampoline: xnano_rumble_callback = { userData, rumble in
    guard let rumble = rumble, let box = CallbackBox.from(userData) else { return }
    withExtendedLifetime(box) {
        box.deliver(box.rumble, { Rumble(rumble.pointee) }, ClientEvent.rumble)
    }
}

private let stateTrampoline: xnano_state_callback = { userData, state, error, message in
    guard let box = CallbackBox.from(userData) else { return }
    withExtendedLifetime(box) {
        let change = StateChange(state: ClientState(u32(state)), error: ResultCode(u32(error)),
                                 message: message.map { String(cString: $0) } ?? "")
        box.callback.run {
            box.state?(change)
            box.hub.yield(.stateChange(change))
            // CLOSED is the last callback: the streams end after it.
            if change.state == .closed { box.hub.finish() }
        }
    }
}

/// A gamestream client session (`xnano_client`): set the closures (or read `events`), connect,
/// send input, then `stop()`; the native client is freed exactly once, when the object goes
/// away (`deinit`). The handle never leaves this object.
///
/// The closures run on libxnano's threads (video and audio on its UDP thread), one at a time
/// and in order; keep them short. They may call methods of the client, except `stop()`, which
/// throws `.fromCallback` there. Set them before `connect`.
///
/// Pull mode: with `ClientConfig.eventQueueCapacity > 0` no closure is called; read
/// `nextEvent(timeoutMs:)` on a thread of your choice, or `events` (a thread of the binding
/// then reads the queue while a stream is open: do not also call `nextEvent`).
///
/// `@unchecked Sendable`: libxnano synchronises every call on one `xnano_client` (header,
/// THREAD SAFETY); `stopLock` serialises `stop()`; the closures and streams live in the
/// lock-protected `CallbackBox`; the handle is immutable and freed only in `deinit`, when no
/// other reference (and so no other call) exists.
public final class Client: @unchecked Sendable {
    /// The native handle; private so that only this object frees it.
    private let handle: OpaquePointer
    private let box: CallbackBox
    private let pullMode: Bool
    private let stopLock = NSLock()

    /// Creates an idle client (`xnano_client_new`). Throws `XnanoError.abiMismatch` when the
    /// loaded libxnano has another ABI.
    public init(config: ClientConfig = ClientConfig()) throws {
        try requireAbi()
        var raw = config.raw.sized
        var p: OpaquePointer?
        try check(xnano_client_new(&raw, &p))
        guard let client = p else { throw XnanoError(code: .null, message: "xnano_client_new gave NULL") }
        let box = CallbackBox()
        if raw.event_queue_capacity == 0 {
            let ud = Unmanaged.passUnretained(box).toOpaque()
            var r = xnano_client_set_video_callback(client, videoTrampoline, ud)
            if r == u32(XNANO_OK) { r = xnano_client_set_audio_callback(client, audioTrampoline, ud) }
            if r == u32(XNANO_OK) { r = xnano_client_set_rumble_callback(client, rumbleTrampoline, ud) }
            if r == u32(XNANO_OK) { r = xnano_client_set_state_callback(client, stateTrampoline, ud) }
            if r != u32(XNANO_OK) {
                let e = lastError(r)
                xnano_client_free(client)
                throw e
            }
        }
        handle = client
        self.box = box
        pullMode = raw.event_queue_capacity > 0
    }

    deinit {
        // The only free of this handle. Inside one of this client's own callbacks (the last
        // reference dropped there) libxnano detaches it and releases it once its threads end;
        // no other callback starts after this returns, and the running one keeps the box.
        xnano_client_free(handle)
        box.hub.finish()
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

    /// The client's events as an `AsyncStream`, beside the closures (which still run): every
    /// video frame, audio packet, rumble and state change from now on, in order. The stream
    /// ends after `.stateChange(.closed)`, on `stop()`, or when the client goes away; a stream
    /// made after that ends at once. Buffers without bound: see `events(bufferingPolicy:)`.
    /// Each call makes a new stream; every stream gets every event.
    public var events: AsyncStream<ClientEvent> { events() }

    /// `events` with a buffering policy, e.g. `.bufferingNewest(120)` for a consumer that may
    /// fall behind the video (older events are then dropped from its stream).
    public func events(bufferingPolicy: AsyncStream<ClientEvent>.Continuation.BufferingPolicy = .unbounded)
        -> AsyncStream<ClientEvent> {
        let (stream, startPump) = box.hub.subscribe(bufferingPolicy: bufferingPolicy)
        if startPump { startPullPump() }
        return stream
    }

    /// Pull mode: a thread that moves the library's queue into the streams while any is open.
    /// It holds the client only during each read (weakly in between), so dropping the client
    /// still frees it.
    private func startPullPump() {
        let hub = box.hub
        Thread.detachNewThread { [weak self] in
            while hub.pumpShouldContinue() {
                guard let client = self else { return hub.finish() }
                do {
                    if let e = try client.nextEvent(timeoutMs: 100) { hub.yield(e) }
                } catch {
                    // `.closed`: every event, the final CLOSED included, was taken.
                    return hub.finish()
                }
            }
        }
    }

    /// After a successful connect: in pull mode the pump may start now.
    private func connected() {
        if pullMode && box.hub.enablePull() { startPullPump() }
    }

    /// Connects straight to a Nano host (`xnano_client_connect_nano`); returns once TCP is up.
    public func connectNano(host: String, tcpPort: UInt16, udpPort: UInt16) throws {
        guard !host.utf8.contains(0) else {
            throw XnanoError(code: .invalidArgument, message: "host contains a NUL character")
        }
        try check(xnano_client_connect_nano(handle, host, tcpPort, udpPort))
        connected()
    }

    /// Starts a gamestream over SmartGlass (`xnano_client_connect_console`): asks the
    /// connected `console` to stream with `config` (nil: defaults), waits for its Nano host and
    /// connects to it. The client then works as after `connectNano`; `stop()` also stops the
    /// console's stream.
    public func connect(console: Console, config: GameStreamConfig? = nil) throws {
        let r: UInt32
        if let config = config {
            r = config.withHandle { xnano_client_connect_console(handle, console.handle, $0) }
        } else {
            r = xnano_client_connect_console(handle, console.handle, nil)
        }
        try check(r)
        connected()
    }

    /// The current state (`xnano_client_get_state`).
    public func state() throws -> ClientState {
        var s: UInt32 = 0
        try check(xnano_client_get_state(handle, &s))
        return ClientState(s)
    }

    /// Session statistics (`xnano_client_get_stats`); the final numbers after a stop.
    public func stats() throws -> ClientStats {
        var s = xnano_client_stats.sized()
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
    public func nextEvent(timeoutMs: UInt32) throws -> ClientEvent? {
        var ev: UnsafeMutablePointer<xnano_event>?
        let r = xnano_client_next_event(handle, timeoutMs, &ev)
        if r == u32(XNANO_ERR_TIMEOUT) { return nil }
        try check(r)
        defer { xnano_event_free(ev) }
        guard let e = ev, let event = ClientEvent(e.pointee) else {
            throw XnanoError(code: .protocol, message: "unknown event kind")
        }
        return event
    }

    /// Stops the session (`xnano_client_stop`): when it returns no closure runs any more and
    /// the `events` streams have ended. Stopping a stopped or never connected client does
    /// nothing; two threads may stop it at once (the second waits for the first). Returns the
    /// final stats. From inside one of this client's closures: `.fromCallback`.
    @discardableResult
    public func stop() throws -> ClientStats {
        if box.callback.isCurrent {
            // Checked before the lock: a thread inside stop() holds it while it waits for
            // this very callback to return.
            throw XnanoError(code: .fromCallback,
                             message: "stop() called from inside one of this client's own callbacks; stop it from another thread")
        }
        stopLock.lock()
        defer { stopLock.unlock() }
        try check(xnano_client_stop(handle))
        if pullMode {
            // The queue still holds the final CLOSED: the pump hands it to the streams, then
            // ends them (started now if a stream is open but the client never connected).
            if box.hub.enablePull() { startPullPump() }
        } else {
            box.hub.finish()
        }
        return try stats()
    }
}
