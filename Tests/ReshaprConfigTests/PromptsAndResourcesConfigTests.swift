import ReshaprConfig
import ReshaprJSON
import TestSupport
import Testing

/// Prompts and Resources artifacts as the loader reads them, and URI templates.
struct PromptsAndResourcesConfigTests {
    /// A valid directory whose Service also lists `files` (type, file name, content).
    func load(_ files: [(type: String, name: String, content: String)]) throws -> Configuration {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        var service = Fixture.service()
        for file in files {
            service += "\n    - {type: \(file.type), path: \(file.name)}"
            try dir.write(file.name, file.content)
        }
        try dir.write("service.yaml", service)
        return try ConfigLoader(root: dir.path).load()
    }

    static let prompts = """
        apiVersion: reshapr.io/v1alpha1
        kind: Prompts
        service: {name: petstore, version: 1.0.0}
        prompts:
          summary:
            arguments: [{name: petId, required: true}]
            result: Describe pet ${petId}.
        """

    @Test func validFilesAreLoadedWithTheService() throws {
        let resources = """
            apiVersion: reshapr.io/v1alpha1
            kind: Resources
            service: {name: petstore, version: 1.0.0}
            resources:
              'file:///a.txt': {text: hello}
            resourceTemplates:
              'file:///pets/{id}': {name: pet}
            """
        let configuration = try load([("RESHAPR_PROMPTS", "prompts.yaml", Self.prompts), ("RESHAPR_RESOURCES", "resources.yaml", resources)])
        #expect(configuration.errors.isEmpty, "\(configuration.issueTexts)")
        let service = try #require(configuration.expositions.first?.service)
        #expect(service.prompts["summary"]?.prompt.render(["petId": "7"]) == .success("Describe pet 7."))
        #expect(service.prompts["summary"]?.prompt.render([:]) == .failure(.missing(["petId"])))
        #expect(service.staticResources["file:///a.txt"]?.resource.metadata.name == "file:///a.txt", "the name defaults to the URI")
        #expect(service.resourceTemplates["file:///pets/{id}"]?.template.template.variables == ["id"])
    }

    @Test(arguments: [
        ("RESHAPR_PROMPTS", "apiVersion: reshapr.io/v1alpha1\nkind: Prompts\nservice: {name: other, version: 1.0.0}\nprompts: {a: {result: x}}\n", "is for service other 1.0.0"),
        ("RESHAPR_PROMPTS", "apiVersion: reshapr.io/v1alpha1\nkind: Prompts\nservice: {name: petstore, version: 1.0.0}\nprompts: {a: {title: no result}}\n", "result"),
        (
            "RESHAPR_PROMPTS", "apiVersion: reshapr.io/v1alpha1\nkind: Prompts\nservice: {name: petstore, version: 1.0.0}\nprompts: {a: {result: x, arguments: [{name: n}, {name: n}]}}\n",
            "/prompts/a/arguments/1/name: argument n is declared twice"
        ),
        ("RESHAPR_PROMPTS", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresources: {}\n", "is a Resources file"),
        (
            "RESHAPR_RESOURCES", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresources: {'file:///a': {text: x, blob: eA==}}\n",
            "resources"
        ),
        (
            "RESHAPR_RESOURCES", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresources: {'file:///a': {blob: 'abcde'}}\n",
            "is not valid base64"
        ),
        (
            "RESHAPR_RESOURCES", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresourceTemplates: {'file:///{+path}': {}}\n",
            "only level-1 templates"
        ),
        (
            "RESHAPR_RESOURCES", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresourceTemplates: {'file:///{a}{b}': {}}\n",
            "two variables need literal text between them"
        ),
        ("RESHAPR_RESOURCES", "apiVersion: reshapr.io/v1alpha1\nkind: Resources\nservice: {name: petstore, version: 1.0.0}\nresources: {'no scheme': {text: x}}\n", "no scheme"),
    ])
    func badFilesAreErrorsNamingTheFile(type: String, content: String, expected: String) throws {
        let configuration = try load([(type, "extra.yaml", content)])
        #expect(configuration.errors.contains { $0.description.contains("extra.yaml") && $0.description.contains(expected) }, "\(configuration.issueTexts)")
    }

    @Test func aPromptDefinedTwiceIsAnError() throws {
        let configuration = try load([("RESHAPR_PROMPTS", "one.yaml", Self.prompts), ("RESHAPR_PROMPTS", "two.yaml", Self.prompts)])
        #expect(configuration.hasIssue("two.yaml defines prompt summary, which one.yaml of this service defines already"), "\(configuration.issueTexts)")
    }

    @Test func planSelectionsAreRead() throws {
        let dir = try Fixture.validDirectory()
        defer { dir.remove() }
        try dir.write("plans/petstore.yaml", Fixture.plan(extra: "  prompts: {include: [a, b]}\n  resources: {exclude: ['file:///x']}"))
        let configuration = try ConfigLoader(root: dir.path).load()
        #expect(configuration.errors.isEmpty, "\(configuration.issueTexts)")
        let plan = try #require(configuration.expositions.first?.plan)
        #expect(plan.prompts == ItemSelection(include: ["a", "b"], exclude: []))
        #expect(plan.resources.admits("file:///y") && !plan.resources.admits("file:///x"))
        #expect(!plan.prompts.admits("c") && plan.prompts.admits("a"))
    }
}

/// RFC 6570 level-1 templates: what they match, and what they refuse.
struct URITemplateTests {
    func template(_ text: String) throws -> URITemplate {
        try URITemplate.parse(text).get()
    }

