import Foundation
import ReshaprJSON

/// A value that does not fit its protobuf field; `path` names the field (`pet.tags[2]`).
public struct TranscodingError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var message: String
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// Protobuf binary encoding and decoding driven by descriptors, with the proto3 JSON mapping:
/// int64 as strings, enums by name, bytes as base64, and the well-known types Timestamp,
/// Duration, Struct, Value, ListValue, FieldMask, Empty and the wrappers.
public struct Transcoder: Sendable {
    public let pool: DescriptorPool

    public init(pool: DescriptorPool) {
        self.pool = pool
    }

    // MARK: - JSON to binary

    public func encode(_ json: JSONValue, as typeName: String) throws(TranscodingError) -> [UInt8] {
        var out: [UInt8] = []
        try encodeMessage(json, typeName: typeName, path: "", into: &out)
        return out
    }

    func encodeMessage(_ json: JSONValue, typeName: String, path: String, into out: inout [UInt8]) throws(TranscodingError) {
        if try encodeWellKnown(json, typeName: typeName, path: path, into: &out) { return }
        guard let message = pool.messages[typeName] else { throw TranscodingError(path: path, message: "unknown message type \(typeName)") }
        guard case .object(let members) = json else { throw TranscodingError(path: path, message: "expected an object (\(typeName))") }
        for (key, value) in members.sorted(by: { $0.key < $1.key }) {
            let fieldPath = path.isEmpty ? key : "\(path).\(key)"
            guard let field = message.field(json: key) else {
                throw TranscodingError(path: fieldPath, message: "\(typeName) has no field \(key)")
            }
            if value == .null { continue }
            if field.repeated, let entry = pool.messages[field.typeName], entry.isMapEntry {
                guard case .object(let map) = value else { throw TranscodingError(path: fieldPath, message: "expected an object (map)") }
                guard let keyField = entry.field(number: 1), let valueField = entry.field(number: 2) else { continue }
                for (mapKey, mapValue) in map.sorted(by: { $0.key < $1.key }) {
                    var entryBytes: [UInt8] = []
                    try encodeField(keyField, try mapKeyValue(mapKey, keyField, path: fieldPath), path: "\(fieldPath).\(mapKey)", into: &entryBytes)
                    try encodeField(valueField, mapValue, path: "\(fieldPath).\(mapKey)", into: &entryBytes)
                    Wire.lengthDelimited(field.number, entryBytes, into: &out)
                }
            } else if field.repeated {
                guard case .array(let items) = value else { throw TranscodingError(path: fieldPath, message: "expected an array") }
                if Wire.isPackable(field.type) {
                    var packed: [UInt8] = []
                    for (index, item) in items.enumerated() {
                        try encodeScalar(field, item, path: "\(fieldPath)[\(index)]", into: &packed)
                    }
                    Wire.lengthDelimited(field.number, packed, into: &out)
                } else {
                    for (index, item) in items.enumerated() { try encodeField(field, item, path: "\(fieldPath)[\(index)]", into: &out) }
                }
            } else {
                try encodeField(field, value, path: fieldPath, into: &out)
            }
        }
    }

    /// JSON object keys are strings; a map key of another type is parsed from it.
    func mapKeyValue(_ key: String, _ field: ProtoField, path: String) throws(TranscodingError) -> JSONValue {
        switch field.type {
        case .string: return .string(key)
        case .bool:
            guard key == "true" || key == "false" else { throw TranscodingError(path: path, message: "map key \(key) is not a boolean") }
            return .bool(key == "true")
        default: return .string(key)
        }
    }

