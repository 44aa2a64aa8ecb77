#!/usr/bin/env python3
"""Boots Debian's linux-image-amd64 bzImage on hvsim through the 64-bit boot protocol and
records how far it gets: the decompressor's messages, the "Linux version" banner, and the
number of guest instructions to each. Exit 77 (meson: skipped) when no kernel is present.

usage: boot_linux.py HVSIM KERNEL [--max-insns N] [--report FILE]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

# Debian builds without CONFIG_X86_VERBOSE_BOOTUP, so its decompressor prints only warnings;
# with "nokaslr" on the command line it prints the KASLR notice from its own serial console
# (arch/x86/boot/compressed/kaslr.c) before decompressing. The banner comes from start_kernel,
# replayed by the early serial console.
MILESTONES = [
    ("decompressor", "KASLR disabled: 'nokaslr' on cmdline."),
    ("banner", "Linux version"),
    ("memory_map", "BIOS-e820: [mem 0x0000000000100000"),
]
# Recorded, not required: how far the rest of the boot gets (with no initrd and no disk the
# furthest point is the root-mount panic at the end of kernel_init).
FURTHER = [
    ("timer_interrupts", "clocksource: Switched to clocksource"),
    ("kernel_init_done", "VFS: Unable to mount root fs"),
]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("hvsim")
    ap.add_argument("kernel")
    ap.add_argument("--max-insns", type=int, default=8_000_000_000)
    ap.add_argument("--report")
    a = ap.parse_args()
    if not os.path.exists(a.kernel):
        print(f"SKIP: no kernel at {a.kernel} (.ci/setup.sh extracts Debian's linux-image-amd64 there)")
        return 77
    with tempfile.TemporaryDirectory() as tmp:
        serial = os.path.join(tmp, "serial.txt")
        trace = os.path.join(tmp, "stats.json")
        cmd = [a.hvsim, "run", "--kernel", a.kernel, "--mem", "256M", "--append",
               "console=ttyS0 earlyprintk=serial,ttyS0,115200 nokaslr", "--serial", serial,
               "--max-insns", str(a.max_insns), "--stats", trace]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        out = open(serial, errors="replace").read() if os.path.exists(serial) else ""
        stats = json.load(open(trace)) if os.path.exists(trace) else {}
    reached = {name: (text in out) for name, text in MILESTONES}
    further = {name: (text in out) for name, text in FURTHER}
    report = {
        "kernel": a.kernel,
        "instructions": stats.get("instructions"),
        "stop_reason": stats.get("stop_reason"),
        "message": stats.get("message"),
        "milestones": reached,
        "further": further,
        "unimplemented": (stats.get("counters") or {}).get("cpu0.unimplemented"),
        "serial_lines": out.count("\n"),
        "last_line": out.strip().splitlines()[-1] if out.strip() else "",
        "serial_tail": out[-2000:],
        "stderr_tail": p.stderr[-2000:],
    }
    print(json.dumps(report, indent=2))
    if a.report:
        with open(a.report, "w") as f:
            json.dump(report, f, indent=2)
    missing = [name for name, ok in reached.items() if not ok]
    if missing:
        print("FAILED: not reached:", ", ".join(missing))
        return 1
    print(f"ok: decompressor messages and the banner after {report['instructions']} instructions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
