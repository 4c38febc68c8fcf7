import ReshaprFilters
import ReshaprJSON
import Testing

@Suite("Output filters")
struct OutputFilterTests {
    static let pet: JSONValue = try! JSONParser.parse(
        Array(#"{"id": 7, "name": "Rex", "category": {"id": 1, "name": "Dogs"}, "photoUrls": ["a", "b"], "tags": [{"id": 1, "name": "good"}, {"id": 2, "name": "loud"}], "status": "available"}"#.utf8))

    static let petSchema: JSONValue = [
        "type": "object", "required": ["name", "photoUrls"],
        "properties": [
            "id": ["type": "integer"], "name": ["type": "string"], "status": ["type": "string", "enum": ["available", "pending", "sold"]],
            "category": ["type": "object", "properties": ["id": ["type": "integer"], "name": ["type": "string"]]],
            "photoUrls": ["type": "array", "items": ["type": "string"]],
            "tags": ["type": "array", "items": ["type": "object", "properties": ["id": ["type": "integer"], "name": ["type": "string"]]]],
        ],
    ]

    static func filter(_ yaml: JSONValue) throws -> OutputFilter { try OutputFilter(spec: yaml) }

    @Test("jsonRetain keeps the named branches, their ancestors and array positions, in document order")
    func retain() throws {
        let filter = try Self.filter(["jsonRetain": ["/status", "/name", "/category/name", "/tags/1/name", "/missing", "/name/deeper"]])
        let out = filter.apply(to: Self.pet).document
        #expect(out == ["name": "Rex", "category": ["name": "Dogs"], "tags": [["name": "loud"]], "status": "available"])
        #expect(out.objectValue.map { Array($0.keys) } == ["name", "category", "tags", "status"])
        // Nothing resolves: an empty object, not the whole answer.
        #expect(try Self.filter(["jsonRetain": ["/nope"]]).apply(to: Self.pet).document == .emptyObject)
    }

    @Test("jsonPatches apply in order after retain; a failed test stops the sequence there")
    func patches() throws {
        let filter = try Self.filter([
            "jsonRetain": ["/name", "/status", "/tags"],
            "jsonPatches": [
                ["op": "move", "from": "/name", "path": "/petName"],
                ["op": "remove", "path": "/tags/0"],
                ["op": "add", "path": "/tags/-", "value": ["id": 9, "name": "new"]],
                ["op": "copy", "from": "/status", "path": "/state"],
                ["op": "replace", "path": "/status", "value": "for sale"],
                ["op": "test", "path": "/state", "value": "sold"],
                ["op": "remove", "path": "/tags"],
            ],
        ])
        let outcome = filter.apply(to: Self.pet)
        #expect(outcome.stoppedAt == 5)
        #expect(outcome.document == ["petName": "Rex", "status": "for sale", "state": "available", "tags": [["id": 2, "name": "loud"], ["id": 9, "name": "new"]]])
        // The test passes for a sold pet: the sequence goes on to the end.
        var sold = Self.pet
        if case .object(var members) = sold {
            members["status"] = "sold"
            sold = .object(members)
        }
        let passed = filter.apply(to: sold)
        #expect(passed.stoppedAt == nil)
        #expect(passed.document == ["petName": "Rex", "status": "for sale", "state": "sold"])
    }

    @Test("an operation with nothing to act on is passed over, the others apply")
    func missingTargets() throws {
        let filter = try Self.filter(["jsonPatches": [["op": "remove", "path": "/nickname"], ["op": "replace", "path": "/x/y", "value": 1], ["op": "remove", "path": "/id"]]])
        let outcome = filter.apply(to: Self.pet)
        #expect(outcome.skipped == [0, 1])
        #expect(outcome.document["id"] == nil)
        #expect(outcome.document["name"] == "Rex")
    }

    @Test("the output schema follows retain and patches, and every answer conforms")
    func schemaFollows() throws {
        let filter = try Self.filter([
            "jsonRetain": ["/name", "/status", "/tags/0/name", "/photoUrls"],
            "jsonPatches": [["op": "remove", "path": "/photoUrls"], ["op": "add", "path": "/source", "value": "petstore"], ["op": "move", "from": "/status", "path": "/state"]],
        ])
        let schema = try #require(filter.outputSchema(from: Self.petSchema))
        #expect(schema["properties"]?["photoUrls"] == nil)
        #expect(schema["properties"]?["state"]?["enum"] != nil)
        #expect(schema["properties"]?["status"] == nil)
        #expect(schema["properties"]?["source"]?["const"] == "petstore")
        #expect(schema["properties"]?["tags"]?["items"]?["properties"]?["id"] == nil)
        #expect(schema["required"] == ["name"])
        let validator = try JSONSchemaValidator(schema: schema, strict: false)
        #expect(validator.validate(filter.apply(to: Self.pet).document).isEmpty)
        #expect(validator.validate(["name": "x", "id": 3]).isEmpty == false, "additionalProperties: false keeps dropped members out")
    }

    @Test("a guard test makes the schema accept both the stopped and the finished shape")
    func schemaWithTest() throws {
        let filter = try Self.filter([
            "jsonPatches": [["op": "test", "path": "/status", "value": "sold"], ["op": "remove", "path": "/name"], ["op": "add", "path": "/note", "value": "gone"]],
        ])
        let schema = try #require(filter.outputSchema(from: Self.petSchema))
        let validator = try JSONSchemaValidator(schema: schema, strict: false)
        #expect(validator.validate(filter.apply(to: Self.pet).document).isEmpty)
        var sold = Self.pet
        if case .object(var members) = sold {
            members["status"] = "sold"
            sold = .object(members)
        }
        let finished = filter.apply(to: sold).document
        #expect(finished["name"] == nil)
        #expect(validator.validate(finished).isEmpty)
    }

    @Test("no output schema for TOON text, a non-object result, or a schema the filter cannot follow")
    func noSchema() throws {
        #expect(try Self.filter(["convertToToon": true]).outputSchema(from: Self.petSchema) == nil)
        let rootReplaced = try Self.filter(["jsonPatches": [["op": "replace", "path": "", "value": [1, 2]]]])
        #expect(rootReplaced.outputSchema(from: Self.petSchema) == nil)
        let referenced: JSONValue = ["type": "object", "properties": ["a": ["$ref": "#/$defs/A"]], "$defs": ["A": ["type": "object"]]]
        #expect(try Self.filter(["jsonRetain": ["/a/b"]]).outputSchema(from: referenced) == nil)
        #expect(try Self.filter(["jsonRetain": ["/a"]]).outputSchema(from: referenced) != nil, "a branch kept whole needs no look inside")
    }

    @Test("bad filters are refused with the field at fault")
    func refusals() {
        func problem(_ spec: JSONValue) -> String? {
            do {
                _ = try OutputFilter(spec: spec, at: JSONPath.root.appending("filters").appending("getPet"))
                return nil
            } catch {
                return error.description
            }
        }
        #expect(problem(["jsonRetain": []]) == "filters.getPet.jsonRetain: must be a non-empty list of JSON Pointers")
        #expect(problem(["jsonRetain": ["name"]])?.hasPrefix("filters.getPet.jsonRetain[0]: invalid JSON Pointer \"name\"") == true)
        #expect(problem(["jsonRetain": ["/a~2"]])?.contains("'~' must be followed by 0 or 1") == true)
        #expect(problem(["jsonPatches": [["op": "frobnicate", "path": "/a"]]])?.hasPrefix("filters.getPet.jsonPatches[0].op:") == true)
        #expect(problem(["jsonPatches": [["op": "add", "path": "/a"]]]) == "filters.getPet.jsonPatches[0].value: is required for 'add'")
        #expect(problem(["jsonPatches": [["op": "move", "from": "/a", "path": "/a/b"]]])?.contains("into one of its own children") == true)
        #expect(problem(["convertToToon": "yes"]) == "filters.getPet.convertToToon: must be true or false")
        #expect(problem(["jsonRetian": ["/a"]]) == "filters.getPet.jsonRetian: is not a filter field (jsonRetain, jsonPatches, convertToToon)")
        let deep = "/" + Array(repeating: "a", count: 65).joined(separator: "/")
        #expect(problem(["jsonRetain": [.string(deep)]])?.contains("at most 64 levels") == true)
    }

    @Test("JSON Pointer escapes: ~1 is '/', ~0 is '~', and array indexes have no leading zero")
    func pointers() throws {
        let document: JSONValue = ["a/b": ["m~n": [10, 20]]]
        #expect(try JSONPointer("/a~1b/m~0n/1").resolve(in: document) == 20)
        #expect(try JSONPointer("/a~1b/m~0n/01").resolve(in: document) == nil)
        #expect(try JSONPointer("").resolve(in: document) == document)
        #expect(try JSONPointer("/a~1b/m~0n").description == "/a~1b/m~0n")
    }
}
