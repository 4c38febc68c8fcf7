"""A gRPC backend for the gateway's tests: grpcio serving samples/petstore-grpc/petstore.proto on 127.0.0.1.

At start it compiles the proto with grpcio-tools into a temporary directory, writes the
descriptor set there (protoc --include_imports --include_source_info), and prints
"descriptor PATH", then "listening on PORT". With --token, calls need
"authorization: Bearer <token>" metadata. With --tls CERT KEY CA, it serves TLS and requires a
client certificate signed by CA (mutual TLS). Stops on SIGTERM.
"""

import argparse
import importlib
import os
import shutil
import signal
import sys
import tempfile
import threading
from concurrent import futures

import grpc
from grpc_tools import protoc

PROTO_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "samples", "petstore-grpc")


def compile_proto(out):
    include = os.path.join(os.path.dirname(protoc.__file__), "_proto")
    descriptor = os.path.join(out, "petstore.pb")
    status = protoc.main([
        "protoc", f"-I{PROTO_DIR}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}",
        f"--descriptor_set_out={descriptor}", "--include_imports", "--include_source_info", "petstore.proto",
    ])
    if status != 0:
        sys.exit(f"protoc failed with status {status}")
    sys.path.insert(0, out)
    return descriptor, importlib.import_module("petstore_pb2"), importlib.import_module("petstore_pb2_grpc")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--token")
    parser.add_argument("--tls", nargs=3, metavar=("CERT", "KEY", "CA"))
    args = parser.parse_args()
    out = tempfile.mkdtemp(prefix="reshapr-grpc-")
    descriptor, pb2, pb2_grpc = compile_proto(out)

    pets = {1: pb2.Pet(id=1, name="Rex", status=pb2.AVAILABLE, tags=["dog"], labels={"color": "brown"}, scores=[3, 5], balance=-42, weight=12.5)}
    pets[1].born.FromJsonString("2020-02-29T10:00:00Z")
    pets[1].nickname.value = "rexy"
    pets[1].owner.name = "Alice"
    pets[1].groomed_every.FromJsonString("1.5s")

    class PetStore(pb2_grpc.PetStoreServicer):
        def check(self, context):
            if args.token:
                metadata = dict(context.invocation_metadata())
                if metadata.get("authorization") != f"Bearer {args.token}":
                    context.abort(grpc.StatusCode.UNAUTHENTICATED, "missing or wrong bearer token")

        def GetPet(self, request, context):
            self.check(context)
            if request.id not in pets:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no pet {request.id}")
            return pets[request.id]

        def AddPet(self, request, context):
            self.check(context)
            pet = pb2.Pet()
            pet.CopyFrom(request.pet)
            pet.id = 1000 + len(pets)
            pet.extra.update({"traceparent": dict(context.invocation_metadata()).get("traceparent", "")})
            pets[pet.id] = pet
            return pet

        def ListPets(self, request, context):
            yield from pets.values()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    pb2_grpc.add_PetStoreServicer_to_server(PetStore(), server)
    if args.tls:
        cert, key, ca = (open(path, "rb").read() for path in args.tls)
        credentials = grpc.ssl_server_credentials([(key, cert)], root_certificates=ca, require_client_auth=True)
        port = server.add_secure_port("127.0.0.1:0", credentials)
    else:
        port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"descriptor {descriptor}", flush=True)
    print(f"listening on {port}", flush=True)
    stopped.wait()
    server.stop(grace=0.5).wait()
    shutil.rmtree(out, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
