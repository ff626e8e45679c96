import CXnano
import CXnanoSim
import Foundation
import Xnano

/// Counters of the simulated console: the C struct `xnano_sim_stats`.
public typealias SimStats = xnano_sim_stats

/// A simulated console (`xnano_sim`, libxnano_sim) on 127.0.0.1: it streams to one client at a
/// time and answers input with rumble (trigger values echoed). Freed exactly once, in `deinit`.
///
/// Before its first call it checks both libraries' ABI: libxnano's (`Library.checkAbi()`:
/// its results and `ConsoleInfo` are libxnano's types; `XnanoError.abiMismatch`) and
/// libxnano_sim's (`SimLibrary.checkAbi()`: `XnanoSimError.abiMismatch`). A failed call throws
/// `XnanoError` with `xnano_sim_last_error()` as the message.
///
/// `@unchecked Sendable`: libxnano_sim synchronises the calls on one `xnano_sim`; `stopLock`
/// serialises `stop()`; the handle and ports are immutable, the handle freed only in `deinit`.
public final class Simulator: @unchecked Sendable {
    /// The address the simulated console listens on.
    public static let host = "127.0.0.1"
    /// The native handle; private so that only this object frees it.
    private let handle: OpaquePointer
    private let stopLock = NSLock()
    /// The Nano control port (TCP).
    public let tcpPort: UInt16
    /// The Nano data port (UDP).
    public let udpPort: UInt16

    /// Starts a simulated console (`xnano_sim_new`).
    public init(config: SimConfig = SimConfig()) throws {
        try Library.checkAbi()
        try SimLibrary.checkAbi()
        var raw = config.raw.sized
        var p: OpaquePointer?
        try checkSim(xnano_sim_new(&raw, &p))
        guard let sim = p else { throw XnanoError(code: .null, message: "xnano_sim_new gave NULL") }
        var tcp: UInt16 = 0
        var udp: UInt16 = 0
        let r = xnano_sim_nano_ports(sim, &tcp, &udp)
        if r != u32(XNANO_OK) {
            let e = simError(r)
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
        var s = xnano_sim_stats.sized()
        try checkSim(xnano_sim_get_stats(handle, &s))
        return s
    }

    /// Ends the current client's session from the console's side; it keeps listening.
    public func closeClient() throws {
        try checkSim(xnano_sim_close_client(handle))
    }

    /// Stops the console; counters stay readable. Stopping twice, or from two threads, is fine.
    public func stop() throws {
        stopLock.lock()
        defer { stopLock.unlock() }
        try checkSim(xnano_sim_stop(handle))
    }

    /// The SmartGlass UDP port on `Simulator.host` (`.wrongState` without SmartGlass).
    public func smartglassPort() throws -> UInt16 {
        var port: UInt16 = 0
        try checkSim(xnano_sim_smartglass_port(handle, &port))
        return port
    }

    /// "127.0.0.1:PORT", the SmartGlass address to discover and connect to.
    public func smartglassAddress() throws -> String {
        "\(Simulator.host):\(try smartglassPort())"
    }

    /// What the simulated SmartGlass console announces, as discovery reports it.
    public func consoleInfo() throws -> ConsoleInfo {
        var info = xnano_console_info.sized()
        try checkSim(xnano_sim_console_info(handle, &info))
        return ConsoleInfo(info)
    }

    /// Whether the simulated SmartGlass console is powered on.
    public func smartglassPoweredOn() throws -> Bool {
        var on = false
        try checkSim(xnano_sim_smartglass_powered_on(handle, &on))
        return on
    }

    /// How many SmartGlass messages of `type` ("TitleLaunch", "Gamepad"...; nil: all) arrived.
    public func messageCount(_ type: String? = nil) throws -> UInt64 {
        var n: UInt64 = 0
        try checkSim(xnano_sim_smartglass_message_count(handle, type, &n))
        return n
    }

    /// Opens a text entry session on every connected SmartGlass client with the SystemText
    /// channel open; returns how many it reached.
    @discardableResult
    public func startTextSession(prompt: String? = nil) throws -> UInt32 {
        var n: UInt32 = 0
        try checkSim(xnano_sim_start_text_session(handle, prompt, &n))
        return n
    }
}

extension Client {
    /// Connects to a simulated console on this machine (`connectNano` to its ports).
    public func connect(to sim: Simulator) throws {
        try connectNano(host: Simulator.host, tcpPort: sim.tcpPort, udpPort: sim.udpPort)
    }
}
