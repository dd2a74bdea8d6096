# SPDX-License-Identifier: MIT
"""A local stand-in for Apple's push service, for the wallet tests: answers every POST with the
status it is given, appends "PATH TOPIC BODY" lines to LOG, and writes its port to PORTFILE once
it listens. usage: apns_standin.py PORTFILE LOG STATUS"""
import http.server
import os
import sys


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        with open(sys.argv[2], "a", encoding="utf-8") as f:
            f.write(f"{self.path} {self.headers.get('apns-topic')} {body}\n")
        self.send_response(int(sys.argv[3]))
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w", encoding="utf-8") as f:
    f.write(str(server.server_port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
