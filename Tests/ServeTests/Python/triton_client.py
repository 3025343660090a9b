"""Infer call with the official Triton HTTP client against a running mlw server.
Usage: triton_client.py PORT MODEL  -> prints the output as JSON (binary and JSON modes must agree)."""
import json, sys
import numpy as np
import tritonclient.http as httpclient

port, model = sys.argv[1], sys.argv[2]
c = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
assert c.is_server_live() and c.is_server_ready() and c.is_model_ready(model)
meta = c.get_model_metadata(model)
width = int(meta["inputs"][0]["shape"][1])
x = (np.arange(2 * width, dtype=np.float32).reshape(2, width) % 7) / 7
results = []
for binary in (False, True):
    inp = httpclient.InferInput(meta["inputs"][0]["name"], list(x.shape), "FP32")
    inp.set_data_from_numpy(x, binary_data=binary)
    out = httpclient.InferRequestedOutput(meta["outputs"][0]["name"], binary_data=binary)
    r = c.infer(model, [inp], outputs=[out], request_id="triton-1")
    y = r.as_numpy(meta["outputs"][0]["name"])
    assert y.shape == (2, int(meta["outputs"][0]["shape"][1])), y.shape
    assert r.get_response()["id"] == "triton-1"
    results.append(y)
assert np.allclose(results[0], results[1])
print(json.dumps({"x": x.tolist(), "y": results[0].tolist()}))
