// swift-tools-version:5.9
// The Swift package of xnano, at the repository root so that an app depends on it by the
// repository's git URL:
//
//     .package(url: "https://github.com/xnano/xnano", from: "0.1.0")
//     .product(name: "Xnano", package: "xnano")
//
// The native library comes from the system: install it first with cargo-c
// (`cargo cinstall --release --prefix=/usr/local`, see README "Install"); SwiftPM finds it
// through pkg-config (xnano.pc; set PKG_CONFIG_PATH for another prefix, and the loader path,
// e.g. LD_LIBRARY_PATH, at run time). For Apple platforms scripts/build-xcframework.sh builds
// the static library into an XCFramework.
//
// - `CXnano` imports libxnano's C header (pkg-config `xnano`) and links libxnano; `Xnano`
//   wraps it in Swift classes, closures and errors. An app depends on the `Xnano` product
//   only: it neither references nor links the simulator.
// - `CXnanoSim` imports libxnano_sim's header (pkg-config `xnano_sim`; `cargo cinstall
//   --release --library-type cdylib -p xnano-sim`) and links libxnano_sim; `XnanoSim`
//   (product `XnanoSim`) wraps it: `Simulator`, `SimConfig`, `SimStats`,
//   `Client.connect(to:)`. For tests, benchmarks and demos.
//
// The sources live in bindings/swift. Tools 5.9 for `package` access: XnanoSim uses a few of
// Xnano's internals (the `struct_size` helper, `ResultCode(UInt32)`,
// `ConsoleInfo(xnano_console_info)`) that are no public API. scripts/test-swift.sh runs
// `swift test` here against the library installed by scripts/install-c.sh.
import PackageDescription

let package = Package(
    name: "xnano",
    platforms: [
        .macOS(.v12),
        .iOS(.v15),
        .tvOS(.v15),
    ],
    products: [
        .library(name: "Xnano", targets: ["Xnano"]),
        .library(name: "XnanoSim", targets: ["XnanoSim"]),
    ],
    targets: [
        .systemLibrary(name: "CXnano", path: "bindings/swift/Sources/CXnano", pkgConfig: "xnano"),
        .target(name: "Xnano", dependencies: ["CXnano"], path: "bindings/swift/Sources/Xnano"),
        .systemLibrary(
            name: "CXnanoSim", path: "bindings/swift/Sources/CXnanoSim", pkgConfig: "xnano_sim"),
        .target(
            name: "XnanoSim", dependencies: ["Xnano", "CXnano", "CXnanoSim"],
            path: "bindings/swift/Sources/XnanoSim"),
        .testTarget(
            name: "XnanoTests", dependencies: ["Xnano", "XnanoSim"],
            path: "bindings/swift/Tests/XnanoTests"),
    ]
)
