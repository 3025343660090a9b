"""Writes a 64-128-64-10 dense MLP (seeded) as safetensors, the layout mlw serve loads as a graph model (Sources/ServeModels/DenseFile.swift)."""
import sys
import numpy as np
from safetensors.numpy import save_file

rng = np.random.default_rng(0)
sizes = [64, 128, 64, 10]
tensors = {}
for i in range(3):
    tensors[f"layer.{i}.weight"] = (rng.standard_normal((sizes[i], sizes[i + 1])) / np.sqrt(sizes[i])).astype(np.float32)
    tensors[f"layer.{i}.bias"] = (rng.standard_normal(sizes[i + 1]) * 0.1).astype(np.float32)
save_file(tensors, sys.argv[1], metadata={"mlw.kind": "dense", "mlw.activations": "relu,relu,softmax"})
