import Foundation
import ReshaprJSON

/// Secrets and the references to their values.
extension LoadRun {
    mutating func resolveSecrets() -> [ResourceName: Secret] {
        var result: [ResourceName: Secret] = [:]
        for (name, candidate) in unique(secrets, kind: .secret, describe: { $0.description }) {
            var values: [String: SecretValue] = [:]
            var ok = true
            for (key, value) in (candidate.value["data"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let text = value.stringValue ?? ""
                guard !text.isEmpty else {
                    report(candidate.location, JSONPath.root.appending("spec").appending("data").appending(key), Self.emptySecretMessage)
                    ok = false
                    continue
                }
                let path = JSONPath.root.appending("spec").appending("data").appending(key)
                do throws(SecretReferenceError) {
                    let secretValue = try SecretValue(template: text, policy: options.secretReferences)
                    if secretValue.hasReferences {
                        do throws(SecretReferenceError) {
                            _ = try secretValue.resolve()
                        } catch {
                            report(candidate.location, path, "\(error); the calls that need it fail until it resolves", severity: .warning)
                        }
                    }
                    values[key] = secretValue
                } catch {
                    report(candidate.location, path, error.description)
                    ok = false
                }
            }
            for (key, value) in (candidate.value["files"]?.objectValue ?? [:]).sorted(by: { $0.key < $1.key }) {
                let path = JSONPath.root.appending("spec").appending("files").appending(key)
                if values[key] != nil {
                    report(candidate.location, path, "key \(key) is set in both data and files")
                    ok = false
                    continue
                }
                guard let reference = value.stringValue, let (resolved, bytes) = readReferenced(reference, at: candidate.location, path, limit: 1 << 20) else {
                    ok = false
                    continue
                }
                guard var text = String(validating: bytes, as: UTF8.self) else {
                    report(candidate.location, path, "\(resolved) is not UTF-8 text")
                    ok = false
                    continue
                }
                // On scalars: "\r\n" is a single Character, so removing two Characters would
                // overrun a file holding only a CRLF.
                if text.unicodeScalars.last == "\n" {
                    text.unicodeScalars.removeLast()
                    if text.unicodeScalars.last == "\r" { text.unicodeScalars.removeLast() }
                }
                guard !text.isEmpty else {
                    report(candidate.location, path, "\(resolved) is empty (a final newline is not part of the value); \(Self.emptySecretMessage)")
                    ok = false
                    continue
                }
                values[key] = SecretValue(text)
            }
            if ok {
                result[name] = Secret(metadata: candidate.metadata, values: values, source: candidate.location)
            } else {
                invalid[InvalidKey(kind: .secret, name: name, version: nil)] = candidate.location
            }
        }
        return result
    }

    /// An empty credential would let an empty header through, so a Secret cannot hold one.
    static let emptySecretMessage = "a secret value must not be empty"

    /// Resolves a `secretRef` at `path` of a plan; reports and returns nil when it does not resolve.
    mutating func secretValue(_ ref: JSONValue?, org: String, secrets: [ResourceName: Secret], at location: SourceLocation, _ path: JSONPath) -> SecretValue? {
        guard let ref, let secretName = ref["name"]?.stringValue, let key = ref["key"]?.stringValue else {
            report(location, path, "required field is missing")
            return nil
        }
        let name = ResourceName(org: org, name: secretName)
        guard let secret = secrets[name] else {
            if let at = invalid[InvalidKey(kind: .secret, name: name, version: nil)] {
                report(location, path.appending("name"), "secret \(secretName) is invalid (see the errors at \(at))")
            } else {
                report(location, path.appending("name"), "secret \(secretName) not found in org \(org)")
            }
            return nil
        }
        guard let value = secret.values[key] else {
            report(location, path.appending("key"), "secret \(secretName) has no key \"\(key)\" (keys: \(secret.values.keys.sorted().joined(separator: ", ")))")
            return nil
        }
        return value
    }
}
