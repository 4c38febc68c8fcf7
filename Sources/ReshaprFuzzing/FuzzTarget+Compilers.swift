import ReshaprBackend
import ReshaprGraphQL
import ReshaprJSON
import ReshaprOpenAPI
import ReshaprProtobuf
import ReshaprTools

extension FuzzTarget {
    static func fuzzOpenAPI(_ bytes: [UInt8]) {
        guard let document = try? JSONParser.parse(bytes) else { return }
        let catalog = ToolCompiler.compile(document)
        for tool in catalog.tools.prefix(50) {
            guard let validator = try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false) else { continue }
            let arguments = sampleArguments(tool.definition.inputSchema)
            guard validator.isValid(.object(arguments)) else { continue }
            _ = try? RequestBuilder.build(tool.binding, arguments: arguments)
            _ = MockResponder.respond(to: tool.binding)
        }
    }

    /// One plausible argument per input property: a string, a number, an array or an object.
    static func sampleArguments(_ schema: JSONValue) -> JSONObject {
        var arguments: JSONObject = [:]
        for (name, property) in schema["properties"]?.objectValue ?? [:] {
            switch property["type"]?.stringValue {
            case "integer", "number": arguments[name] = 1
            case "boolean": arguments[name] = true
            case "array": arguments[name] = ["x", ".."]
            case "object": arguments[name] = ["k": "v"]
            default: arguments[name] = ".."
            }
        }
        return arguments
    }

    static func fuzzGraphQL(_ bytes: [UInt8]) {
        guard let text = String(validating: bytes, as: UTF8.self) else { return }
        let source: GraphQLSource
        if let document = try? JSONParser.parse(bytes) {
            source = .introspection(document)
        } else {
            source = .sdl(text)
        }
        guard let catalog = try? GraphQLCompiler.compile(source, selectionDepth: 3) else { return }
        for tool in catalog.tools.prefix(50) {
            _ = try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)
        }
    }

    static func fuzzProtobuf(_ bytes: [UInt8]) {
        guard let pool = try? DescriptorPool(descriptorSet: bytes) else { return }
        let catalog = GRPCCompiler.compile(pool)
        let transcoder = Transcoder(pool: pool)
        for tool in catalog.tools.prefix(20) {
            _ = try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)
            if let encoded = try? transcoder.encode(tool.binding.mockResponse, as: tool.binding.outputType) {
                _ = try? transcoder.decode(encoded, as: tool.binding.outputType)
            }
            _ = try? transcoder.decode(bytes, as: tool.binding.inputType)
        }
    }
}
