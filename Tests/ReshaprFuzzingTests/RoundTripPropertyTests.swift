import Foundation
import PropertyBased
import ReshaprJSON
import Testing

@testable import ReshaprFuzzing
@testable import ReshaprProtobuf

/// Round trips that must hold for any value: checked on generated values, which the library
/// shrinks to a small counterexample when one fails.
@Suite struct RoundTripPropertyTests {
    /// Bytes that a ``ValueBuilder`` turns into a value: shrinking the bytes shrinks the value.
    static let shapes = Gen.uint8().array(of: 0...400)

    @Test func jsonSerializationParsesBackToTheSameValue() async {
        await propertyCheck(count: 500, input: Self.shapes) { bytes in
            var builder = ValueBuilder(bytes)
            let value = builder.json(depth: 0)
            let printed = value.serializedBytes()
            let parsed = try? JSONParser.parse(printed)
            #expect(parsed == value, "\(String(decoding: printed, as: UTF8.self))")
        }
    }

    @Test func jsonPointersBuiltFromAPathDesignateItsValue() async {
        await propertyCheck(count: 500, input: Self.shapes) { bytes in
            var builder = ValueBuilder(bytes)
            var path = JSONPath.root
            for _ in 0..<(1 + Int(builder.next() % 5)) {
                path = builder.next() % 3 == 0 ? path.appending(index: Int(builder.next() % 3)) : path.appending(builder.string())
            }
            let leaf = JSONValue.string("leaf")
            var document = leaf
            for component in path.components.reversed() {
                switch component {
                case .key(let key): document = .object([key: document])
                case .index(let index): document = .array(Array(repeating: .null, count: index) + [document])
                }
            }
            #expect(document.value(atPointer: path.pointer) == leaf, "\(path.pointer)")
        }
    }

    @Test func protobufJSONSurvivesBinaryAndBack() async throws {
        let pool = try #require(FuzzTarget.samplePool)
        let transcoder = Transcoder(pool: pool)
        await propertyCheck(count: 500, input: Self.shapes) { bytes in
            var builder = ValueBuilder(bytes)
            let message = builder.sampleMessage(pool: pool, depth: 0)
            do {
                let encoded = try transcoder.encode(message, as: "fuzz.Sample")
                let decoded = try transcoder.decode(encoded, as: "fuzz.Sample")
                #expect(try transcoder.encode(decoded, as: "fuzz.Sample") == encoded, "\(message.serialized())")
                #expect(decoded == message, "\(message.serialized()) came back as \(decoded.serialized())")
            } catch {
                Issue.record("\(message.serialized()): \(error)")
            }
        }
    }
}

/// Builds values from a byte string, deterministically; past the end every byte reads as 0.
struct ValueBuilder {
    var bytes: [UInt8]
    var index = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    mutating func next() -> UInt8 {
        defer { index += 1 }
        return index < bytes.count ? bytes[index] : 0
    }

    mutating func uint64() -> UInt64 {
        (0..<8).reduce(0) { value, _ in value << 8 | UInt64(next()) }
    }

    /// Characters that stress escaping: quotes, backslashes, controls, pointer syntax, non-BMP.
    static let alphabet: [Unicode.Scalar] = ["a", "Z", "0", "\"", "\\", "/", "~", "%", "2", "5", "\n", "\u{0}", "\u{1F}", "é", "\u{2028}", "😀", " ", "."]

    mutating func string() -> String {
        var text = ""
        for _ in 0..<Int(next() % 8) { text.unicodeScalars.append(Self.alphabet[Int(next()) % Self.alphabet.count]) }
        return text
    }

    mutating func json(depth: Int) -> JSONValue {
        switch next() % (depth < 4 ? 7 : 5) {
        case 0: return .null
        case 1: return .bool(next() & 1 == 1)
        case 2: return .integer(Int(truncatingIfNeeded: uint64()))
        case 3:
            let double = Double(bitPattern: uint64())
            return double.isFinite && double.rounded() != double ? .number(double) : .number(Double(next()) + 0.5)
        case 4: return .string(string())
        case 5: return .array((0..<Int(next() % 4)).map { _ in json(depth: depth + 1) })
        default:
            var members: JSONObject = [:]
            for _ in 0..<Int(next() % 4) { members[string()] = json(depth: depth + 1) }
            return .object(members)
        }
    }

    /// A `fuzz.Sample` message in its canonical proto3 JSON form, with values in range.
    mutating func sampleMessage(pool: DescriptorPool, depth: Int) -> JSONValue {
        guard let message = pool.messages["fuzz.Sample"] else { return [:] }
        var members: JSONObject = [:]
        for field in message.fields where next() % 4 == 0 {
            let value: JSONValue?
            switch field.type {
            case .message:
                switch field.typeName {
                case "fuzz.Sample": value = depth < 2 && !field.repeated ? sampleMessage(pool: pool, depth: depth + 1) : Optional<JSONValue>.none
                case "google.protobuf.Duration":
                    let seconds = Int64(truncatingIfNeeded: uint64()) % WellKnown.maxDurationSeconds
                    let nanos = Int32(next()) * 1_000_000 * (seconds < 0 ? -1 : 1)
                    value = WellKnown.formatDuration(seconds, seconds == 0 ? abs(nanos) : nanos).map(JSONValue.string)
                case "google.protobuf.Timestamp":
                    let span = UInt64(WellKnown.timestampSeconds.upperBound - WellKnown.timestampSeconds.lowerBound)
                    let seconds = WellKnown.timestampSeconds.lowerBound + Int64(uint64() % span)
                    value = WellKnown.formatTimestamp(seconds, Int32(next()) * 1_000).map(JSONValue.string)
                default: value = nil
                }
            case .enumeration: value = ["KIND_UNSPECIFIED", "ONE", "NEGATIVE"][Int(next() % 3)]
            case .int64, .sint64, .sfixed64: value = .string(String(Int64(truncatingIfNeeded: uint64())))
            case .uint64, .fixed64: value = .string(String(uint64()))
            case .int32, .sint32, .sfixed32: value = .integer(Int(Int32(truncatingIfNeeded: uint64())))
            case .uint32, .fixed32: value = .integer(Int(UInt32(truncatingIfNeeded: uint64())))
            case .bool: value = .bool(next() & 1 == 1)
            case .string: value = .string(string())
            case .bytes: value = .string(Data((0..<Int(next() % 6)).map { _ in next() }).base64EncodedString())
            case .double: value = .number(Double(Int16(truncatingIfNeeded: uint64())) / 4)
            case .float: value = .number(Double(Int8(truncatingIfNeeded: next())) / 2)
            case .group: value = nil
            }
            guard let value else { continue }
            if field.repeated, field.typeName.isEmpty {
                members[field.jsonName] = .array([value, value])
            } else if !field.repeated {
                members[field.jsonName] = value
            }
        }
        return .object(members)
    }
}
