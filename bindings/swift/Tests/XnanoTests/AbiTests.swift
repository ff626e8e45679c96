// ABI 1: the version check, struct_size on caller-allocated structs, Sendable types, and
// stop/disconnect from two threads at once.
import CXnano
import CXnanoSim
import Foundation
import XCTest
@testable import Xnano
import XnanoSim

func requireSendable<T: Sendable>(_: T.Type) {}

final class AbiTests: XCTestCase {
    func testTheLoadedLibraryHasTheBindingsAbi() throws {
        XCTAssertEqual(Library.abiVersion, 1)
        XCTAssertEqual(Library.abiVersion, Library.headerAbiVersion, "binding constant = XNANO_ABI_VERSION of the header")
        XCTAssertEqual(xnano_abi_version(), UInt32(XNANO_ABI_VERSION))
        XCTAssertEqual(Library.loadedAbiVersion, 1)
        XCTAssertNoThrow(try Library.checkAbi())
        XCTAssertNoThrow(try checkAbi(found: xnano_abi_version()))
        let path = try XCTUnwrap(Library.libraryPath)
        // cargo's libxnano.so (linked as libxnano.so.1), or cargo-c's installed libxnano.so.1.0.0.
        XCTAssertTrue(path.hasSuffix("libxnano.so.1") || path.hasSuffix("libxnano.so") || path.hasSuffix("libxnano.so.1.0.0")
                      || path.hasSuffix(".dylib"), path)
    }

    func testTheLoadedSimLibraryHasItsAbi() throws {
        XCTAssertEqual(SimLibrary.abiVersion, 1)
        XCTAssertEqual(SimLibrary.abiVersion, SimLibrary.headerAbiVersion, "module constant = XNANO_SIM_ABI_VERSION of the header")
        XCTAssertEqual(xnano_sim_abi_version(), UInt32(XNANO_SIM_ABI_VERSION))
        XCTAssertEqual(SimLibrary.loadedAbiVersion, 1)
        XCTAssertNoThrow(try SimLibrary.checkAbi())
        let path = try XCTUnwrap(SimLibrary.libraryPath)
        XCTAssertTrue(path.hasSuffix("libxnano_sim.so.1") || path.hasSuffix("libxnano_sim.so")
                      || path.hasSuffix("libxnano_sim.so.1.0.0") || path.hasSuffix(".dylib"), path)
        XCTAssertNotEqual(path, Library.libraryPath, "two libraries")
    }

    func testASimMismatchIsRefusedWithAClearMessage() throws {
        let x = XnanoSimError.abiMismatch(found: 999, expected: 1)
        let text = "\(x)"
        XCTAssertTrue(text.hasPrefix("ABI mismatch: "), text)
        XCTAssertTrue(text.contains("ABI version 999"), text)
        XCTAssertTrue(text.contains("needs libxnano_sim ABI version 1"), text)
        XCTAssertTrue(text.contains(try XCTUnwrap(SimLibrary.libraryPath)), "names the library it loaded: \(text)")
        XCTAssertTrue("\(XnanoSimError.abiMismatch(found: 0, expected: 1))".contains("no xnano_sim_abi_version"))
    }

    func testAMismatchIsRefusedWithAClearMessage() {
        XCTAssertThrowsError(try checkAbi(found: 999)) { e in
            guard let x = e as? XnanoError, case .abiMismatch(let found, let expected) = x else {
                return XCTFail("not an ABI mismatch: \(e)")
            }
            XCTAssertEqual(found, 999)
            XCTAssertEqual(expected, 1)
            XCTAssertEqual(x, .abiMismatch(found: 999, expected: 1))
            XCTAssertEqual(x.code, .unsupported)
            let text = "\(x)"
            XCTAssertTrue(text.hasPrefix("ABI mismatch: "), text)
            XCTAssertTrue(text.contains("ABI version 999"), text)
            XCTAssertTrue(text.contains("needs ABI version 1"), text)
            XCTAssertTrue(text.contains(Library.libraryPath ?? "libxnano"), "names the library it loaded: \(text)")
        }
        XCTAssertThrowsError(try checkAbi(found: 0)) { e in
            XCTAssertTrue("\(e)".contains("no xnano_abi_version"), "a pre-ABI-1 library: \(e)")
        }
    }

