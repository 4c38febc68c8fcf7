import Crypto
import CryptoExtras
import Foundation

/// Time-sorted identifiers such as `0P58T3XKK1MEQ`: 42 bits of milliseconds since 2020-01-01
/// and 22 random bits, written as 13 Crockford base32 characters. Sortable by creation time,
/// short enough to type, unguessable enough for catalogue identifiers (not for secrets).
public enum Identifier {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")
    static let epoch: Double = 1_577_836_800_000

    public static func make(now: Date = Date()) -> String {
        let millis = UInt64(max(0, now.timeIntervalSince1970 * 1000 - epoch))
        var generator = SystemRandomNumberGenerator()
        let random: UInt64 = generator.next()
        let value = (millis & 0x3FF_FFFF_FFFF) << 22 | (random & 0x3F_FFFF)
        return encode(value)
    }

    static func encode(_ value: UInt64) -> String {
        var characters = [Character](repeating: "0", count: 13)
        var rest = value
        for i in stride(from: 12, through: 0, by: -1) {
            characters[i] = alphabet[Int(rest & 0x1F)]
            rest >>= 5
        }
        return String(characters)
    }

    /// Whether `text` has the shape of an identifier (used to reject garbage early).
    public static func isValid(_ text: String) -> Bool {
        text.count == 13 && text.allSatisfy { alphabet.contains($0) }
    }
}

/// Secrets: random values and their hashes.
public enum Secrets {
    /// `count` random bytes from the system's secure generator, as lowercase hex.
    public static func randomHex(bytes count: Int) -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<count).map { _ in
            let byte = UInt8.random(in: 0...255, using: &generator)
            return String(byte >> 4, radix: 16) + String(byte & 0x0F, radix: 16)
        }.joined()
    }

    public static func sha256(_ text: String) -> Data {
        Data(SHA256.hash(data: Data(text.utf8)))
    }

    /// Compares in time that depends only on the lengths, not on where the values differ.
    public static func constantTimeEqual(_ a: Data, _ b: Data) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    /// PBKDF2-HMAC-SHA256, for user passwords.
    /// PBKDF2-HMAC-SHA256, 32 bytes, computed by BoringSSL (fast in debug builds too, which
    /// matters when tests log in many times). Its answers are those of the Swift loop it replaced,
    /// so stored password hashes stay valid.
    public static func pbkdf2(password: String, salt: Data, iterations: Int = 100_000) throws -> Data {
        let key = try KDF.Insecure.PBKDF2.deriveKey(
            from: Array(password.utf8), salt: salt, using: .sha256, outputByteCount: 32, unsafeUncheckedRounds: max(1, iterations))
        return key.withUnsafeBytes { Data($0) }
    }
}
