import ReshaprFilters
import ReshaprJSON

extension FuzzTarget {
    /// The input is JSON `[filter, answer, schema]`: the filter is read as a configuration
    /// would be, applied to the answer, encoded as TOON, and the output schema derived from
    /// the schema. The derivation's promise is checked: an answer the schema accepts gives a
    /// filtered answer the derived schema accepts (the gateway refuses to send one that does not).
    static func fuzzFilters(_ bytes: [UInt8]) {
        guard case .array(let parts)? = try? JSONParser.parse(bytes), parts.count == 3 else { return }
        if case .string(let text) = parts[0] { _ = try? JSONPointer(text) }
        guard let filter = try? OutputFilter(spec: parts[0]) else { return }
        let outcome = filter.apply(to: parts[1])
        if !outcome.document.depth(exceeds: ToonEncoder.maxDepth) {
            _ = ToonEncoder().encode(outcome.document)
            _ = ToonEncoder(delimiter: .pipe, indentSize: 4).encode(outcome.document)
        }
        guard let derived = filter.outputSchema(from: parts[2]), let original = try? JSONSchemaValidator(schema: parts[2], strict: false),
            original.isValid(parts[1])
        else { return }
        guard let promised = try? JSONSchemaValidator(schema: derived, strict: false) else {
            fatalError("the derived output schema does not compile: \(derived.serialized())")
        }
        if let violation = promised.validate(outcome.document).first {
            fatalError("the filtered answer breaks the derived schema (\(violation)): \(outcome.document.serialized()) vs \(derived.serialized())")
        }
    }
}
