import Foundation
import ReshaprConfig
import ReshaprJSON
import ReshaprTools
import TestSupport
import Testing

@testable import ReshaprOpenAPI

struct ParseFailure: Error { var message: String }

/// Parses YAML or JSON the way the loader parses artifacts.
enum DocumentParsing {
    static func parse(_ bytes: [UInt8]) throws -> JSONValue {
        let dir = try TemporaryDirectory()
        defer { dir.remove() }
        try dir.write("spec.yaml", Data(bytes))
        try dir.write(
            "all.yaml",
            """
            apiVersion: reshapr.io/v1
            kind: Service
            metadata: {name: s}
            spec: {version: '1', type: REST, artifacts: [{type: \(String(decoding: bytes, as: UTF8.self).contains("swagger:") || String(decoding: bytes, as: UTF8.self).contains("\"swagger\"") ? "SWAGGER" : "OPENAPI"), path: spec.yaml}]}
            ---
            apiVersion: reshapr.io/v1
            kind: ConfigurationPlan
            metadata: {name: p}
            spec: {service: {name: s, version: '1'}, backend: {mock: true}}
            ---
            apiVersion: reshapr.io/v1
            kind: Exposition
            metadata: {name: e}
            spec: {plan: p}
            """)
        let configuration = try ConfigLoader(root: dir.path).load()
        guard case .document(let document)? = configuration.expositions.first?.service.artifacts.first?.content else {
            throw ParseFailure(message: "\(configuration.issues)")
        }
        return document
    }
}

