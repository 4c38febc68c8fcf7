import Testing

@testable import ReshaprJSON

@Suite struct JSONSchemaTests {
    func violations(_ schema: JSONValue, _ instance: JSONValue, resources: [JSONValue] = []) throws -> [String] {
        try JSONSchemaValidator(schema: schema, resources: resources).validate(instance).map(\.description)
    }

    @Test func typeEnumAndConst() throws {
        #expect(try violations(["type": "string"], 1) == ["expected string, got number 1 (quote the value in YAML to make it a string)"])
        #expect(try violations(["type": ["string", "null"]], nil).isEmpty)
        #expect(try violations(["type": "integer"], 2.0).isEmpty)
        #expect(try violations(["type": "integer"], 2.5).count == 1)
        #expect(try violations(["enum": ["REST", "GRPC"]], "rest") == [#"must be one of "REST", "GRPC", got string "rest"; did you mean "REST"?"#])
        #expect(try violations(["const": "reshapr.io/v1"], "reshapr.io/v2") == [#"must be "reshapr.io/v1", got string "reshapr.io/v2""#])
    }

    @Test func numbersStringsAndArrays() throws {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "n": ["minimum": 1, "exclusiveMaximum": 10, "multipleOf": 0.5],
                "s": ["minLength": 2, "maxLength": 3, "pattern": "^[a-z]+$"],
                "a": ["minItems": 1, "maxItems": 2, "uniqueItems": true, "items": ["type": "integer"]],
                "t": ["prefixItems": [["type": "string"]], "items": false],
                "c": ["contains": ["const": 3], "minContains": 2],
            ],
        ]
        #expect(try violations(schema, ["n": 1.5, "s": "ab", "a": [1, 2], "t": ["x"], "c": [3, 3]]).isEmpty)
        let found = try violations(schema, ["n": 10, "s": "ABCD", "a": [1, 1, 2], "t": ["x", 1], "c": [3]])
        #expect(found.contains("n: must be less than 10.0, got 10"))
        #expect(found.contains("s: must be at most 3 characters long, got 4"))
        #expect(found.contains(#"s: string "ABCD" does not match the pattern "^[a-z]+$""#))
        #expect(found.contains("a: must have at most 2 items, got 3"))
        #expect(found.contains("a: items 0 and 1 are equal; items must be unique"))
        #expect(found.contains("t[1]: is not allowed here"))
        #expect(found.contains("c: must contain at least 2 matching items"))
        #expect(try violations(schema, ["n": 1.25]) == ["n: must be a multiple of 0.5"])
    }

    @Test func objectsReportEveryProblemWithItsPath() throws {
        let schema: JSONValue = [
            "type": "object",
            "required": ["name", "spec"],
            "additionalProperties": false,
            "properties": [
                "name": ["type": "string"],
                "spec": [
                    "type": "object",
                    "properties": ["version": ["type": "string"], "description": ["type": "string"]],
                    "additionalProperties": false,
                    "dependentRequired": ["version": ["description"]],
                ],
            ],
        ]
        let found = try violations(schema, ["spec": ["version": "1", "descripton": "x"], "extra": 1])
        #expect(found.contains("name: required field is missing"))
        #expect(found.contains("extra: unknown field (allowed: name, spec)"))
        #expect(found.contains(#"spec.descripton: unknown field; did you mean "description"?"#))
        #expect(found.contains("spec.description: required when version is set"))
        #expect(found.count == 4)
    }

    @Test func patternPropertiesAndPropertyNames() throws {
        let schema: JSONValue = [
            "patternProperties": ["^x-": ["type": "string"]],
            "propertyNames": ["pattern": "^[a-z-]+$"],
            "additionalProperties": ["type": "integer"],
        ]
        #expect(try violations(schema, ["x-a": "s", "b": 1]).isEmpty)
        #expect(try violations(schema, ["x-a": 1, "B": 1, "c": "s"]) == [
            "B: field name \"B\" is not allowed", "c: expected integer, got string \"s\"",
            #"["x-a"]: expected string, got number 1 (quote the value in YAML to make it a string)"#,
        ])
    }

    @Test func applicators() throws {
        let oneOf: JSONValue = ["oneOf": [["required": ["path"]], ["required": ["inline"]]]]
        #expect(try violations(oneOf, ["path": "a"]).isEmpty)
        #expect(try violations(oneOf, [:]) == ["must set exactly one of: path, inline"])
        #expect(try violations(oneOf, ["path": "a", "inline": "b"]) == ["must set exactly one of: path, inline, not several"])
        let anyOf: JSONValue = ["anyOf": [["type": "string"], ["type": "integer", "minimum": 5]]]
        #expect(try violations(anyOf, 7).isEmpty)
        #expect(try violations(anyOf, 3) == ["must be at least 5.0, got 3"])
        let conditional: JSONValue = [
            "if": ["properties": ["mock": ["const": true]], "required": ["mock"]],
            "then": ["not": ["required": ["endpoint"]]],
            "else": ["required": ["endpoint"]],
        ]
        #expect(try violations(conditional, ["mock": true]).isEmpty)
        #expect(try violations(conditional, ["mock": true, "endpoint": "x"]) == ["endpoint must not be set here"])
        #expect(try violations(conditional, [:]) == ["endpoint: required field is missing"])
        let allOf: JSONValue = ["allOf": [["minimum": 1], ["maximum": 3]]]
        #expect(try violations(allOf, 4) == ["must be at most 3.0, got 4"])
    }

    @Test func referencesWithinAndAcrossSchemaResources() throws {
        let common: JSONValue = [
            "$id": "https://example.test/schemas/common.json",
            "$defs": ["name": ["type": "string", "minLength": 1]],
        ]
        let main: JSONValue = [
            "$id": "https://example.test/schemas/main.json",
            "properties": [
                "name": ["$ref": "common.json#/$defs/name"],
                "child": ["$ref": "#/$defs/node"],
            ],
            "$defs": ["node": ["type": "object", "properties": ["child": ["$ref": "#/$defs/node"], "v": ["type": "integer"]]]],
        ]
        #expect(try violations(main, ["name": "", "child": ["child": ["v": "x"]]], resources: [common]) == [
            "child.child.v: expected integer, got string \"x\"", "name: must not be empty",
        ])
    }

    @Test func strictModeRefusesKeywordsItDoesNotImplement() {
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schema: ["unevaluatedProperties": false]) }
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schema: ["$ref": "#/$defs/missing"]) }
        #expect(throws: JSONSchemaError.self) { try JSONSchemaValidator(schema: ["pattern": "(unclosed"]) }
        #expect(throws: Never.self) { try JSONSchemaValidator(schema: ["unevaluatedProperties": false], strict: false) }
        #expect(throws: Never.self) { try JSONSchemaValidator(schema: ["x-vendor": 1, "title": "t", "format": "uri"]) }
    }

    @Test func suggestionsAreOnlyForLikelyTypos() {
        #expect(closestMatch(to: "Servce", in: ["Service", "Secret", "Gateway"]) == "Service")
        #expect(closestMatch(to: "Banana", in: ["Service", "Secret", "Gateway"]) == nil)
    }
}
