import ReshaprJSON
import SwiftProtobuf
import Testing

@testable import ReshaprProtobuf

@Suite struct TranscoderTests {
    /// `message Sample` with one field of each scalar kind, a repeated int32 and a nested message.
    static func pool() throws -> DescriptorPool {
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
        var sample = Google_Protobuf_DescriptorProto()
        sample.name = "Sample"
        sample.field = [
            field("small", 1, .int32), field("big", 2, .int64), field("zig", 3, .sint32), field("zag", 4, .sint64), field("fixed", 5, .fixed32),
            field("ratio", 6, .float), field("flag", 7, .bool), field("label", 8, .string), field("blob", 9, .bytes),
            field("numbers", 10, .int32, repeated: true), field("child", 11, .message, typeName: ".test.Child"), field("kind", 12, .enum, typeName: ".test.Kind"),
            field("unsigned_big", 13, .uint64),
        ]
        var child = Google_Protobuf_DescriptorProto()
        child.name = "Child"
        child.field = [field("name", 1, .string)]
        var kind = Google_Protobuf_EnumDescriptorProto()
        kind.name = "Kind"
        kind.value = [("KIND_UNSPECIFIED", 0), ("ONE", 1)].map { name, number in
            var value = Google_Protobuf_EnumValueDescriptorProto()
            value.name = name
            value.number = Int32(number)
            return value
        }
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "test.proto"
        file.package = "test"
        file.syntax = "proto3"
        file.messageType = [sample, child]
        file.enumType = [kind]
        var set = Google_Protobuf_FileDescriptorSet()
        set.file = [file]
        return try DescriptorPool(descriptorSet: Array(try set.serializedBytes() as [UInt8]))
    }

    @Test func roundTripsEveryScalarKind() throws {
        let transcoder = Transcoder(pool: try Self.pool())
        let input: JSONValue = [
            "small": -5, "big": "-9007199254740993", "zig": -3, "zag": "-4", "fixed": 4_000_000_000, "ratio": 0.5, "flag": true, "label": "héllo",
            "blob": "AAEC", "numbers": [1, -1, 300], "child": ["name": "c"], "kind": "ONE", "unsignedBig": "18446744073709551615",
        ]
        let bytes = try transcoder.encode(input, as: "test.Sample")
        #expect(try transcoder.decode(bytes, as: "test.Sample") == input)
    }

    @Test func matchesTheReferenceEncoding() throws {
        let transcoder = Transcoder(pool: try Self.pool())
        // small = 150 -> 08 96 01 (the protobuf documentation's example); zig = -1 -> 18 01.
        #expect(try transcoder.encode(["small": 150, "zig": -1], as: "test.Sample") == [0x08, 0x96, 0x01, 0x18, 0x01])
        // Negative int32 takes ten bytes, sign-extended.
        #expect(try transcoder.encode(["small": -1], as: "test.Sample") == [0x08] + Array(repeating: 0xFF, count: 9) + [0x01])
        // Repeated scalars are packed.
        #expect(try transcoder.encode(["numbers": [1, 2]], as: "test.Sample") == [0x52, 0x02, 0x01, 0x02])
    }

    @Test func decodesUnpackedRepeatedAndSkipsUnknownFields() throws {
        let transcoder = Transcoder(pool: try Self.pool())
        // numbers (10) unpacked twice, then unknown field 99 (varint), then label.
        let bytes: [UInt8] = [0x50, 0x07, 0x50, 0x08, 0x98, 0x06, 0x2A, 0x42, 0x01, 0x78]
        #expect(try transcoder.decode(bytes, as: "test.Sample") == ["numbers": [7, 8], "label": "x"])
    }

    @Test func badValuesAndBadBytesNameTheField() throws {
        let transcoder = Transcoder(pool: try Self.pool())
        #expect(throws: TranscodingError.self) { try transcoder.encode(["nope": 1], as: "test.Sample") }
        do {
            _ = try transcoder.encode(["child": ["name": 5]], as: "test.Sample")
            Issue.record("encoded")
        } catch {
            #expect(error.description == "child.name: expected a string")
        }
        do {
            _ = try transcoder.encode(["small": 3_000_000_000], as: "test.Sample")
            Issue.record("encoded")
        } catch {
            #expect(error.description.hasPrefix("small: expected an integer in -2147483648...2147483647"))
        }
        do {
            _ = try transcoder.encode(["kind": "TWO"], as: "test.Sample")
            Issue.record("encoded")
        } catch {
            #expect(error.description == "kind: TWO is not a value of test.Kind (KIND_UNSPECIFIED, ONE)")
        }
        #expect(throws: TranscodingError.self) { try transcoder.decode([0x42, 0x05, 0x61], as: "test.Sample") }
        #expect(throws: TranscodingError.self) { try transcoder.decode([0x08, 0xFF], as: "test.Sample") }
    }

    @Test func notADescriptorSetIsNamed() {
        #expect(throws: DescriptorError.self) { try DescriptorPool(descriptorSet: Array("hello".utf8)) }
        #expect(throws: DescriptorError.self) { try DescriptorPool(descriptorSet: []) }
    }
}
