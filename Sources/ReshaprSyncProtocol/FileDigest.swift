import Crypto
import Foundation

extension Reshapr_Gateway_V1_File {
    /// Hex SHA-256 of a file's content: what the control plane sends in `sha256` and the sync checks.
    public static func sha256Hex(_ content: Data) -> String {
        SHA256.hash(data: content).map { String(format: "%02x", $0) }.joined()
    }
}
