/// An OpenAPI description split over files under `api/`, the way Redocly and Swagger split
/// layouts keep them: refs three files deep, in path items and parameters, `#/` fragments into
/// other files, a ref back into the root and a cycle across files. Three operations: listPets,
/// getPet, getOwner.
public enum SplitSpec {
    public static let files: [(String, String)] = [
        (
            "api/openapi.yaml",
            """
            openapi: 3.0.3
            info: {title: Split, version: '1'}
            paths:
              /pets:
                $ref: paths/pets.yaml
              /pets/{petId}:
                $ref: 'paths/pet.yaml'
              /owners/{ownerId}:
                get:
                  operationId: getOwner
                  parameters:
                    - $ref: 'parameters/common.yaml#/ownerId'
                  responses:
                    '200': {description: ok, content: {application/json: {schema: {$ref: 'schemas/owner.yaml'}}}}
            components:
              schemas:
                Local: {type: object, properties: {x: {type: string}}}
            """
        ),
        (
            "api/paths/pets.yaml",
            """
            get:
              operationId: listPets
              parameters:
                - $ref: '../parameters/common.yaml#/limit'
              responses:
                '200':
                  description: ok
                  content: {application/json: {schema: {type: array, items: {$ref: '../schemas/pet.yaml'}}}}
            """
        ),
        (
            "api/paths/pet.yaml",
            """
            parameters:
              - $ref: '../parameters/common.yaml#/petId'
            get:
              operationId: getPet
              responses:
                '200': {$ref: '../responses/pet.yaml'}
            """
        ),
        (
            "api/parameters/common.yaml",
            """
            petId: {name: petId, in: path, required: true, schema: {type: integer}}
            ownerId: {name: ownerId, in: path, required: true, schema: {type: string}}
            limit: {name: limit, in: query, schema: {$ref: '../schemas/limits.yaml#/Limit'}}
            """
        ),
        ("api/responses/pet.yaml", "description: a pet\ncontent: {application/json: {schema: {$ref: '../schemas/pet.yaml'}}}"),
        (
            "api/schemas/pet.yaml",
            """
            type: object
            required: [name]
            properties:
              name: {type: string}
              owner: {$ref: 'owner.yaml'}
              local: {$ref: '../openapi.yaml#/components/schemas/Local'}
            """
        ),
        ("api/schemas/owner.yaml", "type: object\nproperties:\n  name: {type: string}\n  pets: {type: array, items: {$ref: 'pet.yaml'}}"),
        ("api/schemas/limits.yaml", "Limit: {type: integer, minimum: 1, maximum: 100}"),
    ]
}