    /// Run by scripts/test-swift.sh a second time with a preloaded `xnano_abi_version` that
    /// returns XNANO_TEST_EXPECT_ABI (999): every entry point refuses, and nothing else of the
    /// library is called. Skipped in the ordinary run.
    func testAMismatchedLibraryIsRefusedEverywhere() throws {
        guard let want = ProcessInfo.processInfo.environment["XNANO_TEST_EXPECT_ABI"].flatMap({ UInt32($0) }) else {
            throw XCTSkip("needs a preloaded xnano_abi_version (scripts/test-swift.sh)")
        }
        XCTAssertEqual(Library.loadedAbiVersion, want)
        let expected = XnanoError.abiMismatch(found: want, expected: 1)
        let entryPoints: [(String, () throws -> Void)] = [
            ("checkAbi", { try Library.checkAbi() }),
            ("Client", { _ = try Client() }),
            ("Simulator", { _ = try Simulator() }),
            ("Console", { _ = try Console() }),
            ("GameStreamConfig", { _ = try GameStreamConfig() }),
            ("discover", { _ = try SmartGlass.discover(address: "127.0.0.1:9", timeoutMs: 1) }),
            ("powerOn", { try SmartGlass.powerOn(liveId: "FD00112233445566") }),
            ("setLogHandler", { try Library.setLogHandler(nil) }),
        ]
        for (name, call) in entryPoints {
            XCTAssertThrowsError(try call(), name) { e in
                XCTAssertEqual(e as? XnanoError, expected, name)
                XCTAssertTrue("\(e)".contains("ABI version \(want)"), "\(e)")
            }
        }
        XCTAssertEqual(ClientConfig().raw.connect_timeout_ms, 0, "the defaults were not asked for")
        XCTAssertEqual(ConsoleConfig().raw.wait_timeout_ms, 0)
        // libxnano_sim's check is its own (the Simulator above was refused for libxnano's ABI).
        XCTAssertNoThrow(try SimLibrary.checkAbi())
        XCTAssertEqual(SimConfig().raw.width, 1280)
    }

    /// Run by scripts/test-swift.sh a third time with a preloaded `xnano_sim_abi_version` that
    /// returns XNANO_TEST_EXPECT_SIM_ABI (999): the simulator refuses, nothing else of
    /// libxnano_sim is called, and libxnano works. Skipped in the ordinary run.
    func testAMismatchedSimLibraryIsRefused() throws {
        guard let want = ProcessInfo.processInfo.environment["XNANO_TEST_EXPECT_SIM_ABI"].flatMap({ UInt32($0) }) else {
            throw XCTSkip("needs a preloaded xnano_sim_abi_version (scripts/test-swift.sh)")
        }
        XCTAssertEqual(SimLibrary.loadedAbiVersion, want)
        let expected = XnanoSimError.abiMismatch(found: want, expected: 1)
        let entryPoints: [(String, () throws -> Void)] = [
            ("checkAbi", { try SimLibrary.checkAbi() }),
            ("Simulator", { _ = try Simulator() }),
            ("Simulator(config:)", { _ = try Simulator(config: cheapSim()) }),
        ]
        for (name, call) in entryPoints {
            XCTAssertThrowsError(try call(), name) { e in
                XCTAssertEqual(e as? XnanoSimError, expected, name)
                XCTAssertTrue("\(e)".contains("ABI version \(want)"), "\(e)")
                XCTAssertTrue("\(e)".contains("libxnano_sim"), "names the library: \(e)")
            }
        }
        let cfg = SimConfig()
        XCTAssertEqual(cfg.raw.width, 0, "the defaults were not asked for")
        XCTAssertEqual(cfg.raw.struct_size, UInt32(MemoryLayout<xnano_sim_config>.stride))
        // libxnano's check is its own.
        XCTAssertNoThrow(try Library.checkAbi())
        XCTAssertEqual(ClientConfig().raw.connect_timeout_ms, 5000)
        XCTAssertNoThrow(try Client())
    }

