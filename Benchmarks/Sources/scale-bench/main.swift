import ArgumentParser
import AsyncHTTPClient
import BenchSupport
import Foundation

/// Cold start and memory at 1, 100 and 1,000 expositions generated from the corpus, and
/// tools/list latency on a 1,000-tool endpoint.
@main
struct ScaleBench: AsyncParsableCommand {
    @Option(help: "The reshapr-gateway binary (a release build).") var gateway: String
    @Option(help: "The OpenAPI corpus directory (../shared/corpus/openapi).") var corpus: String
    @Option(parsing: .upToNextOption, help: "Exposition counts.") var counts: [Int] = [1, 100, 1000]
    @Flag(help: "Give every exposition its own copy of its spec (nothing can be shared).") var copies = false

    func run() async throws {
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            for count in counts { try await coldStart(http, expositions: count) }
            try await listTools(http, tools: 1000)
        } catch {
            try? await http.shutdown()
            throw error
        }
        try await http.shutdown()
    }

    func temporaryDirectory(_ name: String) throws -> String {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("reshapr-\(name)-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: dir + "/specs", withIntermediateDirectories: true)
        return dir
    }

    /// N expositions, each with its own Service and plan, cycling over the corpus specs.
    func coldStart(_ http: HTTPClient, expositions count: Int) async throws {
        let dir = try temporaryDirectory("scale-\(count)")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let specs = try FileManager.default.contentsOfDirectory(atPath: corpus).filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") }.sorted()
        for spec in specs { try FileManager.default.createSymbolicLink(atPath: dir + "/specs/" + spec, withDestinationPath: corpus + "/" + spec) }
        for i in 0..<count {
            var spec = specs[i % specs.count]
            if copies {
                let copy = "\(i)-" + spec
                try FileManager.default.copyItem(atPath: corpus + "/" + spec, toPath: dir + "/specs/" + copy)
                spec = copy
            }
            let text = """
                apiVersion: reshapr.io/v1
                kind: Service
                metadata: {name: svc-\(i)}
                spec: {version: "1", type: REST, artifacts: [{type: OPENAPI, path: specs/\(spec)}]}
                ---
                apiVersion: reshapr.io/v1
                kind: ConfigurationPlan
                metadata: {name: plan-\(i)}
                spec: {service: {name: svc-\(i), version: "1"}, backend: {mock: true}}
                ---
                apiVersion: reshapr.io/v1
                kind: Exposition
                metadata: {name: expo-\(i)}
                spec: {plan: plan-\(i)}
                """
            try text.write(toFile: dir + "/expo-\(i).yaml", atomically: false, encoding: .utf8)
        }
        let started = ContinuousClock.now
        let (process, port) = try await startGateway(gateway, ["--config-dir", dir, "--host", "127.0.0.1", "--port", "0", "--no-watch"])
        defer { process.terminate() }
        while true {
            let response = try await http.execute(HTTPClientRequest(url: "http://127.0.0.1:\(port)/health/ready"), timeout: .seconds(5))
            _ = try await response.body.collect(upTo: 1 << 20)
            if response.status == .ok { break }
            try await Task.sleep(for: .milliseconds(5))
        }
        let ready = micros(ContinuousClock.now - started) / 1000
        let report: [String: Any] = [
            "benchmark": copies ? "coldStartDistinctSpecs" : "coldStart", "expositions": count, "readyMs": ready,
            "rssMB": Double(residentBytes(process.processIdentifier)) / (1 << 20),
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }

    /// One endpoint with `tools` operations; times the first tools/list page and a full listing.
    func listTools(_ http: HTTPClient, tools: Int) async throws {
        let dir = try temporaryDirectory("tools")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var paths: [String] = []
        for i in 0..<tools {
            paths.append(
                "\"/items\(i)/{id}\": {\"get\": {\"operationId\": \"getItem\(i)\", \"summary\": \"Get item \(i)\", \"parameters\": [{\"name\": \"id\", \"in\": \"path\", \"required\": true, \"schema\": {\"type\": \"integer\"}}, {\"name\": \"fields\", \"in\": \"query\", \"schema\": {\"type\": \"array\", \"items\": {\"type\": \"string\"}}}], \"responses\": {\"200\": {\"description\": \"ok\", \"content\": {\"application/json\": {\"schema\": {\"type\": \"object\", \"properties\": {\"id\": {\"type\": \"integer\"}, \"name\": {\"type\": \"string\"}}}}}}}}}")
        }
        try "{\"openapi\": \"3.0.3\", \"info\": {\"title\": \"big\", \"version\": \"1\"}, \"paths\": {\(paths.joined(separator: ","))}}".write(toFile: dir + "/specs/big.json", atomically: false, encoding: .utf8)
        try """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: big}
            spec: {version: "1", type: REST, artifacts: [{type: OPENAPI, path: specs/big.json}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: big}
            spec: {service: {name: big, version: "1"}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: big}
            spec: {plan: big}
            """.write(toFile: dir + "/big.yaml", atomically: false, encoding: .utf8)
        let (process, port) = try await startGateway(gateway, ["--config-dir", dir, "--host", "127.0.0.1", "--port", "0", "--no-watch"])
        defer { process.terminate() }
        let client = try await MCPClient.connect(http, url: "http://127.0.0.1:\(port)/mcp/default/big/1")
        var firstPage: [Double] = []
        var full: [Double] = []
        var listed = 0
        for _ in 0..<50 {
            var cursor: String?
            var count = 0
            let start = ContinuousClock.now
            repeat {
                let params = cursor.map { #"{"cursor":"\#($0)"}"# } ?? "{}"
                let (_, body) = try await client.post(#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":\#(params)}"#)
                if cursor == nil { firstPage.append(micros(ContinuousClock.now - start)) }
                let object = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
                let result = object?["result"] as? [String: Any]
                count += (result?["tools"] as? [Any])?.count ?? 0
                cursor = result?["nextCursor"] as? String
            } while cursor != nil
            full.append(micros(ContinuousClock.now - start))
            listed = count
        }
        firstPage.sort()
        full.sort()
        let report: [String: Any] = [
            "benchmark": "toolsList", "tools": listed, "firstPageP50us": percentile(firstPage, 0.5), "firstPageP99us": percentile(firstPage, 0.99),
            "fullListingP50ms": percentile(full, 0.5) / 1000, "fullListingP99ms": percentile(full, 0.99) / 1000,
        ]
        print(String(decoding: try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys]), as: UTF8.self))
    }
}
