"""The users' run in NumPy, as the book writes it: the yardstick for `bench/compare`.

The book's chapter-4 TwoLayerNet (784-50-10, sigmoid, float64 weights), its `gradient`
(backprop) and `numerical_gradient`, and `train_neuralnet.py`'s loop: 10000 iterations of
batch 100, learning rate 0.1, accuracy on the whole training and test sets every epoch.
MNIST is read from the IDX files in the folder `scratchnet fetch` prints.

    python numpy_reference.py run DIR             # the users' run; prints JSON
    python numpy_reference.py samples DIR BATCH   # training samples/s at one batch size
    python numpy_reference.py numgrad DIR [K]     # numerical_gradient on 100 samples, timed on
                                                  # K parameters and extrapolated to all
    python numpy_reference.py peak                # large float32 GEMM, GFLOP/s
    python numpy_reference.py info                # BLAS library, kernel and threads
"""

import json
import os
import sys
import time

import numpy as np


# --- common/functions.py --------------------------------------------------------------------
def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


# --- common/gradient.py ---------------------------------------------------------------------
def numerical_gradient(f, x, limit=None):
    """The book's numerical_gradient; `limit` stops after that many elements (for timing)."""
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    done = 0
    while not it.finished:
        if limit is not None and done >= limit:
            break
        idx = it.multi_index
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
        it.iternext()
        done += 1
    return grad


# --- ch04/two_layer_net.py ------------------------------------------------------------------
class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        rng = np.random.RandomState(seed)
        self.params = {
            "W1": weight_init_std * rng.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        return softmax(a2)

    def loss(self, x, t):
        y = self.predict(x)
        return cross_entropy_error(y, t)

    def accuracy(self, x, t):
        y = self.predict(x)
        y = np.argmax(y, axis=1)
        t = np.argmax(t, axis=1)
        return np.sum(y == t) / float(x.shape[0])

    def numerical_gradient(self, x, t, limit=None):
        loss_W = lambda W: self.loss(x, t)
        return {k: numerical_gradient(loss_W, self.params[k], limit) for k in ("W1", "b1", "W2", "b2")}

    def gradient(self, x, t):
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads = {}
        batch_num = x.shape[0]
        # forward
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        # backward
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads


# --- dataset/mnist.py (normalize=True, flatten=True, one_hot_label=True) -------------------
def load_mnist(directory):
    def images(name):
        with open(os.path.join(directory, name), "rb") as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        return data.reshape(-1, 784).astype(np.float32) / 255.0

    def labels(name):
        with open(os.path.join(directory, name), "rb") as f:
            t = np.frombuffer(f.read(), np.uint8, offset=8)
        one_hot = np.zeros((t.size, 10))
        one_hot[np.arange(t.size), t] = 1
        return one_hot

    return (
        (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")),
        (images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")),
    )


# --- ch04/train_neuralnet.py ----------------------------------------------------------------
def train(directory, iters_num=10000, batch_size=100, learning_rate=0.1, evaluate=True):
    (x_train, t_train), (x_test, t_test) = load_mnist(directory)
    start = time.perf_counter()
    np.random.seed(0)
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10)
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)
    train_s = eval_s = 0.0
    train_acc = test_acc = None
    for i in range(iters_num):
        t0 = time.perf_counter()
        batch_mask = np.random.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        network.loss(x_batch, t_batch)
        t1 = time.perf_counter()
        train_s += t1 - t0
        if evaluate and i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            eval_s += time.perf_counter() - t1
    return {
        "total_s": time.perf_counter() - start,
        "train_s": train_s,
        "eval_s": eval_s,
        "samples_per_s": iters_num * batch_size / train_s,
        "train_acc": train_acc,
        "test_acc": test_acc,
    }


def samples(directory, batch_size):
    # About 1.5 s of updates, no evaluation.
    iters = max(10, int(1.5 * {1: 4600, 10: 30000}.get(batch_size, 100000) / batch_size))
    r = train(directory, iters_num=iters, batch_size=batch_size, evaluate=False)
    return {"batch_size": batch_size, "iters": iters, "samples_per_s": r["samples_per_s"]}


def numgrad(directory, limit):
    """The book's numerical_gradient on 100 training images, timed on the first `limit` elements
    of W1 (every element costs the same two forward passes) and extrapolated to all 39,760."""
    (x_train, t_train), _ = load_mnist(directory)
    x, t = x_train[:100], t_train[:100]
    network = TwoLayerNet(784, 50, 10)
    loss_W = lambda W: network.loss(x, t)
    start = time.perf_counter()
    numerical_gradient(loss_W, network.params["W1"], limit)
    per_element = (time.perf_counter() - start) / limit
    total = sum(p.size for p in network.params.values())
    return {"elements_timed": limit, "per_element_s": per_element, "parameters": total,
            "estimated_total_s": per_element * total}


def peak():
    n = 4096
    a = np.random.rand(n, n).astype(np.float32)
    b = np.random.rand(n, n).astype(np.float32)
    a @ b
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t0)
    return {"n": n, "gflops": 2 * n**3 / best / 1e9}


def info():
    try:
        from threadpoolctl import threadpool_info
        pools = threadpool_info()
    except ImportError:
        pools = []
    return {"numpy": np.__version__, "pools": [
        {k: p.get(k) for k in ("internal_api", "version", "architecture", "num_threads")} for p in pools
    ], "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE")}


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "run":
        out = train(sys.argv[2])
    elif cmd == "samples":
        out = samples(sys.argv[2], int(sys.argv[3]))
    elif cmd == "numgrad":
        out = numgrad(sys.argv[2], int(sys.argv[3]) if len(sys.argv) > 3 else 400)
    elif cmd == "peak":
        out = peak()
    elif cmd == "info":
        out = info()
    else:
        sys.exit(f"unknown command {cmd}")
    print(json.dumps(out))
