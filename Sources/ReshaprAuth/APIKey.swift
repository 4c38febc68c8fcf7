import Crypto

/// API key comparison for client authentication.
public enum APIKey {
    /// Compares in time that depends on the lengths only, not on where the values differ,
    /// so that a caller cannot find a key byte by byte from response times. An empty key never
    /// matches, even an empty expected one.
    public static func matches(_ presented: String, _ expected: String) -> Bool {
        guard !presented.isEmpty, !expected.isEmpty else { return false }
        let x = Array(presented.utf8)
        let y = Array(expected.utf8)
        var difference = UInt8(x.count == y.count ? 0 : 1)
        for i in 0..<max(x.count, y.count) {
            difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
        }
        return difference == 0
    }

    /// Whether `presented` is the key whose SHA-256 is `digest`, compared in constant time.
    public static func matches(_ presented: String, sha256 digest: [UInt8]) -> Bool {
        guard !presented.isEmpty, digest.count == SHA256.byteCount else { return false }
        let computed = Array(SHA256.hash(data: Array(presented.utf8)))
        var difference: UInt8 = 0
        for (a, b) in zip(computed, digest) { difference |= a ^ b }
        return difference == 0
    }

    /// A short, non-reversible name for a key (the first 12 hex digits of its SHA-256), to tell
    /// clients apart in rate limits and logs without keeping the key.
    public static func fingerprint(_ key: String) -> String {
        String(sha256Hex(Array(key.utf8)).prefix(12))
    }

    /// The SHA-256 of `bytes` as lowercase hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        SHA256.hash(data: bytes).map { byte in (byte < 16 ? "0" : "") + String(byte, radix: 16) }.joined()
    }
}