    func testStructSizeIsSetBeforeEveryCall() throws {
        // The library sets struct_size to min(caller's, its own sizeof): with `.size` instead of
        // `.stride` (no trailing padding) the two configs would come back 2 bytes short.
        var cfg = ClientConfig()
        XCTAssertEqual(cfg.raw.struct_size, UInt32(MemoryLayout<xnano_client_config>.stride), "the library knows the whole struct")
        XCTAssertEqual(SimConfig().raw.struct_size, UInt32(MemoryLayout<xnano_sim_config>.stride))
        XCTAssertEqual(ConsoleConfig().raw.struct_size, UInt32(MemoryLayout<xnano_console_config>.stride))
        // A struct_size spoiled by the caller is set again by the binding before the call
        // (0 alone would be XNANO_ERR_INVALID_ARGUMENT).
        cfg.raw.struct_size = 0
        let c = try Client(config: cfg)
        var simCfg = cheapSim()
        simCfg.raw.struct_size = 0
        let sim = try Simulator(config: simCfg)
        XCTAssertEqual(try c.stats().struct_size, UInt32(MemoryLayout<xnano_client_stats>.stride))
        XCTAssertEqual(try sim.stats().struct_size, UInt32(MemoryLayout<xnano_sim_stats>.stride))
        XCTAssertEqual(try sim.consoleInfo().name, "XboxOne")
        // What the library does with struct_size 0, which the binding never sends.
        var raw = ClientConfig().raw
        raw.struct_size = 0
        var p: OpaquePointer?
        XCTAssertEqual(ResultCode(xnano_client_new(&raw, &p)), .invalidArgument)
        XCTAssertNil(p)
    }

    func testValueTypesAreSendable() {
        requireSendable(VideoFrame.self)
        requireSendable(AudioPacket.self)
        requireSendable(Rumble.self)
        requireSendable(StateChange.self)
        requireSendable(ClientEvent.self)
        requireSendable(ClientConfig.self)
        requireSendable(SimConfig.self)
        requireSendable(ConsoleConfig.self)
        requireSendable(ClientStats.self)
        requireSendable(SimStats.self)
        requireSendable(ControllerState.self)
        requireSendable(ConsoleInfo.self)
        requireSendable(ConsoleEvent.self)
        requireSendable(GamepadState.self)
        requireSendable(XnanoError.self)
        requireSendable(XnanoSimError.self)
        requireSendable(ResultCode.self)
        requireSendable(Client.self)
        requireSendable(Simulator.self)
        requireSendable(Console.self)
        requireSendable(GameStreamConfig.self)
    }

    func testStopFromTwoThreadsAtOnce() throws {
        let sim = try Simulator(config: cheapSim())
        let c = try Client()
        let rec = Recorder()
        rec.attach(c)
        try c.connect(to: sim)
        XCTAssertTrue(waitFor { rec.frames.count >= 5 })
        let lock = NSLock()
        var results: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            let r: String
            do {
                let stats = try c.stop()
                r = "ok \(stats.frames_delivered)"
            } catch {
                r = "\(error)"
            }
            lock.lock()
            results.append(r)
            lock.unlock()
        }
        let first = "ok \(rec.frames.count)"
        XCTAssertEqual(results, Array(repeating: first, count: 4), "every stop returns once nothing runs any more")
        XCTAssertEqual(rec.states.filter { $0.state == .closed }.count, 1)
        XCTAssertEqual(try c.state(), .closed)
        try sim.stop()
        try sim.stop()
    }

    func testDisconnectFromTwoThreadsAtOnce() throws {
        let sim = try Simulator(config: cheapSim())
        let console = try Console()
        let rec = ConsoleRecorder()
        rec.attach(console)
        try console.connect(address: try sim.smartglassAddress())
        let lock = NSLock()
        var errors: [String] = []
        DispatchQueue.concurrentPerform(iterations: 4) { _ in
            do { try console.disconnect() } catch {
                lock.lock()
                errors.append("\(error)")
                lock.unlock()
            }
        }
        XCTAssertEqual(errors, [])
        XCTAssertEqual(rec.events.filter { $0.kind == .closed }.count, 1)
        XCTAssertEqual(rec.events.last?.kind, .closed)
        XCTAssertEqual(try console.state(), .closed)
    }
}
