import Foundation
import SwiftProtobuf

/// Protobuf field types, with the numbers `FieldDescriptorProto.Type` gives them.
public enum ProtoFieldType: Int, Sendable, Hashable {
    case double = 1, float, int64, uint64, int32, fixed64, fixed32, bool, string, group, message, bytes, uint32, enumeration, sfixed32, sfixed64, sint32, sint64
}

public struct ProtoField: Sendable, Hashable {
    public var name: String
    public var jsonName: String
    public var number: Int
    public var type: ProtoFieldType
    public var repeated: Bool
    /// Message or enum type, fully qualified without the leading dot.
    public var typeName: String
}

public struct ProtoMessage: Sendable, Hashable {
    public var fullName: String
    public var fields: [ProtoField]
    public var isMapEntry: Bool

    func field(json key: String) -> ProtoField? {
        fields.first { $0.jsonName == key } ?? fields.first { $0.name == key }
    }

    func field(number: Int) -> ProtoField? {
        fields.first { $0.number == number }
    }
}

public struct ProtoEnum: Sendable, Hashable {
    public var fullName: String
    public var values: [(name: String, number: Int)]

    public static func == (lhs: ProtoEnum, rhs: ProtoEnum) -> Bool {
        lhs.fullName == rhs.fullName && lhs.values.map(\.name) == rhs.values.map(\.name) && lhs.values.map(\.number) == rhs.values.map(\.number)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(fullName)
    }
}

public struct ProtoMethod: Sendable, Hashable {
    /// `package.Service`.
    public var service: String
    public var name: String
    public var inputType: String
    public var outputType: String
    public var clientStreaming: Bool
    public var serverStreaming: Bool
    public var comment: String?
}

/// Why a descriptor set cannot be used.
public struct DescriptorError: Error, Sendable, CustomStringConvertible {
    public var description: String
}

/// The messages, enums and services of a `FileDescriptorSet` (as written by
/// `protoc --include_imports --descriptor_set_out`), by fully qualified name.
public struct DescriptorPool: Sendable {
    public private(set) var messages: [String: ProtoMessage] = [:]
    public private(set) var enums: [String: ProtoEnum] = [:]
    public private(set) var methods: [ProtoMethod] = []

    public init(descriptorSet bytes: [UInt8]) throws(DescriptorError) {
        let set: Google_Protobuf_FileDescriptorSet
        do {
            set = try Google_Protobuf_FileDescriptorSet(serializedBytes: bytes)
        } catch {
            throw DescriptorError(description: "not a protobuf FileDescriptorSet (\(error)); write one with protoc --include_imports --descriptor_set_out")
        }
        guard !set.file.isEmpty else { throw DescriptorError(description: "the descriptor set holds no files") }
        for file in set.file {
            let prefix = file.package.isEmpty ? "" : file.package + "."
            for message in file.messageType { try add(message, prefix: prefix) }
            for enumeration in file.enumType { add(enumeration, prefix: prefix) }
            var comments: [String: String] = [:]
            for location in file.sourceCodeInfo.location where location.path.count == 4 && location.path[0] == 6 && location.path[2] == 2 {
                let text = location.leadingComments.trimmingCharacters(in: .whitespacesAndNewlines)
                if !text.isEmpty { comments["\(location.path[1])/\(location.path[3])"] = text }
            }
            for (serviceIndex, service) in file.service.enumerated() {
                for (methodIndex, method) in service.method.enumerated() {
                    methods.append(
                        ProtoMethod(
                            service: prefix + service.name, name: method.name, inputType: Self.strip(method.inputType), outputType: Self.strip(method.outputType),
                            clientStreaming: method.clientStreaming, serverStreaming: method.serverStreaming,
                            comment: comments["\(serviceIndex)/\(methodIndex)"]))
                }
            }
        }
        for method in methods {
            for type in [method.inputType, method.outputType] where messages[type] == nil {
                throw DescriptorError(description: "\(method.service)/\(method.name) uses \(type), which the set does not define (use protoc --include_imports)")
            }
        }
    }

    static func strip(_ typeName: String) -> String {
        typeName.hasPrefix(".") ? String(typeName.dropFirst()) : typeName
    }

    /// Field numbers protobuf allows: 1 to 2^29 - 1.
    static let fieldNumbers: ClosedRange<Int32> = 1...536_870_911

    private mutating func add(_ message: Google_Protobuf_DescriptorProto, prefix: String) throws(DescriptorError) {
        let fullName = prefix + message.name
        for field in message.field where !Self.fieldNumbers.contains(field.number) {
            throw DescriptorError(description: "\(fullName).\(field.name) has field number \(field.number), outside \(Self.fieldNumbers)")
        }
        messages[fullName] = ProtoMessage(
            fullName: fullName,
            fields: message.field.map { field in
                ProtoField(
                    name: field.name, jsonName: field.hasJsonName ? field.jsonName : Self.lowerCamel(field.name), number: Int(field.number),
                    type: ProtoFieldType(rawValue: field.type.rawValue) ?? .bytes, repeated: field.label == .repeated, typeName: Self.strip(field.typeName))
            },
            isMapEntry: message.options.mapEntry)
        for nested in message.nestedType { try add(nested, prefix: fullName + ".") }
        for enumeration in message.enumType { add(enumeration, prefix: fullName + ".") }
    }

    private mutating func add(_ enumeration: Google_Protobuf_EnumDescriptorProto, prefix: String) {
        let fullName = prefix + enumeration.name
        enums[fullName] = ProtoEnum(fullName: fullName, values: enumeration.value.map { ($0.name, Int($0.number)) })
    }

    /// protoc's default JSON name: `user_id` -> `userId`.
    static func lowerCamel(_ name: String) -> String {
        var result = ""
        var upper = false
        for character in name {
            if character == "_" {
                upper = true
            } else {
                result.append(upper ? Character(character.uppercased()) : character)
                upper = false
            }
        }
        return result
    }
}
