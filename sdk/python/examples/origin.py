"""An origin behind the keygate edge (WSGI, standard library server): only
requests that came through the edge reach the app, which answers with the
identity the edge signed.

    KEYGATE_SIGNING_SECRET=… PORT=7073 python examples/origin.py

Point the edge at it (ORIGIN_LIVE / ORIGIN_TEST) with the same secret as its
ORIGIN_SIGNING_SECRET. Prints `READY http://127.0.0.1:<port>` once listening.
"""

import json
import os
from wsgiref.simple_server import WSGIRequestHandler, make_server

import keygate


def app(environ, start_response):
    identity = environ["keygate.identity"]  # set by the middleware: always there
    body = json.dumps(
        {
            "client_id": identity.client_id,
            "key_id": identity.key_id,
            "env": identity.env,
            "key_type": identity.key_type,
            "auth": identity.auth,
            "method": environ["REQUEST_METHOD"],
            "path": environ["PATH_INFO"],
        }
    ).encode()
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


application = keygate.WSGIMiddleware(app, secret=os.environ["KEYGATE_SIGNING_SECRET"])


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):  # no access log on stderr
        pass


if __name__ == "__main__":
    with make_server("127.0.0.1", int(os.environ.get("PORT", "7073")), application, handler_class=QuietHandler) as server:
        print(f"READY http://127.0.0.1:{server.server_port}", flush=True)
        server.serve_forever()
