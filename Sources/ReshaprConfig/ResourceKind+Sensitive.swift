import ReshaprJSON

extension ResourceKind {
    /// Whether the value at `path` of a document of this kind may be a credential, so that no
    /// message (on `/status`, in logs, from `validate`) ever quotes it: every value of a
    /// Secret's `spec.data`, and the values of a plan's `spec.backend.headers`.
    public func isSensitive(_ path: JSONPath) -> Bool {
        let keys = path.components.map { component -> String? in
            if case .key(let key) = component { return key }
            return nil
        }
        switch self {
        case .secret:
            return keys.count >= 3 && keys[0] == "spec" && keys[1] == "data"
        case .configurationPlan:
            return keys.count >= 4 && keys[0] == "spec" && keys[1] == "backend" && keys[2] == "headers"
        default:
            return false
        }
    }
}
