// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "CellWeave",
    products: [
        .executable(name: "cellweave", targets: ["cellweave"]),
        .executable(name: "cellweave-mpi", targets: ["cellweave-mpi"]),
        .library(name: "CellWeaveCore", targets: ["CellWeaveCore"]),
        .library(name: "CellWeaveIO", targets: ["CellWeaveIO"]),
        .library(name: "CellWeavePreprocess", targets: ["CellWeavePreprocess"]),
        .library(name: "CellWeaveReport", targets: ["CellWeaveReport"]),
        .library(name: "CellWeaveSimulation", targets: ["CellWeaveSimulation"]),
        .library(name: "CellWeaveModel", targets: ["CellWeaveModel"]),
        .library(name: "CellWeaveAnalysis", targets: ["CellWeaveAnalysis"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
    ],
    targets: [
        // System C libraries; the header shims wrap what Swift cannot import (macros).
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5",
                       providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // Open MPI, for cellweave-mpi alone.
        .systemLibrary(name: "CMPI", pkgConfig: "ompi-c",
                       providers: [.apt(["libopenmpi-dev", "openmpi-bin"])]),

        // The element-wise kernels of training in C, built for AVX2 and the baseline: exp/log vectorised
        // into glibc's libmvec, Adam, the sparse layer, the negative binomial's row pass (no FMA, so both builds give the same bits).
        .target(name: "CVectorMath",
                cSettings: [.unsafeFlags(["-O3", "-fno-math-errno", "-ffp-contract=off", "-fveclib=libmvec"], .when(platforms: [.linux]))],
                linkerSettings: [.linkedLibrary("mvec", .when(platforms: [.linux]))]),
        // A fault inside libhdf5 on a corrupted file reported as that file's error (exit 1).
        .target(name: "CCrashGuard"),
        .target(name: "CellWeaveCore", dependencies: [
            "COpenBLAS", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "CellWeaveIO", dependencies: ["CellWeaveCore", "CHDF5", "CZlib", "CCrashGuard"]),
        .target(name: "CellWeavePreprocess", dependencies: [
            "CellWeaveCore", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "CellWeaveReport"),
        .target(name: "CellWeaveModel", dependencies: [
            "CellWeaveCore", "CellWeavePreprocess", "COpenBLAS", "CVectorMath", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        .target(name: "CellWeaveAnalysis", dependencies: ["CellWeaveCore"]),
        .target(name: "CellWeaveSimulation", dependencies: [
            "CellWeaveCore", .product(name: "RealModule", package: "swift-numerics"),
        ]),
        // The commands, shared by both executables (the CLI's parsing and printing).
        .target(name: "CellWeaveCommands", dependencies: [
            "CellWeaveCore", "CellWeaveIO", "CellWeavePreprocess", "CellWeaveReport", "CellWeaveSimulation", "CellWeaveModel", "CellWeaveAnalysis",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "cellweave", dependencies: ["CellWeaveCommands"]),
        // Data-parallel training on MPI ranks; `cellweave` itself needs no MPI.
        .executableTarget(name: "cellweave-mpi", dependencies: [
            "CellWeaveCommands", "CellWeaveModel", "CMPI", .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        // libFuzzer harness over the readers (make fuzz); built as usual it replays a corpus.
        .executableTarget(name: "cellweave-fuzz", dependencies: ["CellWeaveIO", "CCrashGuard"], path: "Fuzz"),

        .testTarget(name: "CellWeaveCoreTests", dependencies: ["CellWeaveCore"]),
        .testTarget(name: "CellWeavePreprocessTests", dependencies: ["CellWeavePreprocess", "CellWeaveCore"]),
        .testTarget(name: "CellWeaveReportTests", dependencies: ["CellWeaveReport"]),
        .testTarget(name: "CellWeaveModelTests", dependencies: ["CellWeaveModel", "CellWeaveCore", "CellWeaveSimulation", "CellWeaveAnalysis"]),
        .testTarget(name: "CellWeaveAnalysisTests", dependencies: ["CellWeaveAnalysis", "CellWeaveCore"]),
        .testTarget(name: "CellWeaveSimulationTests", dependencies: ["CellWeaveSimulation", "CellWeaveCore"]),
        .testTarget(name: "CellWeaveIOTests", dependencies: ["CellWeaveIO", "CellWeaveCore", "CZlib"]),
    ],
    swiftLanguageModes: [.v5]
)
