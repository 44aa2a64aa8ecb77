#!/usr/bin/env python3
"""Runs a virt test image (multiboot ELF32) on QEMU TCG and judges it by its exit status and
output: the program writes 0 to the debug-exit port when every test passed (QEMU exits with
(value << 1) | 1 = 1), 77 when none failed but some were skipped, and prints one line per test.

usage: run_qemu.py IMAGE [--cpu MODEL] [--qemu PROGRAM] [--timeout SECONDS]
Exit status: 0 pass, 1 fail, 77 skip (QEMU missing, or the program skipped its tests).
"""
import argparse
import shutil
import subprocess
import sys

SKIP = 77


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("image")
    ap.add_argument("--cpu", default="qemu64,+svm")
    ap.add_argument("--qemu", default="qemu-system-x86_64")
    ap.add_argument("--timeout", type=float, default=30.0)
    a = ap.parse_args()

    qemu = shutil.which(a.qemu)
    if qemu is None:
        print(f"SKIP: {a.qemu} not found (Debian package qemu-system-x86); cannot run {a.image}")
        return SKIP
    cmd = [qemu, "-accel", "tcg", "-cpu", a.cpu, "-m", "128M", "-nographic", "-no-reboot",
           "-kernel", a.image, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-serial", "stdio", "-display", "none", "-monitor", "none"]
    print(" ".join(cmd))
    try:
        p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
        status, out, err = p.returncode, p.stdout, p.stderr
    except subprocess.TimeoutExpired as e:
        status, out, err = None, e.stdout or b"", e.stderr or b""
    out = out.decode("utf-8", "replace")
    err = err.decode("utf-8", "replace")
    print(out, end="" if out.endswith("\n") else "\n")
    if err.strip():
        print("--- qemu stderr ---\n" + err)
    if status is None:
        print(f"FAILED: no exit within {a.timeout:g} s")
        return 1
    if status == (SKIP << 1) | 1:
        print("SKIPPED: the program skipped its tests (see the SKIP lines)")
        return SKIP
    if status != 1 or "SUMMARY:" not in out or "\nFAIL " in "\n" + out:
        print(f"FAILED: exit status {status} (1 means the program reported success)")
        return 1
    print("passed on QEMU TCG")
    return 0


if __name__ == "__main__":
    sys.exit(main())