    func encodeField(_ field: ProtoField, _ value: JSONValue, path: String, into out: inout [UInt8]) throws(TranscodingError) {
        switch field.type {
        case .message, .group:
            var nested: [UInt8] = []
            try encodeMessage(value, typeName: field.typeName, path: path, into: &nested)
            Wire.lengthDelimited(field.number, nested, into: &out)
        case .string:
            guard case .string(let text) = value else { throw TranscodingError(path: path, message: "expected a string") }
            Wire.lengthDelimited(field.number, Array(text.utf8), into: &out)
        case .bytes:
            guard case .string(let text) = value, let data = Base64.decode(text, alphabet: .standardOrURL) else {
                throw TranscodingError(path: path, message: "expected base64 bytes")
            }
            Wire.lengthDelimited(field.number, data, into: &out)
        default:
            Wire.tag(field.number, Wire.wireType(field.type), into: &out)
            try encodeScalar(field, value, path: path, into: &out)
        }
    }

    /// Numbers, booleans and enums: the value alone, without tag.
    func encodeScalar(_ field: ProtoField, _ value: JSONValue, path: String, into out: inout [UInt8]) throws(TranscodingError) {
        switch field.type {
        case .double:
            Wire.fixed64(try number(value, path: path).bitPattern, into: &out)
        case .float:
            Wire.fixed32(Float(try number(value, path: path)).bitPattern, into: &out)
        case .int64, .sfixed64, .sint64:
            let signed = try integer(value, path: path, in: Int64.min...Int64.max)
            switch field.type {
            case .sint64: Wire.varint(UInt64(bitPattern: (signed << 1) ^ (signed >> 63)), into: &out)
            case .sfixed64: Wire.fixed64(UInt64(bitPattern: signed), into: &out)
            default: Wire.varint(UInt64(bitPattern: signed), into: &out)
            }
        case .uint64, .fixed64:
            let v = try unsigned(value, path: path)
            if field.type == .fixed64 { Wire.fixed64(v, into: &out) } else { Wire.varint(v, into: &out) }
        case .int32, .sfixed32, .sint32:
            let signed = Int32(truncatingIfNeeded: try integer(value, path: path, in: Int64(Int32.min)...Int64(Int32.max)))
            switch field.type {
            case .sint32: Wire.varint(UInt64(UInt32(bitPattern: (signed << 1) ^ (signed >> 31))), into: &out)
            case .sfixed32: Wire.fixed32(UInt32(bitPattern: signed), into: &out)
            default: Wire.varint(UInt64(bitPattern: Int64(signed)), into: &out)
            }
        case .uint32, .fixed32:
            let v = UInt32(truncatingIfNeeded: try integer(value, path: path, in: 0...Int64(UInt32.max)))
            if field.type == .fixed32 { Wire.fixed32(v, into: &out) } else { Wire.varint(UInt64(v), into: &out) }
        case .bool:
            guard case .bool(let flag) = value else { throw TranscodingError(path: path, message: "expected true or false") }
            Wire.varint(flag ? 1 : 0, into: &out)
        case .enumeration:
            Wire.varint(UInt64(bitPattern: Int64(try enumNumber(value, typeName: field.typeName, path: path))), into: &out)
        default:
            throw TranscodingError(path: path, message: "cannot be packed")
        }
    }

    func number(_ value: JSONValue, path: String) throws(TranscodingError) -> Double {
        switch value {
        case .integer(let i): return Double(i)
        case .number(let d): return d
        case .string("NaN"): return .nan
        case .string("Infinity"): return .infinity
        case .string("-Infinity"): return -.infinity
        case .string(let text): if let d = Double(text) { return d }
        default: break
        }
        throw TranscodingError(path: path, message: "expected a number")
    }