    @Test func valuesStopAtTheLiteralThatFollowsThem() throws {
        let source = try template("file:///project/src/{path}?mode=raw")
        #expect(source.match("file:///project/src/doc.md?mode=raw") == .matched(["path": "doc.md"]))
        #expect(source.match("file:///project/src/a%20b.md?mode=raw") == .matched(["path": "a%20b.md"]))
        #expect(source.match("file:///project/src/a/b.md?mode=raw") == .none)
        #expect(source.match("file:///project/src/?mode=raw") == .none)
        #expect(source.match("file:///project/src/doc.md?mode=raw&x=1") == .none)
        let two = try template("acme://{org}/repos/{repo}.json")
        #expect(two.match("acme://o1/repos/r.v2.json") == .matched(["org": "o1", "repo": "r.v2"]))
        #expect(two.match("acme://o1/repos/r.v2.jsonx") == .none)
    }

    @Test(arguments: ["..", ".", "%2e%2E", "%2E", "a%2Fb", "a%2fb", "a%5Cb", "a%00b", "%0a"])
    func valuesThatWouldLeaveTheirSegmentAreRefused(value: String) throws {
        guard case .refused(let variable, _) = try template("file:///src/{path}/raw").match("file:///src/\(value)/raw") else {
            Issue.record("\(value) was not refused")
            return
        }
        #expect(variable == "path")
    }

    @Test func malformedEscapesMatchNothing() throws {
        #expect(try template("x:/{a}").match("x:/%zz") == .none)
        #expect(try template("x:/{a}").match("x:/%2") == .none)
    }

    @Test(arguments: [
        ("x:/{a", "is not closed"), ("x:/a}", "has no opening"), ("x:/{}", "not a variable name"), ("x:/{a-b}", "not a variable name"),
        ("x:/{a}/{a}", "appears twice"), ("x:/plain", "has no {variable}"), ("x:/{#frag}", "operator"),
    ])
    func badTemplatesAreRefused(text: String, expected: String) {
        guard case .failure(let error) = URITemplate.parse(text) else {
            Issue.record("\(text) was accepted")
            return
        }
        #expect(error.description.contains(expected), "\(error)")
    }

    @Test func tooManyVariablesOrTooLongAURI() throws {
        let many = "x:/" + (0...URITemplate.maxVariables).map { "{v\($0)}" }.joined(separator: "/")
        #expect((try? URITemplate.parse(many).get()) == nil)
        let one = try template("x:/{a}")
        #expect(one.match("x:/" + String(repeating: "a", count: URITemplate.maxURILength)) == .none)
    }

    @Test func pathAndQueryDropSchemeAuthorityAndFragment() {
        #expect(URITemplate.pathAndQuery(of: "file:///a/b?x=1#top") == "/a/b?x=1")
        #expect(URITemplate.pathAndQuery(of: "acme://docs/a") == "/a")
        #expect(URITemplate.pathAndQuery(of: "urn:isbn") == "/isbn")
        #expect(URITemplate.pathAndQuery(of: "acme://host") == "/")
    }
}
