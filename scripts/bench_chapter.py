#!/usr/bin/python3
"""The chapter's workload in PyTorch, timed: the anchor for `torchmomentum`'s benchmark figure a.

One net, torch.optim.SGD(lr=0.01, momentum=0.8), the chapter's DataLoader (batch 32, shuffled) over 1000
samples for 12 epochs (384 steps), the loop of section 5.6. Times only the training loop, repeats it and
prints the median steps per second as JSON.
Needs Debian's python3-torch: apt-get install python3-torch
Run:  /usr/bin/python3 scripts/bench_chapter.py --threads 1
"""
import argparse
import json
import statistics
import time

import torch
import torch.utils.data as Data

from chapter_momentum import Net, chapter_data  # the chapter's network and data, defined once


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=15)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    x, y = chapter_data(1000)
    loader = Data.DataLoader(dataset=Data.TensorDataset(x, y), batch_size=32, shuffle=True)
    net = Net()
    opt = torch.optim.SGD(net.parameters(), lr=0.01, momentum=0.8)
    loss_func = torch.nn.MSELoss()

    rates = []
    for _ in range(args.repeats):
        steps = 0
        start = time.perf_counter()
        for epoch in range(12):
            for batch_x, batch_y in loader:
                loss = loss_func(net(batch_x), batch_y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                loss.item()
                steps += 1
        rates.append(steps / (time.perf_counter() - start))
    print(json.dumps({"steps_per_second": statistics.median(rates), "threads": torch.get_num_threads(),
                      "torch": torch.__version__, "runs": len(rates)}))


if __name__ == "__main__":
    main()
