"""A GraphQL backend for the gateway's tests: graphql-core behind http.server on 127.0.0.1.

POST /graphql executes {query, variables, operationName}; it requires
"Authorization: Bearer <token>" when started with --token. GET /sdl and GET /introspection
serve the schema both ways. Prints "listening on PORT" once ready; stops on SIGTERM.
"""

import argparse
import json
import signal
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from graphql import build_schema, get_introspection_query, graphql_sync

SDL = '''
"""A pet of the store."""
type Pet {
  id: ID!
  name: String!
  status: Status!
  tags: [String!]!
  owner: Owner
}
type Owner { id: ID! name: String! pets(first: Int): [Pet!]! }
enum Status { AVAILABLE PENDING SOLD }
union SearchResult = Pet | Owner
input PetInput { name: String!, status: Status = AVAILABLE, tags: [String!] }
type Query {
  """Finds a pet by id."""
  pet(id: ID!): Pet
  """Lists pets, optionally by status."""
  pets(status: Status, first: Int = 10): [Pet!]!
  search(text: String!): [SearchResult!]!
  fail(message: String!): String
}
type Mutation {
  """Adds a pet."""
  addPet(input: PetInput!): Pet!
}
'''

OWNERS = {"o1": {"id": "o1", "name": "Alice"}}
PETS = {
    "1": {"id": "1", "name": "Rex", "status": "AVAILABLE", "tags": ["dog"], "owner": "o1"},
    "2": {"id": "2", "name": "Tom", "status": "SOLD", "tags": ["cat"], "owner": None},
}


def pet_view(pet):
    view = dict(pet)
    view["owner"] = owner_view(OWNERS[pet["owner"]]) if pet["owner"] else None
    view["__typename"] = "Pet"
    return view


def owner_view(owner):
    view = dict(owner)
    view["pets"] = [dict(p, owner=None, __typename="Pet") for p in PETS.values() if p["owner"] == owner["id"]]
    view["__typename"] = "Owner"
    return view


def resolve_search(_root, _info, text):
    hits = [pet_view(p) for p in PETS.values() if text.lower() in p["name"].lower()]
    hits += [owner_view(o) for o in OWNERS.values() if text.lower() in o["name"].lower()]
    return hits


def resolve_fail(_root, _info, message):
    raise ValueError(message)


def resolve_add(_root, _info, input):
    new_id = str(len(PETS) + 1)
    PETS[new_id] = {"id": new_id, "name": input["name"], "status": input.get("status", "AVAILABLE"), "tags": input.get("tags") or [], "owner": None}
    return pet_view(PETS[new_id])


schema = build_schema(SDL)
schema.query_type.fields["pet"].resolve = lambda _r, _i, id: pet_view(PETS[id]) if id in PETS else None
schema.query_type.fields["pets"].resolve = lambda _r, _i, status=None, first=10: [
    pet_view(p) for p in PETS.values() if status is None or p["status"] == status
][:first]
schema.query_type.fields["search"].resolve = resolve_search
schema.query_type.fields["fail"].resolve = resolve_fail
schema.mutation_type.fields["addPet"].resolve = resolve_add
schema.type_map["Owner"].fields["pets"].resolve = lambda owner, _i, first=None: owner["pets"] if first is None else owner["pets"][:first]
schema.type_map["SearchResult"].resolve_type = lambda value, _info, _type: value["__typename"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    token = None

    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json"):
        data = body.encode() if isinstance(body, str) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/sdl":
            self.answer(200, SDL, "text/plain")
        elif self.path == "/introspection":
            self.answer(200, {"data": graphql_sync(schema, get_introspection_query(descriptions=True)).data})
        else:
            self.answer(404, {"error": "not found"})

    def do_POST(self):
        if self.path != "/graphql":
            return self.answer(404, {"error": "not found"})
        if self.token and self.headers.get("Authorization") != f"Bearer {self.token}":
            return self.answer(401, {"errors": [{"message": "missing or wrong bearer token"}]})
        length = int(self.headers.get("Content-Length", "0"))
        try:
            request = json.loads(self.rfile.read(length))
        except ValueError:
            return self.answer(400, {"errors": [{"message": "body is not JSON"}]})
        result = graphql_sync(schema, request.get("query", ""), variable_values=request.get("variables"), operation_name=request.get("operationName"))
        body = {"data": result.data}
        if result.errors:
            body["errors"] = [e.formatted for e in result.errors]
        self.answer(200, body)


def stop(*_):
    raise KeyboardInterrupt


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--token")
    args = parser.parse_args()
    Handler.token = args.token
    # Keep-alive connections from the gateway must not hold the exit.
    ThreadingHTTPServer.daemon_threads = True
    ThreadingHTTPServer.block_on_close = False
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    signal.signal(signal.SIGTERM, stop)
    print(f"listening on {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
