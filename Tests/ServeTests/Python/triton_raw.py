"""Raw-column V2 inputs with the official Triton HTTP client: one input per column (BYTES
for the category, FP32 / INT64 numbers, shapes [N] and [N, 1]), in JSON and binary modes.
Usage: triton_raw.py PORT MODEL -> prints {"y": ..., "error": ...} as JSON."""
import json, sys
import numpy as np
import tritonclient.http as httpclient
from tritonclient.utils import InferenceServerException

port, model = sys.argv[1], sys.argv[2]
c = httpclient.InferenceServerClient(url=f"127.0.0.1:{port}")
meta = c.get_model_metadata(model)
types = {i["name"]: i["datatype"] for i in meta["inputs"]}
assert types["color"] == "BYTES" and types["size"] == "FP32" and types["age"] == "FP32", types
out_name = meta["outputs"][0]["name"]


def request(size, color, age, binary):
    a = httpclient.InferInput("size", [len(size)], "FP32")
    a.set_data_from_numpy(np.array(size, dtype=np.float32), binary_data=binary)
    b = httpclient.InferInput("color", [len(color)], "BYTES")
    b.set_data_from_numpy(np.array([s.encode() for s in color], dtype=np.object_), binary_data=binary)
    d = httpclient.InferInput("age", [len(age), 1], "INT64")
    d.set_data_from_numpy(np.array(age, dtype=np.int64).reshape(-1, 1), binary_data=binary)
    out = httpclient.InferRequestedOutput(out_name, binary_data=binary)
    return c.infer(model, [a, b, d], outputs=[out]).as_numpy(out_name)


results = [request([2.5, 1.0], ["green", "red"], [35, 40], binary) for binary in (False, True)]
assert np.allclose(results[0], results[1]), results
try:
    request([2.5], ["purple"], [35], True)
    error = None
except InferenceServerException as e:
    error = e.message()
print(json.dumps({"y": results[0].tolist(), "error": error}))