    /// An integer in `range`, from a JSON number or a decimal string (proto3 JSON writes 64-bit
    /// integers as strings). Conversions are exact: 2^63 as a number is out of range, not a trap.
    func integer(_ value: JSONValue, path: String, in range: ClosedRange<Int64>) throws(TranscodingError) -> Int64 {
        let parsed: Int64?
        switch value {
        case .integer(let i): parsed = Int64(exactly: i)
        case .number(let d): parsed = Int64(exactly: d)
        case .string(let text): parsed = Int64(text)
        default: parsed = nil
        }
        guard let parsed, range.contains(parsed) else {
            throw TranscodingError(path: path, message: "expected an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return parsed
    }

    func unsigned(_ value: JSONValue, path: String) throws(TranscodingError) -> UInt64 {
        let parsed: UInt64?
        switch value {
        case .integer(let i): parsed = UInt64(exactly: i)
        case .number(let d): parsed = UInt64(exactly: d)
        case .string(let text): parsed = UInt64(text)
        default: parsed = nil
        }
        guard let parsed else { throw TranscodingError(path: path, message: "expected an integer in 0...\(UInt64.max)") }
        return parsed
    }

    func enumNumber(_ value: JSONValue, typeName: String, path: String) throws(TranscodingError) -> Int {
        guard let enumeration = pool.enums[typeName] else { throw TranscodingError(path: path, message: "unknown enum \(typeName)") }
        switch value {
        case .string(let name):
            guard let number = enumeration.values.first(where: { $0.name == name })?.number else {
                throw TranscodingError(path: path, message: "\(name) is not a value of \(typeName) (\(enumeration.values.map(\.name).joined(separator: ", ")))")
            }
            return number
        case .integer(let number):
            guard Int32(exactly: number) != nil else { throw TranscodingError(path: path, message: "enum number \(number) is not a 32-bit integer") }
            return number
        default: throw TranscodingError(path: path, message: "expected an enum value name")
        }
    }

    // MARK: - Well-known types

    static let wrappers: [String: ProtoFieldType] = [
        "google.protobuf.DoubleValue": .double, "google.protobuf.FloatValue": .float, "google.protobuf.Int64Value": .int64,
        "google.protobuf.UInt64Value": .uint64, "google.protobuf.Int32Value": .int32, "google.protobuf.UInt32Value": .uint32,
        "google.protobuf.BoolValue": .bool, "google.protobuf.StringValue": .string, "google.protobuf.BytesValue": .bytes,
    ]

    /// Encodes the well-known types from their JSON forms; false for other types.
    func encodeWellKnown(_ json: JSONValue, typeName: String, path: String, into out: inout [UInt8]) throws(TranscodingError) -> Bool {
        if let wrapped = Self.wrappers[typeName] {
            try encodeField(ProtoField(name: "value", jsonName: "value", number: 1, type: wrapped, repeated: false, typeName: ""), json, path: path, into: &out)
            return true
        }
        switch typeName {
        case "google.protobuf.Timestamp":
            guard case .string(let text) = json, let (seconds, nanos) = WellKnown.parseTimestamp(text) else {
                throw TranscodingError(path: path, message: "expected an RFC 3339 timestamp such as 2026-01-31T12:00:00Z, in years 1 to 9999")
            }
            WellKnown.secondsAndNanos(seconds, nanos, into: &out)
        case "google.protobuf.Duration":
            guard case .string(let text) = json, let (seconds, nanos) = WellKnown.parseDuration(text) else {
                throw TranscodingError(path: path, message: "expected a duration such as 1.5s, within ±\(WellKnown.maxDurationSeconds)s")
            }
            WellKnown.secondsAndNanos(seconds, nanos, into: &out)
        case "google.protobuf.Empty":
            break
        case "google.protobuf.FieldMask":
            guard case .string(let text) = json else { throw TranscodingError(path: path, message: "expected a comma-separated field mask") }
            for item in text.split(separator: ",") {
                let snake = item.reduce(into: "") { result, character in
                    if character.isUppercase { result += "_" + character.lowercased() } else { result.append(character) }
                }
                Wire.lengthDelimited(1, Array(snake.utf8), into: &out)
            }
        case "google.protobuf.Struct":
            guard case .object(let members) = json else { throw TranscodingError(path: path, message: "expected an object") }
            for (key, value) in members.sorted(by: { $0.key < $1.key }) {
                var entry: [UInt8] = []
                Wire.lengthDelimited(1, Array(key.utf8), into: &entry)
                var encoded: [UInt8] = []
                _ = try encodeWellKnown(value, typeName: "google.protobuf.Value", path: "\(path).\(key)", into: &encoded)
                Wire.lengthDelimited(2, encoded, into: &entry)
                Wire.lengthDelimited(1, entry, into: &out)
            }
        case "google.protobuf.ListValue":
            guard case .array(let items) = json else { throw TranscodingError(path: path, message: "expected an array") }
            for (index, item) in items.enumerated() {
                var encoded: [UInt8] = []
                _ = try encodeWellKnown(item, typeName: "google.protobuf.Value", path: "\(path)[\(index)]", into: &encoded)
                Wire.lengthDelimited(1, encoded, into: &out)
            }
        case "google.protobuf.Value":
            switch json {
            case .null:
                Wire.tag(1, 0, into: &out)
                Wire.varint(0, into: &out)
            case .integer, .number:
                Wire.tag(2, 1, into: &out)
                Wire.fixed64(try number(json, path: path).bitPattern, into: &out)
            case .string(let text):
                Wire.lengthDelimited(3, Array(text.utf8), into: &out)
            case .bool(let flag):
                Wire.tag(4, 0, into: &out)
                Wire.varint(flag ? 1 : 0, into: &out)
            case .object, .array:
                var nested: [UInt8] = []
                let isObject: Bool
                if case .object = json { isObject = true } else { isObject = false }
                _ = try encodeWellKnown(json, typeName: isObject ? "google.protobuf.Struct" : "google.protobuf.ListValue", path: path, into: &nested)
                Wire.lengthDelimited(isObject ? 5 : 6, nested, into: &out)
            }
        case "google.protobuf.Any":
            throw TranscodingError(path: path, message: "google.protobuf.Any is not supported")
        default:
            return false
        }
        return true
    }

    // MARK: - Binary to JSON

    public func decode(_ bytes: [UInt8], as typeName: String) throws(TranscodingError) -> JSONValue {
        var reader = Wire.Reader(bytes: bytes[...])
        return try decodeMessage(&reader, typeName: typeName, path: "")
    }

    func decodeMessage(_ reader: inout Wire.Reader, typeName: String, path: String) throws(TranscodingError) -> JSONValue {
        if let wellKnown = try decodeWellKnown(&reader, typeName: typeName, path: path) { return wellKnown }
        guard let message = pool.messages[typeName] else { throw TranscodingError(path: path, message: "unknown message type \(typeName)") }
        var object: JSONObject = [:]
        var lists: [String: [JSONValue]] = [:]
        var maps: [String: JSONObject] = [:]
        while !reader.isAtEnd {
            let (number, wireType) = try reader.tag(path: path)
            guard let field = message.field(number: number) else {
                try reader.skip(wireType, path: path)
                continue
            }
            let fieldPath = path.isEmpty ? field.jsonName : "\(path).\(field.jsonName)"
            if field.repeated, let entry = pool.messages[field.typeName], entry.isMapEntry {
                var entryReader = try reader.nested(path: fieldPath)
                var key = ""
                var value: JSONValue = .null
                while !entryReader.isAtEnd {
                    let (entryNumber, entryWire) = try entryReader.tag(path: fieldPath)
                    guard let entryField = entry.field(number: entryNumber) else {
                        try entryReader.skip(entryWire, path: fieldPath)
                        continue
                    }
                    let decoded = try decodeValue(&entryReader, field: entryField, wireType: entryWire, path: fieldPath)
                    if entryNumber == 1 { key = decoded.stringValue ?? decoded.serialized() } else { value = decoded }
                }
                maps[field.jsonName, default: [:]][key] = value
            } else if field.repeated {
                if wireType == 2 && Wire.isPackable(field.type) {
                    var packed = try reader.nested(path: fieldPath)
                    while !packed.isAtEnd {
                        lists[field.jsonName, default: []].append(try decodeValue(&packed, field: field, wireType: Wire.wireType(field.type), path: fieldPath))
                    }
                } else {
                    lists[field.jsonName, default: []].append(try decodeValue(&reader, field: field, wireType: wireType, path: fieldPath))
                }
            } else {
                object[field.jsonName] = try decodeValue(&reader, field: field, wireType: wireType, path: fieldPath)
            }
        }
        for (key, items) in lists { object[key] = .array(items) }
        for (key, map) in maps { object[key] = .object(map) }
        return .object(object)
    }

    func decodeValue(_ reader: inout Wire.Reader, field: ProtoField, wireType: Int, path: String) throws(TranscodingError) -> JSONValue {
        switch field.type {
        case .message, .group:
            var nested = try reader.nested(path: path)
            return try decodeMessage(&nested, typeName: field.typeName, path: path)
        case .string:
            return .string(String(decoding: try reader.lengthDelimited(path: path), as: UTF8.self))
        case .bytes:
            return .string(Data(try reader.lengthDelimited(path: path)).base64EncodedString())
        case .double:
            return Self.json(Double(bitPattern: try reader.fixed64(path: path)))
        case .float:
            return Self.json(Double(Float(bitPattern: try reader.fixed32(path: path))))
        case .int64:
            return .string(String(Int64(bitPattern: try reader.varint(path: path))))
        case .uint64:
            return .string(String(try reader.varint(path: path)))
        case .sint64:
            let raw = try reader.varint(path: path)
            return .string(String(Int64(bitPattern: raw >> 1) ^ -Int64(bitPattern: raw & 1)))
        case .fixed64:
            return .string(String(try reader.fixed64(path: path)))
        case .sfixed64:
            return .string(String(Int64(bitPattern: try reader.fixed64(path: path))))
        case .int32:
            return .integer(Int(Int32(truncatingIfNeeded: Int64(bitPattern: try reader.varint(path: path)))))
        case .uint32:
            return .integer(Int(UInt32(truncatingIfNeeded: try reader.varint(path: path))))
        case .sint32:
            let raw = UInt32(truncatingIfNeeded: try reader.varint(path: path))
            return .integer(Int(Int32(bitPattern: raw >> 1) ^ -Int32(bitPattern: raw & 1)))
        case .fixed32:
            return .integer(Int(try reader.fixed32(path: path)))
        case .sfixed32:
            return .integer(Int(Int32(bitPattern: try reader.fixed32(path: path))))
        case .bool:
            return .bool(try reader.varint(path: path) != 0)
        case .enumeration:
            let number = Int(Int32(truncatingIfNeeded: Int64(bitPattern: try reader.varint(path: path))))
            if let name = pool.enums[field.typeName]?.values.first(where: { $0.number == number })?.name { return .string(name) }
            return .integer(number)
        }
    }

    static func json(_ value: Double) -> JSONValue {
        if value.isNaN { return "NaN" }
        if value.isInfinite { return value > 0 ? "Infinity" : "-Infinity" }
        return .number(value)
    }

    func decodeWellKnown(_ reader: inout Wire.Reader, typeName: String, path: String) throws(TranscodingError) -> JSONValue? {
        if let wrapped = Self.wrappers[typeName] {
            let field = ProtoField(name: "value", jsonName: "value", number: 1, type: wrapped, repeated: false, typeName: "")
            var value: JSONValue?
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                if number == 1 { value = try decodeValue(&reader, field: field, wireType: wireType, path: path) } else { try reader.skip(wireType, path: path) }
            }
            return value ?? Self.zero(of: wrapped)
        }
        switch typeName {
        case "google.protobuf.Timestamp", "google.protobuf.Duration":
            var seconds: Int64 = 0
            var nanos: Int32 = 0
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                switch number {
                case 1: seconds = Int64(bitPattern: try reader.varint(path: path))
                case 2: nanos = Int32(truncatingIfNeeded: Int64(bitPattern: try reader.varint(path: path)))
                default: try reader.skip(wireType, path: path)
                }
            }
            let isTimestamp = typeName.hasSuffix("Timestamp")
            guard let text = isTimestamp ? WellKnown.formatTimestamp(seconds, nanos) : WellKnown.formatDuration(seconds, nanos) else {
                throw TranscodingError(path: path, message: "\(isTimestamp ? "timestamp" : "duration") out of range in the response (seconds \(seconds), nanos \(nanos))")
            }
            return .string(text)
        case "google.protobuf.Empty":
            while !reader.isAtEnd { try reader.skip(try reader.tag(path: path).1, path: path) }
            return .object([:])
        case "google.protobuf.FieldMask":
            var paths: [String] = []
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                if number == 1 { paths.append(DescriptorPool.lowerCamel(String(decoding: try reader.lengthDelimited(path: path), as: UTF8.self))) } else {
                    try reader.skip(wireType, path: path)
                }
            }
            return .string(paths.joined(separator: ","))
        case "google.protobuf.Struct":
            var object: JSONObject = [:]
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                guard number == 1 else {
                    try reader.skip(wireType, path: path)
                    continue
                }
                var entry = try reader.nested(path: path)
                var key = ""
                var value: JSONValue = .null
                while !entry.isAtEnd {
                    let (entryNumber, entryWire) = try entry.tag(path: path)
                    if entryNumber == 1 {
                        key = String(decoding: try entry.lengthDelimited(path: path), as: UTF8.self)
                    } else if entryNumber == 2 {
                        var nested = try entry.nested(path: path)
                        value = try decodeWellKnown(&nested, typeName: "google.protobuf.Value", path: path) ?? .null
                    } else {
                        try entry.skip(entryWire, path: path)
                    }
                }
                object[key] = value
            }
            return .object(object)
        case "google.protobuf.ListValue":
            var items: [JSONValue] = []
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                guard number == 1 else {
                    try reader.skip(wireType, path: path)
                    continue
                }
                var nested = try reader.nested(path: path)
                items.append(try decodeWellKnown(&nested, typeName: "google.protobuf.Value", path: path) ?? .null)
            }
            return .array(items)
        case "google.protobuf.Value":
            var value: JSONValue = .null
            while !reader.isAtEnd {
                let (number, wireType) = try reader.tag(path: path)
                switch number {
                case 1: _ = try reader.varint(path: path)
                    value = .null
                case 2: value = Self.json(Double(bitPattern: try reader.fixed64(path: path)))
                case 3: value = .string(String(decoding: try reader.lengthDelimited(path: path), as: UTF8.self))
                case 4: value = .bool(try reader.varint(path: path) != 0)
                case 5, 6:
                    var nested = try reader.nested(path: path)
                    value = try decodeWellKnown(&nested, typeName: number == 5 ? "google.protobuf.Struct" : "google.protobuf.ListValue", path: path) ?? .null
                default: try reader.skip(wireType, path: path)
                }
            }
            return value
        default:
            return nil
        }
    }

    static func zero(of type: ProtoFieldType) -> JSONValue {
        switch type {
        case .bool: return false
        case .string, .bytes: return ""
        case .int64, .uint64: return "0"
        default: return 0
        }
    }
}

