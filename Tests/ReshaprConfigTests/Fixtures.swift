import ReshaprConfig
import TestSupport

/// Small resource documents for building test directories.
enum Fixture {
    static let openAPI = """
        openapi: 3.0.3
        info: {title: Pets, version: 1.0.0}
        paths:
          /pets/{id}:
            get:
              operationId: getPet
              parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
              responses: {'200': {description: ok}}
        """

    static func service(name: String = "petstore", version: String = "1.0.0", org: String? = nil, artifact: String = "openapi.yaml") -> String {
        """
        apiVersion: reshapr.io/v1
        kind: Service
        metadata:
          name: \(name)
        \(org.map { "  org: \($0)" } ?? "")
        spec:
          version: "\(version)"
          type: REST
          artifacts:
            - type: OPENAPI
              path: \(artifact)
        """
    }

    static func plan(name: String = "petstore", service: String = "petstore", version: String = "1.0.0", org: String? = nil, extra: String = "") -> String {
        """
        apiVersion: reshapr.io/v1
        kind: ConfigurationPlan
        metadata:
          name: \(name)
        \(org.map { "  org: \($0)" } ?? "")
        spec:
          service: {name: \(service), version: "\(version)"}
          backend: {endpoint: "http://127.0.0.1:9/api", timeout: 5s}
        \(extra)
        """
    }

    static func exposition(name: String = "petstore", plan: String = "petstore", org: String? = nil, path: String? = nil) -> String {
        """
        apiVersion: reshapr.io/v1
        kind: Exposition
        metadata:
          name: \(name)
        \(org.map { "  org: \($0)" } ?? "")
        spec:
          plan: \(plan)
        \(path.map { "  path: \($0)" } ?? "")
        """
    }

    /// A directory with one valid service, plan and exposition.
    static func validDirectory() throws -> TemporaryDirectory {
        let dir = try TemporaryDirectory()
        try dir.write("openapi.yaml", openAPI)
        try dir.write("service.yaml", service())
        try dir.write("plans/petstore.yaml", plan())
        try dir.write("expositions/petstore.yaml", exposition())
        return dir
    }
}

extension Configuration {
    /// Printed issues, for assertions.
    var issueTexts: [String] { issues.map(\.description) }

    func hasIssue(_ fragment: String) -> Bool {
        issues.contains { $0.description.contains(fragment) }
    }
}

func load(_ dir: TemporaryDirectory, maxFileSize: Int = LoaderOptions.defaultMaxFileSize) throws -> Configuration {
    try ConfigLoader(root: dir.path, options: LoaderOptions(maxFileSize: maxFileSize)).load()
}
