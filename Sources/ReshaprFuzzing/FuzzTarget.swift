/// The fuzz targets (`Fuzz/README.md`): each takes arbitrary bytes, as the network, a
/// configuration file or the control plane could send them, and must neither trap, recurse
/// without bound nor hang. A target may check a property too (a round trip) and trap when it
/// fails, so that the fuzzer reports it.
public enum FuzzTarget: String, CaseIterable, Sendable {
    /// The JSON parser and serializer (round trip), and the JSON Schema compiler and validator.
    case json
    /// The configuration loader on a directory made from the input (YAML, JSON, references).
    case config
    /// The OpenAPI/Swagger tool compiler, validators of the tools, request building, mock answers.
    case openapi
    /// The GraphQL tool compiler (SDL).
    case graphql
    /// The gRPC tool compiler on a protobuf descriptor set.
    case protobuf
    /// The protobuf transcoder, both directions, with a round-trip check.
    case transcoder
    /// The MCP/JSON-RPC request handler over the bundled samples (mock backends).
    case mcp
    /// The sync's change-stream applier and atomic writer, then the loader on what they wrote.
    case sync
    /// Output filters (retain, patches, TOON) and the output schema that follows them.
    case filters
    /// URI templates of resources: parsing, matching URIs, with a round-trip check.
    case uritemplate

    /// Runs the target on one input.
    public func run(_ bytes: [UInt8]) {
        switch self {
        case .json: Self.fuzzJSON(bytes)
        case .config: Self.fuzzConfig(bytes)
        case .openapi: Self.fuzzOpenAPI(bytes)
        case .graphql: Self.fuzzGraphQL(bytes)
        case .protobuf: Self.fuzzProtobuf(bytes)
        case .transcoder: Self.fuzzTranscoder(bytes)
        case .mcp: Self.fuzzMCP(bytes)
        case .sync: Self.fuzzSync(bytes)
        case .filters: Self.fuzzFilters(bytes)
        case .uritemplate: Self.fuzzURITemplate(bytes)
        }
    }
}
