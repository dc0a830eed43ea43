"""The book's SimpleConvNet and DeepConvNet in PyTorch on the CPU: the yardstick for
`bench/compare --convnets`.

The same networks, initialisation and settings as chapters 7 and 8 (and `scratchnet train
--net simple-convnet | deep-convnet`): SimpleConvNet conv 30×5×5 → ReLU → pool 2 → affine 100
→ ReLU → affine 10, weights 0.01·randn; DeepConvNet six 3×3 convolutions 16-16-32-32-64-64
(the fourth with pad 2), three poolings, affine 50, Dropout 0.5 twice, He initialisation
√(2 / fan_in); biases 0; Adam lr 0.001 (β 0.9, 0.999, ε 1e-7 as the book's Adam adds it). The
loop is the book's Trainer (common/trainer.py): batches of 100 drawn with replacement, the
accuracy on the first 1,000 training and test images at iteration 0 and every epoch, in batches
of 100 in inference mode, and after the last iteration the whole test set. The loss recorded is
the one of the update's own forward pass, as scratchnet records it; `--recompute-loss` adds the
book's second forward pass on the same batch after the update (a third more work per update).

    python torch_convnet.py DIR --net simple-convnet|deep-convnet [--epochs 1] [--iters N]
                            [--threads 1] [--eval-samples 1000] [--recompute-loss]
                                                                    # prints JSON
    python torch_convnet.py version                                 # torch's version, JSON

MNIST is read from the IDX files in the folder `scratchnet fetch` prints. `--iters N` stops
after N updates (an epoch is 600); the JSON's `updates_per_epoch_s` is the time of an epoch's
600 updates from the mean time per update (updates only: drawing the batch, forward, backward,
Adam), `eval_per_mark_s` one mark's evaluation.
"""

import argparse
import json
import os
import time

import numpy as np
import torch
from torch import nn


def load_mnist(directory):
    def images(name):
        with open(os.path.join(directory, name), "rb") as f:
            data = np.frombuffer(f.read(), np.uint8, offset=16)
        return torch.from_numpy(data.reshape(-1, 1, 28, 28).astype(np.float32) / 255.0)

    def labels(name):
        with open(os.path.join(directory, name), "rb") as f:
            return torch.from_numpy(np.frombuffer(f.read(), np.uint8, offset=8).astype(np.int64))

    return (
        (images("train-images-idx3-ubyte"), labels("train-labels-idx1-ubyte")),
        (images("t10k-images-idx3-ubyte"), labels("t10k-labels-idx1-ubyte")),
    )


def simple_convnet():
    """ch07/simple_convnet.py: weight_init_std 0.01."""
    net = nn.Sequential(
        nn.Conv2d(1, 30, 5), nn.ReLU(), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(30 * 12 * 12, 100), nn.ReLU(), nn.Linear(100, 10),
    )
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                m.weight.normal_(0.0, 0.01)
                m.bias.zero_()
    return net


def deep_convnet():
    """ch08/deep_convnet.py: He initialisation √(2 / fan_in), fan_in = C·FH·FW or the inputs."""
    def conv(c_in, c_out, pad):
        return [nn.Conv2d(c_in, c_out, 3, padding=pad), nn.ReLU()]

    net = nn.Sequential(
        *conv(1, 16, 1), *conv(16, 16, 1), nn.MaxPool2d(2, 2),
        *conv(16, 32, 1), *conv(32, 32, 2), nn.MaxPool2d(2, 2),
        *conv(32, 64, 1), *conv(64, 64, 1), nn.MaxPool2d(2, 2), nn.Flatten(),
        nn.Linear(64 * 4 * 4, 50), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(50, 10), nn.Dropout(0.5),
    )
    with torch.no_grad():
        for m in net:
            if isinstance(m, (nn.Conv2d, nn.Linear)):
                fan_in = m.weight[0].numel()
                m.weight.normal_(0.0, (2.0 / fan_in) ** 0.5)
                m.bias.zero_()
    return net


NETS = {"simple-convnet": simple_convnet, "deep-convnet": deep_convnet}


def accuracy(net, x, t, batch_size=100):
    """The book's accuracy: in batches of 100, inference mode (Dropout scales by 1 − ratio;
    PyTorch's inverted dropout scales in training instead, the same expectation)."""
    net.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, x.shape[0], batch_size):
            correct += (net(x[i:i + batch_size]).argmax(1) == t[i:i + batch_size]).sum().item()
    net.train()
    return correct / x.shape[0]


def train(directory, net_name, epochs, iters, threads, eval_samples, recompute_loss, seed=0):
    torch.set_num_threads(threads)
    (x_train, t_train), (x_test, t_test) = load_mnist(directory)
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    net = NETS[net_name]()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.001, betas=(0.9, 0.999), eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    train_size, batch_size = x_train.shape[0], 100
    iter_per_epoch = max(train_size // batch_size, 1)
    max_iter = iters if iters is not None else epochs * iter_per_epoch
    n = eval_samples or train_size
    marks = []
    train_s = eval_s = 0.0
    start = time.perf_counter()
    for i in range(max_iter):
        t0 = time.perf_counter()
        mask = torch.from_numpy(rng.choice(train_size, batch_size))
        x_batch, t_batch = x_train[mask], t_train[mask]
        optimizer.zero_grad(set_to_none=False)
        loss = loss_fn(net(x_batch), t_batch)
        loss.backward()
        optimizer.step()
        if recompute_loss:
            with torch.no_grad():
                loss = loss_fn(net(x_batch), t_batch)  # the book's second forward pass
        loss.item()
        t1 = time.perf_counter()
        train_s += t1 - t0
        if i % iter_per_epoch == 0:
            marks.append({
                "epoch": i // iter_per_epoch,
                "train_acc": accuracy(net, x_train[:n], t_train[:n]),
                "test_acc": accuracy(net, x_test[:n], t_test[:n]),
            })
            eval_s += time.perf_counter() - t1
    t0 = time.perf_counter()
    final_test_acc = accuracy(net, x_test, t_test)
    final_s = time.perf_counter() - t0
    total_s = time.perf_counter() - start
    per_update = train_s / max_iter
    return {
        "net": net_name, "threads": threads, "iterations": max_iter,
        "recompute_loss": recompute_loss, "torch": torch.__version__,
        "total_s": total_s, "train_s": train_s, "eval_s": eval_s, "final_eval_s": final_s,
        # An epoch's updates (600), and one mark's evaluation (2 × eval_samples images).
        "updates_per_epoch_s": per_update * iter_per_epoch,
        "eval_per_mark_s": eval_s / max(len(marks), 1),
        "marks": marks, "final_test_acc": final_test_acc,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir")
    parser.add_argument("--net", choices=sorted(NETS), default="simple-convnet")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--iters", type=int, help="updates to time (default: every epoch's)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--eval-samples", type=int, default=1000)
    parser.add_argument("--recompute-loss", action="store_true",
                        help="the book's second forward pass after each update")
    args = parser.parse_args()
    if args.dir == "version":
        print(json.dumps({"torch": torch.__version__,
                          "cpu_capability": torch.backends.cpu.get_cpu_capability()}))
        return
    print(json.dumps(train(args.dir, args.net, args.epochs, args.iters, args.threads,
                           args.eval_samples, args.recompute_loss)))


if __name__ == "__main__":
    main()
