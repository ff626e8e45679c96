// swift-tools-version:5.9
// The Swift binding of xnano.
//
// - `CXnano` imports libxnano's C header (include/xnano.h) and links libxnano; `Xnano` wraps it
//   in Swift classes, closures and errors. An app depends on the `Xnano` product only: it
//   neither references nor links the simulator.
// - `CXnanoSim` imports libxnano_sim's header (sim/include/xnano_sim.h, which includes
//   xnano.h) and links libxnano_sim; `XnanoSim` (product `XnanoSim`) wraps it: `Simulator`,
//   `SimConfig`, `SimStats`, `Client.connect(to:)`. For tests, benchmarks and demos.
//
// Build both libraries first (`cargo build -p xnano -p xnano-sim --lib` at the repository
// root) and tell the compiler and linker where they are:
// `swift test -Xcc -I../../include -Xcc -I../../sim/include -Xlinker -L../../target/debug`
// (with LD_LIBRARY_PATH including that directory at run time). scripts/test-swift.sh does all
// of this. Tools 5.9 for `package` access: XnanoSim uses a few of Xnano's internals (the
// `struct_size` helper, `ResultCode(UInt32)`, `ConsoleInfo(xnano_console_info)`) that are no
// public API.
import PackageDescription

let package = Package(
    name: "Xnano",
    products: [
        .library(name: "Xnano", targets: ["Xnano"]),
        .library(name: "XnanoSim", targets: ["XnanoSim"]),
    ],
    targets: [
        .systemLibrary(name: "CXnano", path: "Sources/CXnano"),
        .target(name: "Xnano", dependencies: ["CXnano"]),
        .systemLibrary(name: "CXnanoSim", path: "Sources/CXnanoSim"),
        .target(name: "XnanoSim", dependencies: ["Xnano", "CXnano", "CXnanoSim"]),
        .testTarget(name: "XnanoTests", dependencies: ["Xnano", "XnanoSim"]),
    ]
)
