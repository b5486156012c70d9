#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""A stand-in for the Kubernetes API server's Node endpoints, for testing
scripts/sockvx-node-agent.sh without a cluster.

    k8s_api_mock.py DIR PORT

GET /api/v1/nodes answers DIR/nodes.json; GET /api/v1/nodes/NAME that Node;
?watch=1&resourceVersion=V holds the request until the list's
metadata.resourceVersion differs from V (then one event) or timeoutSeconds
pass. Requests need "Authorization: Bearer <DIR/token>". While DIR/fail
exists every request gets a 500. Each request is logged to DIR/requests.
"""
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

DIR = sys.argv[1]


def nodes():
    with open(os.path.join(DIR, "nodes.json"), encoding="utf-8") as f:
        return json.load(f)


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # the requests file is the log
        pass

    def answer(self, code, body):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):  # noqa: N802 (the http.server naming)
        url = urlparse(self.path)
        query = parse_qs(url.query)
        with open(os.path.join(DIR, "requests"), "a", encoding="utf-8") as log:
            log.write(self.path + "\n")
        with open(os.path.join(DIR, "token"), encoding="utf-8") as f:
            token = f.read().strip()
        if self.headers.get("Authorization") != "Bearer " + token:
            return self.answer(401, '{"kind":"Status","code":401}')
        if os.path.exists(os.path.join(DIR, "fail")):
            return self.answer(500, '{"kind":"Status","code":500}')
        if url.path == "/api/v1/nodes" and query.get("watch") == ["1"]:
            since = query.get("resourceVersion", [""])[0]
            deadline = time.time() + int(query.get("timeoutSeconds", ["30"])[0])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            while time.time() < deadline:
                if nodes()["metadata"]["resourceVersion"] != since:
                    self.wfile.write(b'{"type":"MODIFIED","object":{"kind":"Node"}}\n')
                    self.wfile.flush()
                    break
                time.sleep(0.1)
            self.close_connection = True
            return None
        if url.path == "/api/v1/nodes":
            return self.answer(200, json.dumps(nodes(), separators=(",", ":")))
        if url.path.startswith("/api/v1/nodes/"):
            name = url.path.rsplit("/", 1)[1]
            for node in nodes()["items"]:
                if node["metadata"]["name"] == name:
                    return self.answer(200, json.dumps(node, separators=(",", ":")))
        return self.answer(404, '{"kind":"Status","code":404}')


ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), Handler).serve_forever()
