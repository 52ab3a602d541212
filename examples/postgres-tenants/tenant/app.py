"""A tenant's web service: reads its database URI from the tenant's secret file and really
queries its own PostgreSQL database through psql (python's standard library has no
PostgreSQL driver). Each request records a visit and answers with who it is connected as."""
import json
import os
import subprocess
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

with open(os.environ["DATABASE_URL_FILE"]) as f:
    DATABASE_URL = f.read().strip()


def sql(statement):
    """Runs one statement as the tenant's role; returns the rows as lists of strings."""
    out = subprocess.run(
        ["psql", DATABASE_URL, "-X", "-q", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", statement],
        check=True, capture_output=True, text=True, timeout=10,
    ).stdout
    return [line.split("\t") for line in out.splitlines() if line]


sql("CREATE TABLE IF NOT EXISTS visits (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT now())")


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path == "/healthz":
            sql("SELECT 1")
            body, kind = b"ok\n", "text/plain"
        else:
            (user, database, visits), = sql(
                "WITH v AS (INSERT INTO visits DEFAULT VALUES RETURNING 1) "
                "SELECT current_user, current_database(), (SELECT count(*) + 1 FROM visits) FROM v")
            body = (json.dumps({
                "tenant": os.environ["TENANT"],
                "name": os.environ["TENANT_NAME"],
                "connected_as": user,
                "database": database,
                "visits": int(visits),
            }, indent=2) + "\n").encode()
            kind = "application/json"
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        print(fmt % args, flush=True)


ThreadingHTTPServer(("127.0.0.1", int(os.environ["PORT"])), Handler).serve_forever()
