// swift-tools-version:5.7
// The Swift binding of xnano: `CXnano` imports the C header (include/xnano.h) and links
// libxnano; `Xnano` wraps it in Swift classes, closures and errors.
//
// Build libxnano first (`cargo build` at the repository root) and tell the linker where it
// is: `swift test -Xlinker -L../../target/debug` (with LD_LIBRARY_PATH including that
// directory at run time). scripts/test-swift.sh does all of this.
import PackageDescription

let package = Package(
    name: "Xnano",
    products: [
        .library(name: "Xnano", targets: ["Xnano"])
    ],
    targets: [
        .systemLibrary(name: "CXnano", path: "Sources/CXnano"),
        .target(name: "Xnano", dependencies: ["CXnano"]),
        .testTarget(name: "XnanoTests", dependencies: ["Xnano"]),
    ]
)
