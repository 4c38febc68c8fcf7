import ReshaprJSON
import ReshaprProtobuf
import SwiftProtobuf

extension FuzzTarget {
    /// `fuzz.Sample`: a field of each scalar kind, repeated and map fields, a recursive field,
    /// an enum and the well-known types.
    static let samplePool: DescriptorPool? = {
        func field(_ name: String, _ number: Int32, _ type: Google_Protobuf_FieldDescriptorProto.TypeEnum, repeated: Bool = false, typeName: String = "")
            -> Google_Protobuf_FieldDescriptorProto
        {
            var field = Google_Protobuf_FieldDescriptorProto()
            field.name = name
            field.number = number
            field.type = type
            field.label = repeated ? .repeated : .optional
            if !typeName.isEmpty { field.typeName = typeName }
            return field
        }
        let scalars: [(String, Google_Protobuf_FieldDescriptorProto.TypeEnum)] = [
            ("f_double", .double), ("f_float", .float), ("f_int64", .int64), ("f_uint64", .uint64), ("f_int32", .int32), ("f_fixed64", .fixed64),
            ("f_fixed32", .fixed32), ("f_bool", .bool), ("f_string", .string), ("f_bytes", .bytes), ("f_uint32", .uint32), ("f_sfixed32", .sfixed32),
            ("f_sfixed64", .sfixed64), ("f_sint32", .sint32), ("f_sint64", .sint64),
        ]
        var sample = Google_Protobuf_DescriptorProto()
        sample.name = "Sample"
        for (index, (name, type)) in scalars.enumerated() {
            sample.field.append(field(name, Int32(index + 1), type))
            sample.field.append(field("r_" + name.dropFirst(2), Int32(index + 20), type, repeated: true))
        }
        let wellKnown = ["Timestamp", "Duration", "Struct", "Value", "ListValue", "FieldMask", "Empty", "Int64Value", "BytesValue"]
        for (index, name) in wellKnown.enumerated() {
            sample.field.append(field("w_" + name.lowercased(), Int32(index + 40), .message, typeName: ".google.protobuf." + name))
        }
        sample.field.append(field("child", 60, .message, typeName: ".fuzz.Sample"))
        sample.field.append(field("children", 61, .message, repeated: true, typeName: ".fuzz.Sample"))
        sample.field.append(field("kind", 62, .enum, typeName: ".fuzz.Kind"))
        sample.field.append(field("labels", 63, .message, repeated: true, typeName: ".fuzz.Sample.LabelsEntry"))
        var entry = Google_Protobuf_DescriptorProto()
        entry.name = "LabelsEntry"
        entry.field = [field("key", 1, .string), field("value", 2, .int64)]
        entry.options.mapEntry = true
        sample.nestedType = [entry]
        var kind = Google_Protobuf_EnumDescriptorProto()
        kind.name = "Kind"
        kind.value = [("KIND_UNSPECIFIED", 0), ("ONE", 1), ("NEGATIVE", -1)].map { name, number in
            var value = Google_Protobuf_EnumValueDescriptorProto()
            value.name = name
            value.number = Int32(number)
            return value
        }
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "fuzz.proto"
        file.package = "fuzz"
        file.syntax = "proto3"
        file.messageType = [sample]
        file.enumType = [kind]
        var set = Google_Protobuf_FileDescriptorSet()
        set.file = [file]
        guard let bytes: [UInt8] = try? set.serializedBytes() else { return nil }
        return try? DescriptorPool(descriptorSet: bytes)
    }()

    /// The first byte picks the direction and the type; the rest is protobuf binary to decode,
    /// or JSON to encode. What encodes must decode, and re-encode to the same bytes.
    static func fuzzTranscoder(_ bytes: [UInt8]) {
        guard let pool = samplePool, let mode = bytes.first else { return }
        let transcoder = Transcoder(pool: pool)
        let types = ["fuzz.Sample", "google.protobuf.Value", "google.protobuf.Struct", "google.protobuf.Duration", "google.protobuf.Timestamp"]
        let type = types[Int(mode >> 1) % types.count]
        let rest = Array(bytes.dropFirst())
        let json: JSONValue
        if mode & 1 == 0 {
            guard let decoded = try? transcoder.decode(rest, as: type) else { return }
            json = decoded
        } else {
            guard let parsed = try? JSONParser.parse(rest) else { return }
            json = parsed
        }
        guard let encoded = try? transcoder.encode(json, as: type) else { return }
        guard let decoded = try? transcoder.decode(encoded, as: type) else {
            fatalError("the transcoder cannot decode what it encoded from \(json.serialized())")
        }
        guard let again = try? transcoder.encode(decoded, as: type), again == encoded else {
            fatalError("transcoding \(json.serialized()) is not stable: \(decoded.serialized())")
        }
    }
}
