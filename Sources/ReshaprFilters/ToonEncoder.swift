import ReshaprJSON

/// Encodes JSON values as TOON (Token-Oriented Object Notation, specification v4.0): objects by
/// indentation, uniform arrays of objects (and objects of uniform objects) as tables, primitive
/// arrays inline. Object members keep their order.
///
/// Numbers: integers as they are; doubles in plain decimal between 1e-6 and 1e21 (with the
/// fewest digits that read back to the same double), exponent form (`1e-7`, `1e+21`) outside.
/// NaN and infinities, which JSON cannot carry, are `null`. Recursion follows the document's
/// depth: see ``maxDepth``.
public struct ToonEncoder: Sendable {
    public enum Delimiter: String, Sendable {
        case comma = ","
        case tab = "\t"
        case pipe = "|"
    }

    public var delimiter: Delimiter
    public var indentSize: Int

    /// The deepest document to encode: the encoder recurses with the document, so callers give
    /// deeper ones (``JSONValue/depth(exceeds:)``) another form, such as JSON text.
    public static let maxDepth = 128

    public init(delimiter: Delimiter = .comma, indentSize: Int = 2) {
        self.delimiter = delimiter
        self.indentSize = max(1, indentSize)
    }

    public func encode(_ value: JSONValue) -> String {
        var lines: [String] = []
        switch value {
        case .object(let members):
            if let fields = Self.keyedFields(members) {
                appendKeyed(key: nil, members, fields: fields, depth: 0, prefix: "", to: &lines)
            } else {
                appendObject(members, depth: 0, to: &lines)
            }
        case .array(let elements):
            appendArray(key: nil, elements, depth: 0, prefix: "", to: &lines)
        default:
            lines.append(primitive(value))
        }
        return lines.joined(separator: "\n")
    }

    // MARK: Structure

    /// A column of a table: a primitive leaf, or a nested group of uniform objects (§9.3).
    indirect enum Field {
        case leaf(String)
        case group(String, [Field])

        var name: String {
            switch self {
            case .leaf(let name), .group(let name, _): return name
            }
        }
    }

    func indent(_ depth: Int) -> String { String(repeating: " ", count: depth * indentSize) }

    func appendObject(_ members: JSONObject, depth: Int, to lines: inout [String]) {
        for (key, value) in members { appendField(key, value, depth: depth, prefix: indent(depth), to: &lines) }
    }

    /// One `key: …` member. `prefix` starts its first line (the indentation, or a list item's `- `).
    func appendField(_ key: String, _ value: JSONValue, depth: Int, prefix: String, to lines: inout [String]) {
        let name = Self.key(key)
        switch value {
        case .object(let members):
            if members.isEmpty {
                lines.append(prefix + name + ":")
            } else if let fields = Self.keyedFields(members) {
                appendKeyed(key: name, members, fields: fields, depth: depth, prefix: prefix, to: &lines)
            } else {
                lines.append(prefix + name + ":")
                appendObject(members, depth: depth + 1, to: &lines)
            }
        case .array(let elements):
            appendArray(key: name, elements, depth: depth, prefix: prefix, to: &lines)
        default:
            lines.append(prefix + name + ": " + primitive(value))
        }
    }

    var delimiterMark: String { delimiter == .comma ? "" : delimiter.rawValue }

    func header(_ key: String?, count: Int, keyed: Bool = false, fields: [Field]? = nil) -> String {
        var text = (key ?? "") + "[\(count)" + (keyed ? ":" : "") + delimiterMark + "]"
        if let fields { text += "{" + fieldList(fields) + "}" }
        return text + ":"
    }

    func fieldList(_ fields: [Field]) -> String {
        fields.map { field in
            switch field {
            case .leaf(let name): return Self.key(name)
            case .group(let name, let sub): return Self.key(name) + "{" + fieldList(sub) + "}"
            }
        }.joined(separator: delimiter.rawValue)
    }

