#!/usr/bin/env python3
"""QEMU oracle for the system-architecture test kernel: boots it under TCG with the given
number of CPUs, then checks the exit status (debug-exit 0 -> 1), the expected lines
(expected.txt) and that no line reports FAIL.

usage: run_qemu.py KERNEL --cpus N [--qemu PROGRAM] [--machine q35|pc] [--timeout SECONDS]
                   [--expected FILE]
Exit status: 0 pass, 1 fail, 77 skip (qemu-system-x86_64 not installed; meson shows SKIP).
"""
import argparse
import os
import shutil
import subprocess
import sys

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))


def expected_lines(path, cpus):
    """Entries of FILE that apply to this CPU count ("1:" and "2:" prefixes)."""
    lines = []
    with open(path, encoding="utf-8") as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            if line[:2] in ("1:", "2:"):
                if (line[0] == "2") != (cpus >= 2):
                    continue
                line = line[2:].lstrip()
            lines.append(line)
    return lines


def qemu_command(qemu, kernel, cpus, machine):
    return [qemu, "-machine", machine, "-cpu", "max", "-accel", "tcg", "-smp", str(cpus),
            "-m", "128M", "-nographic", "-no-reboot", "-kernel", kernel, "-append", f"cpus={cpus}",
            "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-serial", "stdio",
            "-display", "none", "-monitor", "none"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("kernel")
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--machine", default="q35")
    ap.add_argument("--timeout", type=float, default=60.0)
    ap.add_argument("--expected", default=os.path.join(HERE, "expected.txt"))
    a = ap.parse_args()

    qemu = shutil.which(a.qemu)
    if qemu is None:
        print(f"SKIP: {a.qemu} not found (Debian package qemu-system-x86); the QEMU oracle cannot run")
        return SKIP
    cmd = qemu_command(qemu, a.kernel, a.cpus, a.machine)
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    # The firmware writes to COM1 first; the kernel's output starts at its banner.
    start = out.find("kernel:")
    kernel_out = out[start:] if start >= 0 else out
    lines = kernel_out.splitlines()

    problems = []
    if status is None:
        problems.append(f"no exit within {a.timeout:g} s")
    elif status != 1:
        problems.append(f"exit status {status}, expected 1 (the kernel wrote 0 to port 0xf4)")
    problems += [f"line {line!r}" for line in lines if line.startswith("FAIL")]
    problems += [f"missing {want!r}" for want in expected_lines(a.expected, a.cpus)
                 if not any(want in line for line in lines)]
    print(" ".join(cmd))
    print(kernel_out, end="" if kernel_out.endswith("\n") else "\n")
    if problems:
        print("FAILED: " + "; ".join(problems))
        if err.strip():
            print("--- qemu stderr ---\n" + err)
        return 1
    print(f"passed on QEMU with {a.cpus} CPU(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
