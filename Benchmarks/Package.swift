// swift-tools-version: 6.1
// Benchmarks, run on demand (not by CI): see Benchmarks/README.md.
import PackageDescription

let package = Package(
    name: "reshapr-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/modelcontextprotocol/swift-sdk", from: "0.12.1"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(name: "reshapr", path: ".."),
    ],
    targets: [
        // An MCP client for load generation, and helpers to start the gateway and compute percentiles.
        .target(
            name: "BenchSupport",
            dependencies: [.product(name: "AsyncHTTPClient", package: "async-http-client")]
        ),
        // Reload latency: rename(2) of a changed plan → new tool list served, under load.
        .executableTarget(
            name: "reload-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // The backend of the comparison: GET /api/v3/pet/{petId} from memory.
        .executableTarget(
            name: "petstore-backend",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // Cold start and memory at 1/100/1,000 expositions; tools/list on a 1,000-tool endpoint.
        .executableTarget(
            name: "scale-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Sync propagation: REST change on reshapr-ctrl -> changed tool list served by the gateway.
        .executableTarget(
            name: "sync-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Control-plane capacity: N syncs, each on its own HTTP/2 connection (Register, Watch).
        .executableTarget(
            name: "sync-load",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "ReshaprSyncProtocol", package: "reshapr"),
            ]
        ),
        // Load generator: N MCP clients calling one tool over Streamable HTTP, for a fixed time.
        .executableTarget(
            name: "mcp-load",
            dependencies: [
                "BenchSupport",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
        // Output filters alone: the cost of retain+patch and of TOON on one answer, and TOON against
        // compact JSON on the corpus (whole documents, and the examples they carry).
        .executableTarget(
            name: "filter-bench",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "ReshaprFilters", package: "reshapr"),
            ]
        ),
        // The same Petstore tool served by the MCP Swift SDK (StatefulHTTPServerTransport) on Hummingbird.
        .executableTarget(
            name: "sdk-mcp-server",
            dependencies: [
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "MCP", package: "swift-sdk"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