    func appendArray(key: String?, _ elements: [JSONValue], depth: Int, prefix: String, to lines: inout [String]) {
        if elements.isEmpty {
            lines.append(prefix + (key.map { $0 + ": []" } ?? "[]"))
            return
        }
        if elements.allSatisfy(\.isPrimitive) {
            lines.append(prefix + header(key, count: elements.count) + " " + row(elements))
            return
        }
        if let fields = Self.tableFields(elements) {
            lines.append(prefix + header(key, count: elements.count, fields: fields))
            for element in elements { lines.append(indent(depth + 1) + row(cells(element, fields))) }
            return
        }
        lines.append(prefix + header(key, count: elements.count))
        appendListItems(elements, depth: depth + 1, to: &lines)
    }

    /// Elements as `- …` list items at `depth` (§9.4, §10).
    func appendListItems(_ elements: [JSONValue], depth: Int, to lines: inout [String]) {
        let hyphen = indent(depth) + "- "
        for element in elements {
            switch element {
            case .object(let members):
                guard let (firstKey, firstValue) = members.elements.first else {
                    lines.append(indent(depth) + "-")
                    continue
                }
                // The first member sits on the hyphen line, one level deeper than the hyphen.
                appendField(firstKey, firstValue, depth: depth + 1, prefix: hyphen, to: &lines)
                for (key, value) in members.elements.dropFirst() { appendField(key, value, depth: depth + 1, prefix: indent(depth + 1), to: &lines) }
            case .array(let inner):
                if inner.allSatisfy(\.isPrimitive) {
                    lines.append(hyphen + header(nil, count: inner.count) + (inner.isEmpty ? "" : " " + row(inner)))
                } else {
                    // No table here: a keyless header with fields is valid only at the root.
                    lines.append(hyphen + header(nil, count: inner.count))
                    appendListItems(inner, depth: depth + 1, to: &lines)
                }
            default:
                lines.append(hyphen + primitive(element))
            }
        }
    }

    func appendKeyed(key: String?, _ members: JSONObject, fields: [Field], depth: Int, prefix: String, to lines: inout [String]) {
        lines.append(prefix + header(key, count: members.count, keyed: true, fields: fields))
        for (entry, value) in members { lines.append(indent(depth + 1) + Self.key(entry) + ": " + row(cells(value, fields))) }
    }

    func row(_ values: [JSONValue]) -> String {
        values.map { primitive($0) }.joined(separator: delimiter.rawValue)
    }

    /// The leaf values of a uniform object, depth first in field order.
    func cells(_ value: JSONValue, _ fields: [Field]) -> [JSONValue] {
        var out: [JSONValue] = []
        for field in fields {
            switch field {
            case .leaf(let name): out.append(value[name] ?? .null)
            case .group(let name, let sub): out.append(contentsOf: cells(value[name] ?? .emptyObject, sub))
            }
        }
        return out
    }

    // MARK: Uniformity (§9.3, §9.5)

    /// The fields of a table of `rows` when every one is a non-empty object with the same keys
    /// and every column is uniform; nil otherwise. Field order is the first row's.
    static func tableFields(_ rows: [JSONValue]) -> [Field]? {
        var objects: [JSONObject] = []
        objects.reserveCapacity(rows.count)
        for row in rows {
            guard case .object(let members) = row, !members.isEmpty else { return nil }
            objects.append(members)
        }
        return uniformFields(objects)
    }

    static func uniformFields(_ objects: [JSONObject]) -> [Field]? {
        guard let first = objects.first else { return nil }
        let keys = Set(first.keys)
        for object in objects.dropFirst() {
            guard object.count == first.count, object.keys.allSatisfy(keys.contains) else { return nil }
        }
        var fields: [Field] = []
        for key in first.keys {
            let column = objects.map { $0[key] ?? .null }
            if column.allSatisfy(\.isPrimitive) {
                fields.append(.leaf(key))
                continue
            }
            var nested: [JSONObject] = []
            for value in column {
                guard case .object(let members) = value, !members.isEmpty else { return nil }
                nested.append(members)
            }
            guard let sub = uniformFields(nested) else { return nil }
            fields.append(.group(key, sub))
        }
        return fields
    }

    /// The fields of an object in keyed tabular form: at least two entries, all uniform objects.
    static func keyedFields(_ members: JSONObject) -> [Field]? {
        guard members.count >= 2 else { return nil }
        return tableFields(Array(members.values))
    }

    // MARK: Primitives, strings and keys (§2, §7)

