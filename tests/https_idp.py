"""https_idp.py: the local HTTPS identity provider of the fetch-keys tests
(tests/fetch_test.py, tests/e2e/rotation_idp.py): a test CA and a server
certificate for 127.0.0.1 made with the openssl command, and the files of a
directory served over HTTPS on 127.0.0.1 only."""

import http.server
import os
import ssl
import subprocess
import threading


def openssl(d, *args):
    subprocess.run(["openssl"] + list(args), check=True, capture_output=True, cwd=d)


def certs(d):
    """Makes d/ca.pem and a certificate for 127.0.0.1 it signed; returns the
    CA's path."""
    openssl(d, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
            "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj",
            "/CN=tokenscope test CA")
    openssl(d, "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "srv.key", "-out", "srv.csr", "-subj", "/CN=127.0.0.1")
    with open(os.path.join(d, "san.ext"), "w") as f:
        f.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl(d, "x509", "-req", "-in", "srv.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "srv.pem", "-days", "2", "-extfile", "san.ext")
    return os.path.join(d, "ca.pem")


def serve(docs, d, port=0, on_get=None):
    """Serves docs over HTTPS with d's certificate on 127.0.0.1:port (0: any)
    in a thread; on_get(path) is called for each GET. Returns the server
    (shutdown() and server_close() stop it)."""

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=docs, **kw)

        def log_message(self, *a):
            pass

        def do_GET(self):
            if on_get is not None:
                on_get(self.path)
            super().do_GET()

    srv = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(os.path.join(d, "srv.pem"), os.path.join(d, "srv.key"))
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