/// The protobuf wire format.
enum Wire {
    static func isPackable(_ type: ProtoFieldType) -> Bool {
        switch type {
        case .string, .bytes, .message, .group: return false
        default: return true
        }
    }

    static func wireType(_ type: ProtoFieldType) -> Int {
        switch type {
        case .double, .fixed64, .sfixed64: return 1
        case .float, .fixed32, .sfixed32: return 5
        case .string, .bytes, .message: return 2
        case .group: return 3
        default: return 0
        }
    }

    static func tag(_ number: Int, _ wireType: Int, into out: inout [UInt8]) {
        varint(UInt64(number << 3 | wireType), into: &out)
    }

    /// A length-delimited field (wire type 2): tag, length, bytes.
    static func lengthDelimited(_ number: Int, _ bytes: [UInt8], into out: inout [UInt8]) {
        tag(number, 2, into: &out)
        varint(UInt64(bytes.count), into: &out)
        out += bytes
    }

    static func varint(_ value: UInt64, into out: inout [UInt8]) {
        var v = value
        while v >= 0x80 {
            out.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        out.append(UInt8(v))
    }

    static func fixed64(_ value: UInt64, into out: inout [UInt8]) {
        for shift in stride(from: 0, to: 64, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    static func fixed32(_ value: UInt32, into out: inout [UInt8]) {
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: value >> UInt32(shift))) }
    }