@Suite struct ToolCompilerTests {
    @Test func samplePetstoreBecomesTools() throws {
        let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Repository.samples + "/petstore/openapi.yaml")))
        let catalog = ToolCompiler.compile(try DocumentParsing.parse(bytes), rules: ToolSelectionRules(exclude: ["uploadFile"]))
        #expect(catalog.tools.map(\.definition.name).sorted() == [
            "addPet", "deletePet", "findPetsByStatus", "getInventory", "getOrderById", "getPetById", "placeOrder", "updatePet",
        ])
        #expect(catalog.filteredOut == 1)
        #expect(catalog.skipped.isEmpty)

        let get = try #require(catalog.tool(named: "getPetById"))
        #expect(get.definition.description == "Find a pet by ID\n\nReturns a single pet.")
        #expect(get.definition.annotations.readOnlyHint == true)
        #expect(get.definition.inputSchema["required"] == ["petId"])
        #expect(get.definition.inputSchema["properties"]?["petId"]?["type"] == "integer")
        #expect(get.definition.inputSchema["additionalProperties"] == false)
        #expect(get.definition.outputSchema?["properties"]?["name"]?["type"] == "string")
        #expect(get.definition.outputSchema?["required"] == nil, "output schemas do not require fields")
        #expect(get.operation.signature == "GET /pet/{petId}")

        let delete = try #require(catalog.tool(named: "deletePet"))
        #expect(delete.definition.annotations.destructiveHint == true)
        #expect(delete.operation.parameters.map(\.location) == [.header, .path])

        let update = try #require(catalog.tool(named: "updatePet"))
        #expect(update.definition.annotations.idempotentHint == true)
        // The body object is flattened into the arguments; its required fields are required.
        #expect(Set(update.definition.inputSchema["required"]?.arrayValue ?? []) == ["name", "photoUrls"])
        #expect(update.definition.inputSchema["properties"]?["category"]?["properties"]?["name"]?["type"] == "string")
        guard case .flattened(let mapping)? = update.operation.body?.source else {
            Issue.record("expected a flattened body")
            return
        }
        #expect(mapping["photoUrls"] == "photoUrls")

        let find = try #require(catalog.tool(named: "findPetsByStatus"))
        #expect(find.definition.outputSchema == nil, "array responses have no output schema")
        #expect(find.operation.responses.first?.example?.arrayValue?.count == 2)
    }

    @Test func namesAreSanitizedUniqueAndOverridable() throws {
        let document = try DocumentParsing.parse(Array("""
            openapi: 3.1.0
            info: {title: t, version: '1'}
            paths:
              /users/{user-id}/orders:
                get:
                  parameters: [{name: user-id, in: path, required: true, schema: {type: string}}]
                  responses: {'200': {description: ok}}
              /a:
                get: {operationId: "list items!", responses: {'200': {description: ok}}}
                post: {operationId: "list items?", responses: {'200': {description: ok}}}
              /b:
                get: {operationId: legacy, responses: {'200': {description: ok}}}
            """.utf8))
        let catalog = ToolCompiler.compile(
            document,
            rules: ToolSelectionRules(exclude: ["GET /b"], overrides: ["list items!": (name: "listItems", description: "All items."), "nope": (name: "x", description: nil)]))
        #expect(catalog.tools.map(\.definition.name).sorted() == ["get_users_user-id_orders", "listItems", "list_items_"])
        #expect(catalog.tool(named: "listItems")?.definition.description == "All items.")
        #expect(catalog.unmatchedSelectors == ["nope"])
        #expect(ToolCompiler.toolName(operationID: String(repeating: "x", count: 200), method: "GET", path: "/").count == 128)
    }

    @Test func recursiveSchemasAreBoundedAndCombinatorsKept() throws {
        let document = try DocumentParsing.parse(Array("""
            openapi: 3.0.3
            info: {title: t, version: '1'}
            paths:
              /nodes:
                post:
                  operationId: createNode
                  requestBody:
                    required: true
                    content: {application/json: {schema: {$ref: '#/components/schemas/Node'}}}
                  responses: {'201': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Node'}}}}}
            components:
              schemas:
                Node:
                  type: object
                  required: [name]
                  properties:
                    id: {type: integer, readOnly: true}
                    name: {type: string, nullable: true}
                    children: {type: array, items: {$ref: '#/components/schemas/Node'}}
                    shape: {oneOf: [{type: string}, {type: integer, exclusiveMinimum: true, minimum: 0}]}
            """.utf8))
        let tool = try #require(ToolCompiler.compile(document).tool(named: "createNode"))
        let properties = try #require(tool.definition.inputSchema["properties"]?.objectValue)
        #expect(properties["id"] == nil, "readOnly properties are not inputs")
        #expect(properties["name"]?["type"] == ["string", "null"])
        #expect(properties["children"]?["items"]?["description"] == "Node (recursive; not expanded further)")
        #expect(properties["shape"]?["oneOf"]?.arrayValue?.last?["exclusiveMinimum"] == 0)
        #expect(tool.definition.outputSchema?["properties"]?["id"]?["type"] == "integer")
        // The compiled schema is valid input for our validator.
        let validator = try JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)
        #expect(validator.validate(["name": "root", "children": [["name": "leaf"]]]).isEmpty)
        #expect(validator.validate(["children": []]).map(\.description) == ["name: required field is missing"])
    }

    @Test func swaggerTwoParametersBodiesAndForms() throws {
        let document = try DocumentParsing.parse(Array("""
            swagger: "2.0"
            info: {title: t, version: '1'}
            basePath: /v2
            definitions:
              Pet: {type: object, properties: {name: {type: string}}, required: [name]}
            paths:
              /pets:
                get:
                  operationId: listPets
                  parameters:
                    - {name: tags, in: query, type: array, items: {type: string}, collectionFormat: multi}
                    - {name: limit, in: query, type: integer, maximum: 100}
                  responses: {'200': {description: ok, schema: {type: array, items: {$ref: '#/definitions/Pet'}}}}
                post:
                  operationId: addPet
                  parameters: [{name: pet, in: body, required: true, schema: {$ref: '#/definitions/Pet'}}]
                  responses: {'200': {description: ok, schema: {$ref: '#/definitions/Pet'}}}
              /pets/{id}:
                post:
                  operationId: updatePetForm
                  consumes: [application/x-www-form-urlencoded]
                  parameters:
                    - {name: id, in: path, required: true, type: string}
                    - {name: name, in: formData, type: string, required: true}
                  responses: {'200': {description: ok}}
              /pets/{id}/image:
                post:
                  operationId: upload
                  consumes: [multipart/form-data]
                  parameters:
                    - {name: id, in: path, required: true, type: string}
                    - {name: file, in: formData, type: file}
                  responses: {'200': {description: ok}}
            """.utf8))
        let catalog = ToolCompiler.compile(document)
        let list = try #require(catalog.tool(named: "listPets"))
        #expect(list.operation.parameters.first { $0.name == "tags" }.map { ($0.style, $0.explode) } ?? (.simple, false) == (.form, true))
        #expect(list.definition.inputSchema["properties"]?["limit"]?["maximum"] == 100)
        let add = try #require(catalog.tool(named: "addPet"))
        #expect(add.definition.inputSchema["required"] == ["name"])
        #expect(add.definition.outputSchema?["properties"]?["name"]?["type"] == "string")
        let form = try #require(catalog.tool(named: "updatePetForm"))
        #expect(form.operation.body?.encoding == .form)
        #expect(Set(form.definition.inputSchema["required"]?.arrayValue ?? []) == ["id", "name"])
        #expect(catalog.skipped.map(\.description) == ["POST /pets/{id}/image (upload): multipart/form-data file uploads are not supported"])
    }

    @Test func parameterAndBodyNameCollisionsGetDistinctArguments() throws {
        let document = try DocumentParsing.parse(Array("""
            openapi: 3.0.3
            info: {title: t, version: '1'}
            paths:
              /things/{id}:
                put:
                  operationId: putThing
                  parameters:
                    - {name: id, in: path, required: true, schema: {type: string}}
                    - {name: id, in: query, schema: {type: string}}
                  requestBody:
                    content: {application/json: {schema: {type: object, properties: {id: {type: string}, label: {type: string}}}}}
                  responses: {'200': {description: ok}}
              /undeclared/{x}:
                get: {operationId: broken, responses: {'200': {description: ok}}}
            """.utf8))
        let catalog = ToolCompiler.compile(document)
        let tool = try #require(catalog.tool(named: "putThing"))
        #expect(Set(tool.definition.inputSchema["properties"]?.objectValue?.keys.map { $0 } ?? []) == ["id", "query_id", "body_id", "label"])
        #expect(catalog.skipped.map(\.reason) == ["path parameter {x} is not declared"])
    }

    @Test func everyCorpusSpecCompiles() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: Repository.openAPICorpus).filter { $0.hasSuffix(".json") || $0.hasSuffix(".yaml") }.sorted()
        #expect(files.count >= 30)
        var total = 0
        var report: [String] = []
        for file in files {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: Repository.openAPICorpus + "/" + file)))
            let document = try DocumentParsing.parse(bytes)
            let catalog = ToolCompiler.compile(document)
            let methods: Set<String> = ["get", "put", "post", "delete", "options", "head", "patch", "trace"]
            let operations = (document["paths"]?.objectValue ?? [:]).values.reduce(0) { count, item in
                count + (item.objectValue ?? [:]).keys.filter { methods.contains($0) }.count
            }
            #expect(catalog.tools.count + catalog.skipped.count == operations, "\(file): every operation is a tool or skipped with a reason")
            total += catalog.tools.count
            report.append("\(file): \(catalog.tools.count) tools, \(catalog.skipped.count) skipped")
            for skipped in catalog.skipped { report.append("  skipped \(skipped)") }
            for tool in catalog.tools {
                #expect(tool.definition.name.utf8.count <= 128)
                #expect((try? JSONSchemaValidator(schema: tool.definition.inputSchema, strict: false)) != nil, "\(file) \(tool.definition.name)")
            }
            #expect(Set(catalog.tools.map(\.definition.name)).count == catalog.tools.count, "\(file) has duplicate tool names")
        }
        print("corpus tools:\n" + report.joined(separator: "\n") + "\ntotal: \(total) tools from \(files.count) specs")
    }
}
