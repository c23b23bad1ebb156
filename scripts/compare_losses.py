#!/usr/bin/python3
"""Compares two losses.csv files (e.g. `torchmomentum train` against scripts/chapter_momentum.py).

Prints, per optimizer column, the largest per-step absolute and relative loss difference and the step
where it occurs. Exits 1 if the files do not have the same header and steps.
Run:  python3 scripts/compare_losses.py runs/csharp/losses.csv runs/pytorch/losses.csv
"""
import csv
import sys


def read(path):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    return rows[0], rows[1:]


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    header_a, rows_a = read(sys.argv[1])
    header_b, rows_b = read(sys.argv[2])
    if header_a != header_b or [r[:2] for r in rows_a] != [r[:2] for r in rows_b]:
        print("the files differ in header or steps", file=sys.stderr)
        sys.exit(1)
    print("%-12s %14s %14s %6s" % ("column", "max abs diff", "max rel diff", "step"))
    for c in range(2, len(header_a)):
        diffs = [(abs(float(a[c]) - float(b[c])), abs(float(a[c]) - float(b[c])) / max(abs(float(b[c])), 1e-30), int(a[0]))
                 for a, b in zip(rows_a, rows_b)]
        worst = max(diffs)
        print("%-12s %14.3g %14.3g %6d" % (header_a[c], worst[0], max(d[1] for d in diffs), worst[2]))


if __name__ == "__main__":
    main()
