import ReshaprConfig

extension FuzzTarget {
    /// The input's first line is a template, the others URIs a client might read. Each URI is
    /// matched; a match's values, put back into the template, must give the URI again, and
    /// none may hold a character that leaves its segment.
    static func fuzzURITemplate(_ bytes: [UInt8]) {
        let lines = bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        guard let first = lines.first, case .success(let template) = URITemplate.parse(first) else { return }
        for uri in lines.dropFirst() {
            _ = URITemplate.pathAndQuery(of: uri)
            guard case .matched(let values) = template.match(uri) else { continue }
            var rebuilt = ""
            for piece in template.pieces {
                switch piece {
                case .literal(let literal): rebuilt += String(decoding: literal, as: UTF8.self)
                case .variable(let name):
                    guard let value = values[name], !value.isEmpty, !value.contains(where: { "/?#&=+".contains($0) }) else {
                        fatalError("\(uri) matched \(first) with \(name) = \(values[name] ?? "nothing")")
                    }
                    rebuilt += value
                }
            }
            if rebuilt != uri { fatalError("\(uri) matched \(first), but its values give \(rebuilt)") }
        }
    }
}
