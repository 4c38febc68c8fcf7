/// Base64 decoding (RFC 4648) for inline binary artifacts, JWT parts and protobuf `bytes` in JSON.
public enum Base64 {
    public enum Alphabet: Sendable {
        /// `+` and `/`.
        case standard
        /// Also `-` and `_` (base64url), as JWTs and the proto3 JSON mapping use.
        case standardOrURL
    }

    /// The decoded bytes, or nil when `text` is not base64. Padding is optional.
    public static func decode(_ text: String, alphabet: Alphabet = .standard, ignoringWhitespace: Bool = false) -> [UInt8]? {
        var output: [UInt8] = []
        output.reserveCapacity(text.utf8.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        var digits = 0
        var padding = 0
        for c in text.utf8 {
            let value: UInt32
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): value = UInt32(c - UInt8(ascii: "A"))
            case UInt8(ascii: "a")...UInt8(ascii: "z"): value = UInt32(c - UInt8(ascii: "a") + 26)
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = UInt32(c - UInt8(ascii: "0") + 52)
            case UInt8(ascii: "+"): value = 62
            case UInt8(ascii: "/"): value = 63
            case UInt8(ascii: "-") where alphabet == .standardOrURL: value = 62
            case UInt8(ascii: "_") where alphabet == .standardOrURL: value = 63
            case UInt8(ascii: "="):
                padding += 1
                continue
            case 0x20, 0x09, 0x0A, 0x0D:
                guard ignoringWhitespace else { return nil }
                continue
            default: return nil
            }
            guard padding == 0 else { return nil }
            accumulator = accumulator << 6 | value
            bits += 6
            digits += 1
            if bits >= 8 {
                bits -= 8
                output.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
            }
        }
        // One digit past a group of four carries less than a byte: not base64.
        return padding <= 2 && digits % 4 != 1 ? output : nil
    }
}
