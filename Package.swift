// swift-tools-version: 6.1
import PackageDescription

let package = Package(
    name: "reshapr",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "reshapr-gateway", targets: ["reshapr-gateway"]),
        .executable(name: "reshapr-ctrl", targets: ["reshapr-ctrl"]),
        .executable(name: "reshapr-sync", targets: ["reshapr-sync"]),
        .executable(name: "reshapr", targets: ["reshapr"]),
        // For Benchmarks/ (filter-bench): the output filters and the TOON encoder.
        .library(name: "ReshaprFilters", targets: ["ReshaprFilters", "ReshaprJSON"]),
        // For Benchmarks/ (sync-load): the gateway sync protocol's generated client.
        .library(name: "ReshaprSyncProtocol", targets: ["ReshaprSyncProtocol"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/grpc/grpc-swift-2", from: "2.4.3"),
        .package(url: "https://github.com/grpc/grpc-swift-nio-transport", from: "2.9.2"),
        .package(url: "https://github.com/grpc/grpc-swift-protobuf", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/sqlite-nio", from: "1.13.2"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/vapor/jwt-kit", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/GraphQLSwift/GraphQL", from: "4.3.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.7.3"),
        .package(url: "https://github.com/swift-otel/swift-otel", from: "1.6.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        // JSON values (objects keep their keys' order) and a JSON Schema (draft 2020-12) validator.
        .target(name: "ReshaprJSON", dependencies: [.product(name: "OrderedCollections", package: "swift-collections")]),
        // The configuration directory: resource model, scanner, loader, validation.
        // Knows nothing of HTTP or MCP.
        .target(
            name: "ReshaprConfig",
            dependencies: [
                "ReshaprJSON",
                "ReshaprFilters",
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        // Linux inotify: debounced change batches for a directory tree. Knows nothing of the configuration format.
        .target(name: "ReshaprWatch"),
        // Output filters on a tool's JSON answer: JSON Pointer retain, RFC 6902 patches, TOON
        // encoding, and the output schema that follows them. Knows nothing of MCP or HTTP.
        .target(
            name: "ReshaprFilters",
            dependencies: ["ReshaprJSON", .product(name: "OrderedCollections", package: "swift-collections")]
        ),
        // Scripted custom tools: JavaScriptCore's C API loaded at run time (dlopen), one thread and
        // one context per run, time limit and call budget. Knows nothing of MCP.
        .target(name: "ReshaprScripting", dependencies: ["ReshaprJSON"]),
        // MCP tool definitions and the selection rules common to every API kind.
        .target(name: "ReshaprTools", dependencies: ["ReshaprJSON"]),
        // OpenAPI 3.0/3.1 and Swagger 2.0 operations compiled into MCP tool definitions.
        .target(
            name: "ReshaprOpenAPI", dependencies: ["ReshaprJSON", "ReshaprTools", .product(name: "HTTPTypes", package: "swift-http-types")]),
        // GraphQL schemas (SDL or introspection) compiled into MCP tools, one per query and mutation field.
        .target(
            name: "ReshaprGraphQL",
            dependencies: [
                "ReshaprJSON",
                "ReshaprTools",
                .product(name: "GraphQL", package: "GraphQL"),
            ]
        ),
        // gRPC services (protobuf descriptor sets) compiled into MCP tools; JSON <-> protobuf transcoding.
        .target(
            name: "ReshaprProtobuf",
            dependencies: [
                "ReshaprJSON",
                "ReshaprTools",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // MCP Streamable HTTP: sessions, JSON-RPC dispatch, notification streams. Knows nothing of OpenAPI.
        .target(
            name: "ReshaprMCP",
            dependencies: [
                "ReshaprJSON",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        // Client authentication of MCP endpoints: API keys and JWT bearer tokens checked against a JWKS.
        // Knows nothing of HTTP servers; a JWKS URL is fetched through a closure.
        .target(
            name: "ReshaprAuth",
            dependencies: [
                "ReshaprJSON",
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // Logs (logfmt or JSON lines) and the Prometheus registry behind swift-metrics; shared by the daemons.
        .target(
            name: "ReshaprTelemetry",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ]
        ),
        // Tool calls on the wire: request building, backend security, HTTP client, mock answers.
        .target(
            name: "ReshaprBackend",
            dependencies: [
                "ReshaprConfig",
                "ReshaprOpenAPI",
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        // The data plane: routing table of MCP endpoints, health and status, process lifecycle.
        .target(
            name: "ReshaprGateway",
            dependencies: [
                "ReshaprConfig",
                "ReshaprFilters",
                "ReshaprScripting",
                "ReshaprTools",
                "ReshaprOpenAPI",
                "ReshaprGraphQL",
                "ReshaprProtobuf",
                "ReshaprMCP",
                "ReshaprBackend",
                "ReshaprWatch",
                "ReshaprAuth",
                "ReshaprTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        // The gateway sync protocol: code generated from schema/reshapr/gateway/v1/gateway.proto
        // by scripts/generate-grpc.sh (committed; builds never need protoc).
        .target(
            name: "ReshaprSyncProtocol",
            dependencies: [
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCProtobuf", package: "grpc-swift-protobuf"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The control plane: catalogue store (SQLite), API tokens, gateway registry, gRPC service, REST API.
        .target(
            name: "ReshaprControlPlane",
            dependencies: [
                "ReshaprJSON",
                "ReshaprConfig",
                "ReshaprFetch",
                "ReshaprSyncProtocol",
                "ReshaprTelemetry",
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                "ReshaprDatabase",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // SQL for the control plane's store: one small interface over SQLite (embedded, one
        // process) and PostgreSQL (shared by replicas, with LISTEN/NOTIFY), versioned migrations
        // run once under a lock. Knows nothing of the catalogue it holds.
        .target(
            name: "ReshaprDatabase",
            dependencies: [
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        // A bounded GET of an API description over http(s), for the CLI and the control plane.
        .target(
            name: "ReshaprFetch",
            dependencies: [
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // The sync bridge: talks to the control plane, writes the configuration directory atomically.
        // Knows nothing of MCP.
        .target(
            name: "ReshaprSync",
            dependencies: [
                "ReshaprJSON",
                "ReshaprSyncProtocol",
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Fuzz targets (Fuzz/README.md): arbitrary bytes through every parser, compiler and
        // handler that reads input from the network, the configuration or the control plane.
        .target(
            name: "ReshaprFuzzing",
            dependencies: [
                "ReshaprJSON",
                "ReshaprFilters",
                "ReshaprConfig",
                "ReshaprTools",
                "ReshaprOpenAPI",
                "ReshaprGraphQL",
                "ReshaprProtobuf",
                "ReshaprBackend",
                "ReshaprMCP",
                "ReshaprGateway",
                "ReshaprSync",
                "ReshaprSyncProtocol",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
            ]
        ),
        // Thin executable: libFuzzer's entry point when built by Fuzz/run.sh, else a replayer of inputs.
        .executableTarget(name: "reshapr-fuzz", dependencies: ["ReshaprFuzzing"], path: "Fuzz/Sources/reshapr-fuzz"),
        // Thin executable: argument parsing on top of ReshaprGateway.
        .executableTarget(
            name: "reshapr-gateway",
            dependencies: [
                "ReshaprGateway",
                "ReshaprBackend",
                "ReshaprMCP",
                "ReshaprTelemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Helpers shared by the test targets: temporary directories, repository paths.
        .target(
            name: "TestSupport",
            dependencies: [
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
            ],
            path: "Tests/TestSupport"
        ),
        // Thin executable: argument parsing on top of ReshaprControlPlane.
        .executableTarget(
            name: "reshapr-ctrl",
            dependencies: [
                "ReshaprControlPlane",
                "ReshaprDatabase",
                "ReshaprTelemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Thin executable: argument parsing on top of ReshaprSync.
        .executableTarget(
            name: "reshapr-sync",
            dependencies: [
                "ReshaprSync",
                "ReshaprTelemetry",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // zlib from the system (zlib1g-dev), for the CLI's .zip reader.
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        // The reshapr CLI: commands over the control plane's REST API.
        .target(
            name: "ReshaprCLI",
            dependencies: [
                "CZlib",
                "ReshaprJSON",
                "ReshaprConfig",
                "ReshaprFetch",
                "ReshaprSync",
                "ReshaprTelemetry",
                .product(name: "Yams", package: "Yams"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .executableTarget(name: "reshapr", dependencies: ["ReshaprCLI"]),
        .testTarget(name: "ReshaprJSONTests", dependencies: ["ReshaprJSON"]),
        .testTarget(name: "ReshaprFiltersTests", dependencies: ["ReshaprFilters", "ReshaprJSON", "TestSupport"]),
        .testTarget(name: "ReshaprOpenAPITests", dependencies: ["ReshaprOpenAPI", "ReshaprTools", "ReshaprConfig", "TestSupport"]),
        .testTarget(
            name: "ReshaprBackendTests",
            dependencies: [
                "ReshaprBackend",
                "ReshaprOpenAPI",
                "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ]
        ),
        .testTarget(
            name: "ReshaprProtobufTests",
            dependencies: ["ReshaprProtobuf", "ReshaprJSON", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
        ),
        .testTarget(name: "ReshaprGraphQLTests", dependencies: ["ReshaprGraphQL", "ReshaprTools", "ReshaprJSON", "TestSupport"]),
        .testTarget(name: "ReshaprAuthTests", dependencies: ["ReshaprAuth", "TestSupport"]),
        .testTarget(name: "ReshaprTelemetryTests", dependencies: ["ReshaprTelemetry"]),
        .testTarget(name: "ReshaprWatchTests", dependencies: ["ReshaprWatch", "TestSupport"]),
        .testTarget(
            name: "ReshaprDatabaseTests",
            dependencies: ["ReshaprDatabase", "TestSupport", .product(name: "Logging", package: "swift-log")]
        ),
        .testTarget(name: "ReshaprSyncTests", dependencies: ["ReshaprSync", "ReshaprSyncProtocol", "ReshaprConfig", "TestSupport"]),
        // ctrl + sync + gateway as real processes.
        .testTarget(
            name: "EndToEndTests",
            dependencies: [
                "ReshaprJSON",
                "ReshaprConfig",
                "ReshaprSync",
                .product(name: "Yams", package: "Yams"),
                "TestSupport",
                "reshapr-ctrl",
                "reshapr-sync",
                "reshapr-gateway",
                "reshapr",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ReshaprControlPlaneTests",
            dependencies: [
                "ReshaprControlPlane",
                "ReshaprDatabase",
                "ReshaprSyncProtocol",
                "ReshaprSync",
                "TestSupport",
                "reshapr-ctrl",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "GRPCCore", package: "grpc-swift-2"),
                .product(name: "GRPCNIOTransportHTTP2", package: "grpc-swift-nio-transport"),
            ]
        ),
        .testTarget(name: "ReshaprConfigTests", dependencies: ["ReshaprConfig", "TestSupport"]),
        .testTarget(
            name: "ReshaprGatewayTests",
            dependencies: [
                "ReshaprGateway",
                "TestSupport",
                "reshapr-gateway",
                "reshapr",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "ReshaprFuzzingTests",
            dependencies: [
                "ReshaprFuzzing",
                "ReshaprJSON",
                "ReshaprProtobuf",
                "TestSupport",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)