    struct Reader {
        /// How deep messages may nest in an answer, as in protobuf's own parsers: a hostile
        /// backend cannot exhaust the stack with a few bytes per level.
        static let maxDepth = 100

        var bytes: ArraySlice<UInt8>
        /// The number of enclosing length-delimited values.
        var depth = 0

        var isAtEnd: Bool { bytes.isEmpty }

        /// A reader of the next length-delimited value, one level deeper.
        mutating func nested(path: String) throws(TranscodingError) -> Reader {
            guard depth < Self.maxDepth else {
                throw TranscodingError(path: path, message: "the response nests deeper than \(Self.maxDepth) levels")
            }
            return Reader(bytes: try lengthDelimited(path: path), depth: depth + 1)
        }

        mutating func varint(path: String) throws(TranscodingError) -> UInt64 {
            var result: UInt64 = 0
            var shift: UInt64 = 0
            while let byte = bytes.first {
                bytes.removeFirst()
                result |= UInt64(byte & 0x7f) << shift
                if byte < 0x80 { return result }
                shift += 7
                if shift >= 64 { break }
            }
            throw TranscodingError(path: path, message: "truncated or overlong varint in the response")
        }

        mutating func tag(path: String) throws(TranscodingError) -> (Int, Int) {
            let raw = try varint(path: path)
            guard raw >> 3 > 0 else { throw TranscodingError(path: path, message: "invalid field number 0 in the response") }
            return (Int(raw >> 3), Int(raw & 7))
        }

