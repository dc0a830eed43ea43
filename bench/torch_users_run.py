"""The users' run in PyTorch on the CPU: the yardstick for `bench/compare --torch`.

The book's chapter-4 TwoLayerNet (784-50-10, sigmoid) as a PyTorch user would write it:
nn.Linear layers with the book's initialisation (W = 0.01·randn, b = 0), softmax with
cross-entropy (nn.CrossEntropyLoss: the batch's mean, as the book's SoftmaxWithLoss), SGD lr 0.1
(torch.optim.SGD), float32 throughout; and ch04/train_neuralnet.py's loop: 10,000 iterations of
batch 100 drawn with np.random.choice (with replacement, np.random.seed(0)), the accuracy on the
whole training (60,000) and test (10,000) sets at iteration 0 and every epoch (600 iterations:
17 marks), each set in one forward pass as the book's `accuracy` does. The loss recorded is the
one of the update's own forward pass, as scratchnet records it (the book's script computes it
again after the update). MNIST is read from the IDX files in the folder `scratchnet fetch`
prints.

    python torch_users_run.py DIR [--threads 1] [--iters 10000]     # prints JSON

`torch.set_num_threads(T)` sets the intra-op threads (bench/compare also sets OMP_NUM_THREADS
and MKL_NUM_THREADS). The JSON's times are taken inside the script, after `import torch`:
`load_s` (reading the four files), `setup_s` (the network, the optimizer — whose first use
imports more of torch, about a second —, the loss), `train_s` (the updates: drawing the batch,
forward, backward, SGD), `eval_s` (the 17 marks' accuracies), `total_s` (all four); the
accuracies are the last mark's.
"""

import argparse
import json
import time

import numpy as np
import torch
from torch import nn

from torch_convnet import load_mnist


def two_layer_net(input_size=784, hidden_size=50, output_size=10, weight_init_std=0.01):
    """ch04/two_layer_net.py: W = weight_init_std · randn, b = 0, sigmoid between."""
    net = nn.Sequential(nn.Linear(input_size, hidden_size), nn.Sigmoid(),
                        nn.Linear(hidden_size, output_size))
    with torch.no_grad():
        for m in (net[0], net[2]):
            m.weight.normal_(0.0, weight_init_std)
            m.bias.zero_()
    return net


def accuracy(net, x, t):
    with torch.no_grad():
        return (net(x).argmax(1) == t).sum().item() / x.shape[0]


def train(directory, threads, iters_num=10000, batch_size=100, learning_rate=0.1, seed=0):
    torch.set_num_threads(threads)
    start = time.perf_counter()
    (x_train, t_train), (x_test, t_test) = load_mnist(directory)
    x_train, x_test = x_train.reshape(-1, 784), x_test.reshape(-1, 784)
    load_s = time.perf_counter() - start
    t0 = time.perf_counter()
    np.random.seed(seed)
    torch.manual_seed(seed)
    net = two_layer_net()
    optimizer = torch.optim.SGD(net.parameters(), lr=learning_rate)
    loss_fn = nn.CrossEntropyLoss()
    setup_s = time.perf_counter() - t0
    train_size = x_train.shape[0]
    iter_per_epoch = max(train_size / batch_size, 1)
    train_s = eval_s = 0.0
    loss = train_acc = test_acc = None
    marks = 0
    for i in range(iters_num):
        t0 = time.perf_counter()
        batch_mask = torch.from_numpy(np.random.choice(train_size, batch_size))
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        optimizer.zero_grad()
        batch_loss = loss_fn(net(x_batch), t_batch)
        batch_loss.backward()
        optimizer.step()
        loss = batch_loss.item()
        t1 = time.perf_counter()
        train_s += t1 - t0
        if i % iter_per_epoch == 0:
            train_acc = accuracy(net, x_train, t_train)
            test_acc = accuracy(net, x_test, t_test)
            marks += 1
            eval_s += time.perf_counter() - t1
    return {
        "threads": threads, "torch": torch.__version__, "iterations": iters_num, "marks": marks,
        "load_s": load_s, "setup_s": setup_s, "train_s": train_s, "eval_s": eval_s,
        "total_s": time.perf_counter() - start,
        "loss": loss, "train_acc": train_acc, "test_acc": test_acc,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dir", help="the folder holding MNIST's four IDX files")
    parser.add_argument("--threads", type=int, default=1, help="torch.set_num_threads")
    parser.add_argument("--iters", type=int, default=10000, help="updates (the book's 10,000)")
    args = parser.parse_args()
    print(json.dumps(train(args.dir, args.threads, iters_num=args.iters)))


if __name__ == "__main__":
    main()
