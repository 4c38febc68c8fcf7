import ReshaprJSON
@testable import ReshaprOpenAPI
import Testing

@testable import ReshaprBackend

@Suite struct RequestBuilderTests {
    func parameter(_ name: String, _ location: ParameterBinding.Location, style: ParameterBinding.Style? = nil, explode: Bool? = nil, required: Bool = false) -> ParameterBinding {
        let defaultStyle: ParameterBinding.Style = location == .query || location == .cookie ? .form : .simple
        let s = style ?? defaultStyle
        return ParameterBinding(argument: name, name: name, location: location, required: required || location == .path, style: s, explode: explode ?? (s == .form), allowReserved: false, serializeAsJSON: false)
    }

    func operation(_ path: String, _ parameters: [ParameterBinding], body: BodyBinding? = nil, method: String = "GET") -> HTTPOperation {
        HTTPOperation(method: method, pathTemplate: path, operationID: nil, parameters: parameters, body: body, responses: [])
    }

    @Test func pathParametersCannotAddSegments() throws {
        let op = operation("/files/{name}/meta", [parameter("name", .path)])
        #expect(try RequestBuilder.build(op, arguments: ["name": "a/b c?d#e"]).pathAndQuery == "/files/a%2Fb%20c%3Fd%23e/meta")
        #expect(try RequestBuilder.build(op, arguments: ["name": 42]).pathAndQuery == "/files/42/meta")
        #expect(throws: ArgumentError.self) { try RequestBuilder.build(op, arguments: ["name": ".."]) }
        #expect(throws: ArgumentError.self) { try RequestBuilder.build(op, arguments: ["name": ""]) }
        #expect(throws: ArgumentError.self) { try RequestBuilder.build(op, arguments: [:]) }
        #expect(try RequestBuilder.build(op, arguments: ["name": "%2e%2e"]).pathAndQuery == "/files/%252e%252e/meta")
    }

    @Test func pathStyles() throws {
        let label = operation("/p/{v}", [parameter("v", .path, style: .label, explode: false)])
        #expect(try RequestBuilder.build(label, arguments: ["v": [1, 2]]).pathAndQuery == "/p/.1,2")
        let matrix = operation("/p/{v}", [parameter("v", .path, style: .matrix, explode: true)])
        #expect(try RequestBuilder.build(matrix, arguments: ["v": [1, 2]]).pathAndQuery == "/p/;v=1;v=2")
        let simple = operation("/p/{v}", [parameter("v", .path)])
        #expect(try RequestBuilder.build(simple, arguments: ["v": ["a": 1, "b": 2]]).pathAndQuery == "/p/a,1,b,2")
    }

    @Test func queryStyles() throws {
        let op = operation(
            "/search",
            [
                parameter("tags", .query), parameter("ids", .query, explode: false), parameter("words", .query, style: .spaceDelimited, explode: false),
                parameter("filter", .query, style: .deepObject, explode: true), parameter("q", .query), parameter("flag", .query),
            ])
        let request = try RequestBuilder.build(
            op, arguments: ["tags": ["a", "b"], "ids": [1, 2], "words": ["x", "y"], "filter": ["color": "red"], "q": "a&b=c", "flag": false])
        #expect(request.pathAndQuery == "/search?tags=a&tags=b&ids=1,2&words=x%20y&filter%5Bcolor%5D=red&q=a%26b%3Dc&flag=false")
        #expect(try RequestBuilder.build(op, arguments: [:]).pathAndQuery == "/search")
    }

    @Test func headersCannotBeInjected() throws {
        let op = operation("/", [parameter("X-Trace", .header), parameter("session", .cookie)])
        let request = try RequestBuilder.build(op, arguments: ["X-Trace": "abc", "session": "s 1"])
        #expect(request.headers.map { "\($0.name): \($0.value)" } == ["X-Trace: abc", "Cookie: session=s%201"])
        #expect(throws: ArgumentError.self) { try RequestBuilder.build(op, arguments: ["X-Trace": "abc\r\nX-Admin: 1"]) }
    }

    @Test func bodies() throws {
        let flattened = operation(
            "/pets", [], body: BodyBinding(mediaType: "application/json", encoding: .json, required: true, source: .flattened(["name": "name", "body_id": "id"])),
            method: "POST")
        let request = try RequestBuilder.build(flattened, arguments: ["name": "rex", "body_id": 3])
        #expect(String(decoding: request.body ?? [], as: UTF8.self) == #"{"id":3,"name":"rex"}"#)
        #expect(request.headers.first { $0.name == "Content-Type" }?.value == "application/json")

        let form = operation("/f", [], body: BodyBinding(mediaType: "application/x-www-form-urlencoded", encoding: .form, required: false, source: .argument("body")), method: "POST")
        let formRequest = try RequestBuilder.build(form, arguments: ["body": ["a": "x y", "list": [1, 2]]])
        #expect(String(decoding: formRequest.body ?? [], as: UTF8.self) == "a=x%20y&list=1&list=2")
        #expect(try RequestBuilder.build(form, arguments: [:]).body == nil)

        let required = operation("/r", [], body: BodyBinding(mediaType: "application/json", encoding: .json, required: true, source: .argument("body")), method: "POST")
        #expect(throws: ArgumentError.self) { try RequestBuilder.build(required, arguments: [:]) }
    }

    @Test func mockAnswersFromExamplesThenSchemas() throws {
        let withExample = HTTPOperation(
            method: "GET", pathTemplate: "/x", operationID: nil, parameters: [], body: nil,
            responses: [ResponseDescription(status: "200", mediaType: "application/json", schema: nil, example: ["ok": true])])
        #expect(MockResponder.respond(to: withExample).body == Array(#"{"ok":true}"#.utf8))
        let schema: JSONValue = [
            "type": "object",
            "properties": ["id": ["type": "integer"], "when": ["type": "string", "format": "date-time"], "tags": ["type": "array", "items": ["type": "string", "enum": ["a", "b"]]]],
        ]
        let generated = HTTPOperation(
            method: "GET", pathTemplate: "/x", operationID: nil, parameters: [], body: nil,
            responses: [ResponseDescription(status: "201", mediaType: "application/json", schema: schema, example: nil)])
        let response = MockResponder.respond(to: generated)
        #expect(response.status == 201)
        #expect(try JSONParser.parse(response.body) == ["id": 1, "when": "2026-01-01T00:00:00Z", "tags": ["a"]])
        let none = HTTPOperation(method: "DELETE", pathTemplate: "/x", operationID: nil, parameters: [], body: nil, responses: [ResponseDescription(status: "200", mediaType: nil, schema: nil, example: nil)])
        #expect(MockResponder.respond(to: none).status == 204)
    }
}
