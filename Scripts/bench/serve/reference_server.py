"""The Python peer: http.server + numpy doing the same V2 infer (JSON in, forward pass, JSON out)."""
import json, sys
from http.server import ThreadingHTTPServer, BaseHTTPRequestHandler
import numpy as np
from safetensors.numpy import load_file

w = load_file(sys.argv[1])
layers = [(w[f"layer.{i}.weight"], w[f"layer.{i}.bias"]) for i in range(3)]

def forward(x):
    for i, (W, b) in enumerate(layers):
        x = x @ W + b
        if i < 2:
            x = np.maximum(x, 0)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)

class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def reply(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
    def do_GET(self):
        self.reply(200, {"live": True})
    def do_POST(self):
        req = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        inp = req["inputs"][0]
        x = np.asarray(inp["data"], dtype=np.float32).reshape(inp["shape"])
        y = forward(x)
        self.reply(200, {"model_name": "digits", "model_version": "1", "id": req.get("id"),
                         "outputs": [{"name": "output", "datatype": "FP32", "shape": list(y.shape), "data": y.ravel().tolist()}]})

ThreadingHTTPServer(("127.0.0.1", int(sys.argv[2])), H).serve_forever()
