"""An HTTPS backend for the gateway's tests that requires a client certificate (mutual TLS).

Usage: mtls_server.py CERT KEY CA. Answers GET /api/pets/<id> with a pet whose `seen.client` is
the common name of the client certificate; a client without a certificate signed by CA fails the
handshake. Prints "listening on PORT"; stops on SIGTERM.
"""

import http.server
import json
import signal
import ssl
import sys
import threading


class Pets(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        subject = dict(item[0] for item in self.connection.getpeercert().get("subject", ()))
        body = json.dumps({"id": 1, "name": "rex", "seen": {"client": subject.get("commonName", "")}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def main():
    cert, key, ca = sys.argv[1:4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    context.load_verify_locations(ca)
    context.verify_mode = ssl.CERT_REQUIRED
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Pets)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    print(f"listening on {server.server_address[1]}", flush=True)
    stopped.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