    func primitive(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .number(let number): return Self.number(number)
        case .string(let text): return Self.needsQuotes(text, delimiter: delimiter) ? Self.quoted(text) : text
        case .array, .object: return "null"
        }
    }

    /// A double in canonical form (§2).
    static func number(_ value: Double) -> String {
        guard value.isFinite else { return "null" }
        if value == 0 { return "0" }
        // Swift prints the shortest digits that read back to the same double; only the layout changes.
        let text = "\(value.magnitude)"
        var digits = ""
        var exponent = 0
        var pointSeen = false
        var digitsBeforePoint = 0
        var index = text.startIndex
        while index < text.endIndex {
            let character = text[index]
            if character == "e" || character == "E" {
                exponent = Int(text[text.index(after: index)...]) ?? 0
                break
            }
            if character == "." {
                pointSeen = true
            } else {
                digits.append(character)
                if !pointSeen { digitsBeforePoint += 1 }
            }
            index = text.index(after: index)
        }
        // value = 0.digits × 10^(digitsBeforePoint + exponent), once leading zeros are gone.
        var point = digitsBeforePoint + exponent
        while digits.first == "0" {
            digits.removeFirst()
            point -= 1
        }
        while digits.last == "0" { digits.removeLast() }
        guard !digits.isEmpty else { return "0" }
        let sign = value < 0 ? "-" : ""
        let magnitude = value.magnitude
        if magnitude >= 1e21 || magnitude < 1e-6 {
            let mantissa = digits.count > 1 ? String(digits.prefix(1)) + "." + digits.dropFirst() : digits
            let power = point - 1
            return sign + mantissa + "e" + (power < 0 ? "-" : "+") + String(power.magnitude)
        }
        if point <= 0 { return sign + "0." + String(repeating: "0", count: -point) + digits }
        if point >= digits.count { return sign + digits + String(repeating: "0", count: point - digits.count) }
        return sign + digits.prefix(point) + "." + digits.dropFirst(point)
    }

    static func key(_ key: String) -> String {
        var scalars = key.unicodeScalars.makeIterator()
        guard let first = scalars.next(), first == "_" || first.isASCIILetter else { return quoted(key) }
        while let scalar = scalars.next() {
            guard scalar == "_" || scalar == "." || scalar.isASCIILetter || ("0"..."9").contains(scalar) else { return quoted(key) }
        }
        return key
    }

    static func needsQuotes(_ text: String, delimiter: Delimiter) -> Bool {
        guard let first = text.unicodeScalars.first, let last = text.unicodeScalars.last else { return true }
        if first == " " || first == "\t" || last == " " || last == "\t" { return true }
        if text == "true" || text == "false" || text == "null" { return true }
        if first == "-" || first == "#" { return true }
        if looksNumeric(text) { return true }
        let delimiterScalar = delimiter.rawValue.unicodeScalars.first
        for scalar in text.unicodeScalars {
            switch scalar {
            case ":", "\"", "\\", "[", "]", "{", "}": return true
            default:
                if scalar.value < 0x20 || scalar == delimiterScalar { return true }
            }
        }
        return false
    }

    /// `/^[+-]?[0-9]+(?:\.[0-9]+)?(?:e[+-]?[0-9]+)?$/i`
    static func looksNumeric(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Bool {
            let count = bytes.prefix { $0 >= 0x30 && $0 <= 0x39 }.count
            bytes = bytes.dropFirst(count)
            return count > 0
        }
        if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        guard digits() else { return false }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() else { return false }
        }
        return bytes.isEmpty
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}

extension JSONValue {
    var isPrimitive: Bool {
        switch self {
        case .array, .object: return false
        default: return true
        }
    }
}

extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool { ("a"..."z").contains(self) || ("A"..."Z").contains(self) }
}

extension JSONValue {
    /// Whether the value nests deeper than `limit` levels (checked without recursion).
    public func depth(exceeds limit: Int) -> Bool {
        var stack: [(JSONValue, Int)] = [(self, 0)]
        while let (value, depth) = stack.popLast() {
            guard depth <= limit else { return true }
            switch value {
            case .array(let elements): for element in elements { stack.append((element, depth + 1)) }
            case .object(let members): for member in members.values { stack.append((member, depth + 1)) }
            default: break
            }
        }
        return false
    }
}
