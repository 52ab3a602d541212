"""A tenant's web service: answers with the tenant's name, plan and what its database holds."""
import json
import os
import sqlite3
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

DB_PATH = os.environ["DATABASE_URL"].removeprefix("sqlite://")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            body = b"ok\n"
        else:
            with sqlite3.connect(DB_PATH) as db:
                customers = [row[0] for row in db.execute("SELECT name FROM customers ORDER BY id")]
            body = (json.dumps({
                "tenant": os.environ["TENANT"],
                "name": os.environ["TENANT_NAME"],
                "plan": os.environ["PLAN"],
                "customers": customers,
            }, indent=2) + "\n").encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json" if self.path != "/healthz" else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