        mutating func fixed64(path: String) throws(TranscodingError) -> UInt64 {
            guard bytes.count >= 8 else { throw TranscodingError(path: path, message: "truncated response") }
            var value: UInt64 = 0
            for (i, byte) in bytes.prefix(8).enumerated() { value |= UInt64(byte) << UInt64(8 * i) }
            bytes.removeFirst(8)
            return value
        }

        mutating func fixed32(path: String) throws(TranscodingError) -> UInt32 {
            guard bytes.count >= 4 else { throw TranscodingError(path: path, message: "truncated response") }
            var value: UInt32 = 0
            for (i, byte) in bytes.prefix(4).enumerated() { value |= UInt32(byte) << UInt32(8 * i) }
            bytes.removeFirst(4)
            return value
        }

        mutating func lengthDelimited(path: String) throws(TranscodingError) -> ArraySlice<UInt8> {
            let length = try varint(path: path)
            guard length <= UInt64(bytes.count) else { throw TranscodingError(path: path, message: "truncated response") }
            let slice = bytes.prefix(Int(length))
            bytes.removeFirst(Int(length))
            return slice
        }

        mutating func skip(_ wireType: Int, path: String) throws(TranscodingError) {
            switch wireType {
            case 0: _ = try varint(path: path)
            case 1: _ = try fixed64(path: path)
            case 2: _ = try lengthDelimited(path: path)
            case 5: _ = try fixed32(path: path)
            default: throw TranscodingError(path: path, message: "unsupported wire type \(wireType) in the response")
            }
        }
    }
}
