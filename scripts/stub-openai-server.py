#!/usr/bin/env python3
"""A stand-in OpenAI-compatible server for the failure tests (standard library only).

It serves what llama-cpp-python cannot be made to do on purpose:
  --mode slow      accept a chat request, then send nothing for --sleep seconds (the client's
                   time-out must fire first);
  --mode break     stream --pieces pieces of a chat reply, then drop the connection without
                   [DONE] (a server killed mid-answer);
  --mode busy      answer 503 to everything (retries, then a clear error);
  embeddings       always: /v1/embeddings returns deterministic unit vectors of --dim numbers
                   made from the text's words, so an index built through it is reproducible.
It prints "listening on PORT" once ready, and stops on SIGTERM. Loopback only.
"""
import argparse, hashlib, json, math, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ap = argparse.ArgumentParser()
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--mode", choices=["slow", "break", "busy", "ok"], default="ok")
ap.add_argument("--sleep", type=float, default=30)
ap.add_argument("--pieces", type=int, default=5)
ap.add_argument("--dim", type=int, default=64)
ap.add_argument("--model", default="stub")
args = ap.parse_args()


def vector(text):
    v = [0.0] * args.dim
    for word in text.lower().split():
        h = hashlib.sha256(word.encode()).digest()
        for i in range(4):
            v[h[i] % args.dim] += 1.0 if h[4 + i] % 2 else -1.0
    n = math.sqrt(sum(x * x for x in v)) or 1.0
    return [x / n for x in v]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send_json(self, status, obj):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path.rstrip("/").endswith("/models"):
            self.send_json(200, {"object": "list", "data": [{"id": args.model, "object": "model"}]})
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if args.mode == "busy":
            return self.send_json(503, {"error": {"message": "busy"}})
        if self.path.endswith("/embeddings"):
            texts = body.get("input", [])
            texts = [texts] if isinstance(texts, str) else texts
            return self.send_json(200, {"object": "list", "model": args.model,
                                        "data": [{"object": "embedding", "index": i, "embedding": vector(t)} for i, t in enumerate(texts)]})
        if args.mode == "slow":
            time.sleep(args.sleep)
            return
        # "break" (and "ok", which finishes properly): a streamed reply, one word per event.
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        for i in range(args.pieces):
            chunk = {"choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]}
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()
            time.sleep(0.05)
        if args.mode == "ok":
            done = {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
            self.wfile.write(f"data: {json.dumps(done)}\n\ndata: [DONE]\n\n".encode())
        self.wfile.flush()
        self.close_connection = True


server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
print(f"listening on {server.server_address[1]}", flush=True)
try:
    server.serve_forever()
except KeyboardInterrupt:
    pass
