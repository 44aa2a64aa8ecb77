#!/usr/bin/env python3
"""Runs hvsim on a guest and checks its exit status and what it printed.

usage: run_guest.py HVSIM --status N [--stdout TEXT] [--stderr TEXT] -- HVSIM-ARGS...
"""
import argparse
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hvsim")
    ap.add_argument("--status", type=int, required=True)
    ap.add_argument("--stdout", action="append", default=[])
    ap.add_argument("--stderr", action="append", default=[])
    argv = sys.argv[1:]
    split = argv.index("--") if "--" in argv else len(argv)
    a = ap.parse_args(argv[:split])
    args = argv[split + 1:]
    p = subprocess.run([a.hvsim] + args, capture_output=True, text=True, timeout=120)
    problems = []
    if p.returncode != a.status:
        problems.append(f"exit status {p.returncode}, expected {a.status}")
    problems += [f"stdout lacks {t!r}" for t in a.stdout if t not in p.stdout]
    problems += [f"stderr lacks {t!r}" for t in a.stderr if t not in p.stderr]
    if problems:
        print("FAILED:", "; ".join(problems))
        print("--- stdout ---\n" + p.stdout + "--- stderr ---\n" + p.stderr)
        return 1
    print("ok:", " ".join(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
