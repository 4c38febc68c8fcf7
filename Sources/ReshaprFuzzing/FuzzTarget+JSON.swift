import ReshaprJSON

extension FuzzTarget {
    static func fuzzJSON(_ bytes: [UInt8]) {
        guard let value = try? JSONParser.parse(bytes) else { return }
        // What we print must parse back to the same value.
        let printed = value.serializedBytes()
        guard let again = try? JSONParser.parse(printed) else {
            fatalError("serialized JSON does not parse: \(String(decoding: printed, as: UTF8.self))")
        }
        guard again.serializedBytes() == printed else {
            fatalError("JSON round trip changed the value: \(String(decoding: printed, as: UTF8.self))")
        }
        // Any document may be handed to the schema compiler (tool schemas come from API
        // descriptions); what compiles validates anything without trapping.
        if let validator = try? JSONSchemaValidator(schema: value, strict: false) {
            _ = validator.validate(value)
            _ = validator.validate(.object(["a": value]))
            _ = validator.isValid(.array([value, .null]))
        }
        if case .string(let pointer)? = value.arrayValue?.first {
            _ = value.value(atPointer: pointer)
        }
    }
}
