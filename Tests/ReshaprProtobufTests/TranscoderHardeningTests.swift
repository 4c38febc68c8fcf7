import ReshaprJSON
import SwiftProtobuf
import Testing

@testable import ReshaprProtobuf

/// Hostile values on both sides of the transcoder: tool arguments out of range and backend
/// answers built to exhaust the stack. Each case once trapped (or could have) the gateway.
@Suite struct TranscoderHardeningTests {
    static let outOfRange: [(field: String, value: JSONValue)] = [
        ("big", .number(9_223_372_036_854_775_808)),  // 2^63: Int64(Double) trapped here
        ("big", .number(-9.3e18)),
        ("big", .number(1e300)),
        ("big", "9223372036854775808"),
        ("big", .number(1.5)),
        ("small", .integer(2_147_483_648)),
        ("small", .integer(-2_147_483_649)),
        ("fixed", .integer(4_294_967_296)),
        ("fixed", .integer(-1)),
        ("unsignedBig", .integer(-1)),
        ("unsignedBig", .number(1.9e19)),
        ("unsignedBig", "18446744073709551616"),
        ("kind", .integer(1 << 40)),
    ]

    @Test(arguments: outOfRange)
    func integersOutOfRangeAreToolErrorsNamingTheField(field: String, value: JSONValue) throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        let error = #expect(throws: TranscodingError.self) { try transcoder.encode([field: value], as: "test.Sample") }
        #expect(error?.path == field)
    }

    @Test func integerBoundsAreAccepted() throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        let input: JSONValue = ["big": "9223372036854775807", "small": -2_147_483_648, "fixed": 4_294_967_295, "unsignedBig": "18446744073709551615"]
        #expect(try transcoder.decode(try transcoder.encode(input, as: "test.Sample"), as: "test.Sample") == input)
        // -2^63 is exact as a double.
        #expect(try transcoder.decode(try transcoder.encode(["big": .number(-9_223_372_036_854_775_808)], as: "test.Sample"), as: "test.Sample") == ["big": "-9223372036854775808"])
    }

    @Test(arguments: ["99999999999999999999s", "315576000001s", "315576000000.5s", "1.1234567891s", "s", "-s", "1.s", ".5s", "1e3s", "NaNs", "infs", "+1s", "1", "--1s"])
    func malformedOrHugeDurationsAreRefused(text: String) throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        #expect(throws: TranscodingError.self) { try transcoder.encode(.string(text), as: "google.protobuf.Duration") }
    }

    @Test(arguments: [("1.5s", "1.500s"), ("-0.000000001s", "-0.000000001s"), ("315576000000s", "315576000000s"), ("0s", "0s"), ("-2.25s", "-2.250s"), ("3.000001s", "3.000001s")])
    func durationsRoundTripExactly(text: String, canonical: String) throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        let bytes = try transcoder.encode(.string(text), as: "google.protobuf.Duration")
        #expect(try transcoder.decode(bytes, as: "google.protobuf.Duration") == .string(canonical))
    }

    @Test func durationsAndTimestampsOutOfRangeInAnswersAreErrors() throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        func secondsAndNanos(_ seconds: Int64, _ nanos: Int32) -> [UInt8] {
            var bytes: [UInt8] = []
            WellKnown.secondsAndNanos(seconds, nanos, into: &bytes)
            return bytes
        }
        for bytes in [secondsAndNanos(.max, 0), secondsAndNanos(.min, 0), secondsAndNanos(1, -1), secondsAndNanos(0, 1_000_000_000)] {
            #expect(throws: TranscodingError.self) { try transcoder.decode(bytes, as: "google.protobuf.Duration") }
        }
        for bytes in [secondsAndNanos(.max, 0), secondsAndNanos(.min, 0), secondsAndNanos(0, -1), secondsAndNanos(253_402_300_800, 0)] {
            #expect(throws: TranscodingError.self) { try transcoder.decode(bytes, as: "google.protobuf.Timestamp") }
        }
        #expect(try transcoder.decode(secondsAndNanos(253_402_300_799, 0), as: "google.protobuf.Timestamp") == "9999-12-31T23:59:59Z")
    }

    /// `Value { list_value { values { list_value { ... } } } }`, `levels` deep, built inside out.
    static func nestedValue(levels: Int) -> [UInt8] {
        var bytes: [UInt8] = [0x08, 0x00]  // Value { null_value: NULL_VALUE }
        for _ in 0..<levels {
            var list: [UInt8] = []
            Wire.lengthDelimited(1, bytes, into: &list)  // ListValue { values = 1 }
            bytes = []
            Wire.lengthDelimited(6, list, into: &bytes)  // Value { list_value = 6 }
        }
        return bytes
    }

    @Test func deeplyNestedAnswersAreRefusedNotRecursedInto() throws {
        let transcoder = Transcoder(pool: try TranscoderTests.pool())
        #expect(try transcoder.decode(Self.nestedValue(levels: 40), as: "google.protobuf.Value") != .null)
        let error = #expect(throws: TranscodingError.self) { try transcoder.decode(Self.nestedValue(levels: 5_000), as: "google.protobuf.Value") }
        #expect(error?.message.contains("deeper than 100 levels") == true)
    }

    @Test func aRecursiveMessageTypeCannotNestWithoutBound() throws {
        var next = Google_Protobuf_FieldDescriptorProto()
        next.name = "next"
        next.number = 1
        next.type = .message
        next.typeName = ".test.Node"
        var node = Google_Protobuf_DescriptorProto()
        node.name = "Node"
        node.field = [next]
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "node.proto"
        file.package = "test"
        file.messageType = [node]
        var set = Google_Protobuf_FileDescriptorSet()
        set.file = [file]
        let transcoder = Transcoder(pool: try DescriptorPool(descriptorSet: try set.serializedBytes()))
        var bytes: [UInt8] = []
        for _ in 0..<2_000 {
            var outer: [UInt8] = []
            Wire.lengthDelimited(1, bytes, into: &outer)
            bytes = outer
        }
        #expect(throws: TranscodingError.self) { try transcoder.decode(bytes, as: "test.Node") }
    }

    @Test(arguments: [Int32(0), -1, 536_870_912])
    func descriptorSetsWithInvalidFieldNumbersAreRefused(number: Int32) throws {
        var field = Google_Protobuf_FieldDescriptorProto()
        field.name = "bad"
        field.number = number
        field.type = .int32
        var message = Google_Protobuf_DescriptorProto()
        message.name = "Bad"
        message.field = [field]
        var file = Google_Protobuf_FileDescriptorProto()
        file.name = "bad.proto"
        file.messageType = [message]
        var set = Google_Protobuf_FileDescriptorSet()
        set.file = [file]
        let error = #expect(throws: DescriptorError.self) { try DescriptorPool(descriptorSet: try set.serializedBytes()) }
        #expect(error?.description.contains("Bad.bad has field number \(number)") == true)
    }
}
