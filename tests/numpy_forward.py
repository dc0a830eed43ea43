"""The book's TwoLayerNet forward pass in NumPy over weights saved by scratchnet.

usage: numpy_forward.py MODEL.safetensors MNIST_DIR  -> prints the test accuracy
"""
import sys
import numpy as np
from safetensors.numpy import load_file

p = load_file(sys.argv[1])
d = sys.argv[2]
x = np.fromfile(f"{d}/t10k-images-idx3-ubyte", np.uint8, offset=16).reshape(-1, 784) / np.float32(255.0)
t = np.fromfile(f"{d}/t10k-labels-idx1-ubyte", np.uint8, offset=8)
z1 = 1 / (1 + np.exp(-(x.astype(np.float32) @ p["W1"] + p["b1"])))
y = z1 @ p["W2"] + p["b2"]
print(np.mean(np.argmax(y, axis=1) == t))
