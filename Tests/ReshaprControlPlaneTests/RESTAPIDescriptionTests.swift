import Foundation
import Logging
import ReshaprJSON
import TestSupport
import Testing

@testable import ReshaprControlPlane

/// `api/openapi.json` describes the REST API: every route is in it and everything in it is a
/// route; reshapr-ctrl serves it from its binary.
@Suite struct RESTAPIDescriptionTests {
    static func description() throws -> JSONValue {
        try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: Repository.root + "/api/openapi.json"))))
    }

    @Test func everyRouteIsDescribedAndEveryDescribedOperationIsARoute() async throws {
        let store = try await makeTestStore()
        let api = RESTAPI(store: store, registry: GatewayRegistry(store: store, sendsSecrets: false, logger: Logger(label: "test")))
        let routes = Set(api.router().routes.map { "\($0.method.rawValue) \($0.path.description)" })
        let document = try Self.description()
        var described: Set<String> = []
        for (path, item) in document["paths"]?.objectValue ?? [:] {
            for method in ["get", "put", "post", "delete", "patch"] where item[method] != nil {
                described.insert("\(method.uppercased()) \(path)")
                #expect(item[method]?["operationId"]?.stringValue != nil, "\(method) \(path) has no operationId")
            }
        }
        #expect(routes.subtracting(described).isEmpty, "routes missing from api/openapi.json: \(routes.subtracting(described).sorted())")
        #expect(described.subtracting(routes).isEmpty, "described but not served: \(described.subtracting(routes).sorted())")
        #expect(document["openapi"] == "3.1.0")
    }

    @Test func theBinaryServesTheFileAsItIs() async throws {
        #expect(EmbeddedOpenAPI.text + "\n" == (try String(contentsOfFile: Repository.root + "/api/openapi.json", encoding: .utf8)), "run scripts/embed-openapi.py")
        try await withREST { _, _, rest in
            var anonymous = rest
            anonymous.token = ""
            let (status, served) = try await anonymous.call(.get, "/api/v1/openapi.json")
            #expect(status == .ok)
            #expect(served == (try Self.description()))
        }
    }
}
