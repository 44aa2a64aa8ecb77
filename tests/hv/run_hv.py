#!/usr/bin/env python3
"""Runs our hypervisor (hv/) with its root partition and child and checks the architectural
results: the root's and the child's lines on the serial port (the child checks its own CPUID,
port-I/O and hypercall results and reports failures through its exit status, which the root
passes on), and, on hvsim, the exact intercept and hypercall counts of every demo scenario.

usage: run_hv.py qemu HYPERVISOR_ELF            (QEMU TCG with SVM and NPT: the AMD oracle)
       run_hv.py hvsim HVSIM --vendor intel|amd (hvsim demo)
Exit status: 0 pass, 1 fail, 77 skip (QEMU missing, or the vendor's extension not built yet).
"""
import argparse
import re
import shutil
import subprocess
import sys

SKIP = 77

# What the root and the children print (hv/root/main.c, hv/child/main.c, hv/child/hostile.c).
# The demo child: 1283 emulated accesses (5 scenario markers, 100 in the port-I/O loop, 1035 for
# the IDE read, 7 UART initialisation writes, 2 per character of its 68-character line: LSR
# read, THR write). The
# hostile child: its marker, 7 + 2 x 262 + 2 x 61 for its two lines (654); its 6000 pseudo-
# random attempts (4487 hypercalls, 743 messages to the root, 770 SynIC writes) get the same
# results on every vendor (they depend on our hypervisor only).
HOSTILE_STATUSES = {"success": 767, "invalid_hypercall_code": 2256, "invalid_hypercall_input": 1925,
                    "invalid_alignment": 61, "invalid_parameter": 43, "access_denied": 156,
                    "invalid_connection_id": 22}
SERIAL_LINES = [
    "root: hello (partition 1, VP 0)",
    "root: child partition 2 started",
    "child: hello from partition 2 VP 0 through the root's emulated UART",
    "root: child 2 finished with status 0 after 1283 emulated accesses, 0 messages, 50 events",
    "root: child partition 3 started",
    "child: partition 3 VP 0 made 4487 random hypercalls, 743 messages, 770 SynIC writes (44 refused); statuses: "
    + " ".join(f"{k}={v}" for k, v in HOSTILE_STATUSES.items()),
    "child: now writing to the root partition's code at 0x1010000",
    "root: child 3 stopped: access to GPA 0x1010000 outside its memory",
    "root: child 3 finished with status 256 after 654 emulated accesses, 707 messages, 0 events",
    "root: child partition 4 started",
    "child: partition 4: 2 VPs took the lock 40 times; long-spin notifications 39 + 38",
    "child: partition 4: 10 TLB shootdowns by hypercall, 0 seen by VP 1's handler",
    "root: child 4 finished with status 0 after 367 emulated accesses, 0 messages, 0 events",
    "root: child partition 5 started",
    "child: partition 5: 2 VPs took the lock 40 times; long-spin notifications 0 + 0",
    "child: partition 5: 10 TLB shootdowns by IPI, 10 seen by VP 1's handler",
    "root: child 5 finished with status 0 after 353 emulated accesses, 0 messages, 0 events",
    # One per message (1284 + 655 + 368 + 354 + 707) and event (50): AutoEOI SINTs.
    "root: 3418 SynIC interrupts",
    "root: the hostile child was stopped; the root's memory is intact",
]

# Exact VM exits per scenario, partition and reason (Intel names; AMD_REASONS maps them).
# Boot: the root's 7 WRMSRs (guest OS id, hypercall page, SIMP, SIEFP, SINT0, SINT1, SCONTROL),
# 51 hypercall invocations (per child, 4 of them: create, initialize, deposit 256 pages in 4
# invocations of at most 64 reps, map them in 4, finalize, create VP 0; VP 1 of the two spinlock
# children; then start the first child's VP),
# its first HLT. Every I/O access of a child costs the root one hypercall (complete the
# intercept) and one HLT; every event the child signals wakes the root once (one more HLT).
# Scenario 5 ends with the root starting the hostile child (one more hypercall and HLT).
EXITS = {
    0: {("root", "wrmsr"): 7, ("root", "vmcall"): 51, ("root", "hlt"): 1},
    1: {("child1", "io_instruction"): 1, ("child1", "cpuid"): 100, ("root", "vmcall"): 1, ("root", "hlt"): 1},
    2: {("child1", "io_instruction"): 101, ("root", "vmcall"): 101, ("root", "hlt"): 101},
    3: {("child1", "io_instruction"): 1, ("child1", "wrmsr"): 2, ("child1", "rdmsr"): 2, ("child1", "vmcall"): 58,
        ("root", "vmcall"): 1, ("root", "hlt"): 51},
    # IDE: 5 register writes and READ SECTORS, then per sector a status read and 256 data reads,
    # a last status read: 1035 port accesses (257 per sector) after the marker.
    4: {("child1", "io_instruction"): 1036, ("root", "vmcall"): 1036, ("root", "hlt"): 1036},
    5: {("child1", "io_instruction"): 145, ("root", "vmcall"): 145, ("root", "hlt"): 145},
    # The hostile child: 654 port accesses, 770 + 2 WRMSRs, 4487 + 743 hypercalls, the fault;
    # the root completes 654 accesses, wakes for 707 messages, then starts the spinlock child,
    # whose VP 0 (child3) reads CPUID and enables its hypercall page before its marker.
    6: {("child2", "io_instruction"): 654, ("child2", "wrmsr"): 772, ("child2", "vmcall"): 5230,
        ("child2", "ept_violation"): 1, ("root", "vmcall"): 655, ("root", "hlt"): 1362,
        ("child3", "cpuid"): 1, ("child3", "wrmsr"): 2},
}
AMD_REASONS = {"io_instruction": "ioio", "vmcall": "vmmcall", "rdmsr": "msr", "wrmsr": "msr",
               "ept_violation": "npf"}

HYPERCALLS = {
    0: {("root", "create_partition", "success"): 4, ("root", "initialize_partition", "success"): 4,
        ("root", "deposit_memory", "rep_continued"): 12, ("root", "deposit_memory", "success"): 4,
        ("root", "map_gpa_pages", "rep_continued"): 12, ("root", "map_gpa_pages", "success"): 4,
        ("root", "finalize_partition", "success"): 4, ("root", "create_vp", "success"): 6,
        ("root", "start_virtual_processor", "success"): 1},
    1: {("root", "hvsim_complete_intercept", "success"): 1},
    2: {("root", "hvsim_complete_intercept", "success"): 101},
    3: {("root", "hvsim_complete_intercept", "success"): 1, ("child1", "signal_event", "success"): 50,
        ("child1", "unknown_code", "invalid_hypercall_code"): 1,
        ("child1", "signal_event", "invalid_hypercall_input"): 1,
        ("child1", "initialize_partition", "access_denied"): 1,
        ("child1", "signal_event", "invalid_connection_id"): 1,
        ("child1", "flush_virtual_address_space", "success"): 1,
        ("child1", "flush_virtual_address_space_ex", "success"): 1,
        ("child1", "flush_virtual_address_list_ex", "success"): 1,
        ("child1", "flush_virtual_address_space_ex", "invalid_parameter"): 1},
    4: {("root", "hvsim_complete_intercept", "success"): 1036},
    5: {("root", "hvsim_complete_intercept", "success"): 144, ("root", "start_virtual_processor", "success"): 1},
}
# The spinlock scenarios differ by vendor where the hardware does: hvsim's VMX preset has PAUSE
# exiting but no PAUSE-loop exiting, so every PAUSE exits and the hypervisor counts 64 before it
# yields; SVM's pause filter lets 64 pass and exits once. With the enlightenment each of the 77
# long spins is 16 PAUSEs and one HvCallNotifyLongSpinWait (Intel: 16 PAUSE exits + 1 call;
# AMD: the call only); without it, 64 PAUSEs (Intel: 64 exits; AMD: 1). Then 10 TLB shootdowns
# to the other VP: 10 HvCallFlushVirtualAddressList calls, or per shootdown an ICR write, the
# target's EOI write and its HLT (30 exits and 10 injected interrupts); the child's two report
# lines are in those scenarios too. On AMD the contexts are root, child3/child4 (VP 0/1 of
# partition 4), child5/child6 (VP 0/1 of partition 5); child5's first exits (CPUID, the
# hypercall-page WRMSRs) come before its first marker, in scenario 9.
SPIN_EXITS = {
    "amd": {
        7: {("root", "hlt"): 41, ("root", "vmmcall"): 42, ("child3", "ioio"): 21, ("child3", "vmmcall"): 39,
            ("child4", "cpuid"): 1, ("child4", "hlt"): 1, ("child4", "ioio"): 20, ("child4", "vmmcall"): 38},
        8: {("root", "hlt"): 41, ("root", "vmmcall"): 42, ("child5", "ioio"): 21, ("child5", "pause"): 39,
            ("child6", "cpuid"): 1, ("child6", "hlt"): 1, ("child6", "ioio"): 20, ("child6", "pause"): 38},
        9: {("root", "hlt"): 327, ("root", "vmmcall"): 327, ("child3", "ioio"): 327, ("child3", "vmmcall"): 10,
            ("child5", "cpuid"): 1, ("child5", "msr"): 2},
        10: {("root", "hlt"): 312, ("root", "vmmcall"): 312, ("child5", "ioio"): 313, ("child5", "msr"): 10,
             ("child6", "hlt"): 10, ("child6", "msr"): 10},
    },
    "intel": {  # the same partitions; every PAUSE exits (the totals: 1232 and 4928 PAUSEs)
        7: {("root", "hlt"): 41, ("root", "vmcall"): 42, ("child3", "io_instruction"): 21, ("child3", "pause"): 624,
            ("child3", "vmcall"): 39, ("child4", "cpuid"): 1, ("child4", "hlt"): 1, ("child4", "io_instruction"): 20,
            ("child4", "pause"): 608, ("child4", "vmcall"): 38},
        8: {("root", "hlt"): 41, ("root", "vmcall"): 42, ("child5", "io_instruction"): 21, ("child5", "pause"): 2496,
            ("child6", "cpuid"): 1, ("child6", "hlt"): 1, ("child6", "io_instruction"): 20, ("child6", "pause"): 2432},
        9: {("root", "hlt"): 327, ("root", "vmcall"): 327, ("child3", "io_instruction"): 327, ("child3", "vmcall"): 10,
            ("child5", "cpuid"): 1, ("child5", "wrmsr"): 2},
        10: {("root", "hlt"): 312, ("root", "vmcall"): 312, ("child5", "io_instruction"): 313, ("child5", "wrmsr"): 10,
             ("child6", "hlt"): 10, ("child6", "wrmsr"): 10},
    },
}
SPIN_CALLS = {
    7: {("root", "hvsim_complete_intercept", "success"): 41, ("root", "start_virtual_processor", "success"): 1,
        ("child3", "notify_long_spin_wait", "success"): 39, ("child4", "notify_long_spin_wait", "success"): 38},
    8: {("root", "hvsim_complete_intercept", "success"): 41, ("root", "start_virtual_processor", "success"): 1},
    9: {("root", "hvsim_complete_intercept", "success"): 326, ("root", "start_virtual_processor", "success"): 1,
        ("child3", "flush_virtual_address_list", "success"): 10},
    10: {("root", "hvsim_complete_intercept", "success"): 312},
}

# Scenario 6: the root's completions exactly; the hostile child's calls by status must be what
# the child itself saw (the passive decoder agrees with the guest).
ROOT_CALLS_6 = {("root", "hvsim_complete_intercept", "success"): 654,
                ("root", "start_virtual_processor", "success"): 1}


def check_serial(out):
    # A line may follow the firmware's output on the same line (QEMU's SeaBIOS).
    lines = [l.rstrip("\r") for l in out.splitlines()]
    missing = [line for line in SERIAL_LINES if not any(l.endswith(line) for l in lines)]
    for line in missing:
        print(f"FAILED: the serial output lacks {line!r}")
    return not missing


def parse_demo(out):
    """{scenario: ({(partition, reason): n}, {(partition, call, status): n})} from `hvsim demo`."""
    scenarios, current = {}, None
    for line in out.splitlines():
        m = re.match(r"== scenario (\d+):", line)
        if m:
            current = scenarios.setdefault(int(m.group(1)), ({}, {}))
            continue
        if current is None:
            continue
        m = re.match(r"    (\S+)\s+(\S+) \((?:\d+|\*)\)\s+(\S+)\s+(\d+)$", line)
        if m:
            current[1][(m.group(1), m.group(2), m.group(3))] = int(m.group(4))
            continue
        m = re.match(r"    (\S+)\s+(\S+)\s+(\d+)$", line)
        if m:
            key = (m.group(1), m.group(2))
            current[0][key] = current[0].get(key, 0) + int(m.group(3))
    return scenarios


def expected_exits(vendor):
    if vendor == "intel":
        return EXITS
    result = {}
    for n, table in EXITS.items():
        result[n] = {}
        for (partition, reason), count in table.items():
            key = (partition, AMD_REASONS.get(reason, reason))
            result[n][key] = result[n].get(key, 0) + count
    return result


def run_hvsim(a):
    cmd = [a.program, "demo", "--vendor", a.vendor]
    print(" ".join(cmd))
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=a.timeout)
    print(p.stdout + p.stderr)
    if "is not in this build yet" in p.stderr:
        print(f"SKIPPED: hvsim has no {'VMX' if a.vendor == 'intel' else 'SVM'} yet")
        return SKIP
    ok = p.returncode == 0 and check_serial(p.stdout)
    got = parse_demo(p.stdout)
    m = re.search(r"guest contexts \(VMCS/VMCB\)\s+(\d+)", p.stdout)
    if m and int(m.group(1)) == 0:
        # The extension does not report its guest context (cpu::Virtualization::guest_context),
        # so the demo cannot tell partitions apart: compare the totals over partitions.
        print("NOTE: the extension reports no guest context: checking totals over partitions")
        got = {n: ({k: v for k, v in merge(e).items()}, merge(h)) for n, (e, h) in got.items()}
        expected_e = {n: merge(t) for n, t in expected_exits(a.vendor).items()}
        expected_h = {n: merge(t) for n, t in HYPERCALLS.items()}
        by_status = {}
        for (_, status), count in got.get(6, ({}, {}))[1].items():
            by_status[status] = by_status.get(status, 0) + count
        expected_status = dict(HOSTILE_STATUSES, success=HOSTILE_STATUSES["success"] + 655)
        if by_status != expected_status:
            print(f"FAILED: scenario 6 hypercalls by status {by_status} != expected {expected_status}")
            ok = False
    else:
        expected_e, expected_h = expected_exits(a.vendor), HYPERCALLS
    for n, table in expected_e.items():
        if got.get(n, ({}, {}))[0] != table:
            print(f"FAILED: scenario {n} exits {got.get(n, ({}, {}))[0]} != expected {table}")
            ok = False
    for n, table in expected_h.items():
        if got.get(n, ({}, {}))[1] != table:
            print(f"FAILED: scenario {n} hypercalls {got.get(n, ({}, {}))[1]} != expected {table}")
            ok = False
    if not (m and int(m.group(1)) == 0) and not check_hostile_calls(got.get(6, ({}, {}))[1]):
        ok = False
    ok = check_spin(a.vendor, got, merged=bool(m and int(m.group(1)) == 0)) and ok
    return 0 if ok else 1


def check_spin(vendor, got, merged):
    """Scenarios 7 to 10. Merged (no guest contexts): exits over partitions, calls by code only
    (a VP that yields in its hypercall is not the next one entered, so without contexts the
    decoder cannot pair the call with its result)."""
    ok = True
    for n in (7, 8, 9, 10):
        exits, calls = got.get(n, ({}, {}))
        want = SPIN_EXITS[vendor][n]
        if merged:
            calls = {}
            for (call, _), count in got.get(n, ({}, {}))[1].items():
                calls[call] = calls.get(call, 0) + count
            want_calls = {}
            for (_, call, _), count in SPIN_CALLS[n].items():
                want_calls[call] = want_calls.get(call, 0) + count
        else:
            want_calls = SPIN_CALLS[n]
        if exits != want or calls != want_calls:
            print(f"FAILED: scenario {n}: exits {exits} (expected {want}), calls {calls} (expected {want_calls})")
            ok = False
    return ok


def merge(table):
    """A table keyed (partition, ...) summed over partitions, keyed by the rest."""
    out = {}
    for key, count in table.items():
        out[key[1:]] = out.get(key[1:], 0) + count
    return out


def check_hostile_calls(calls6):
    root6 = {k: v for k, v in calls6.items() if k[0] == "root"}
    hostile = {}
    for (partition, _, status), count in calls6.items():
        if partition == "child2":
            hostile[status] = hostile.get(status, 0) + count
    if root6 != ROOT_CALLS_6 or hostile != HOSTILE_STATUSES:
        print(f"FAILED: scenario 6 hypercalls: root {root6} (expected {ROOT_CALLS_6}), "
              f"hostile child by status {hostile} (expected {HOSTILE_STATUSES})")
        return False
    return True


def run_qemu(a):
    qemu = shutil.which("qemu-system-x86_64")
    if qemu is None:
        print("SKIP: qemu-system-x86_64 not found (Debian package qemu-system-x86)")
        return SKIP
    cmd = [qemu, "-accel", "tcg", "-cpu", "qemu64,+svm,+npt", "-m", "128M", "-nographic", "-no-reboot",
           "-kernel", a.program, "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04",
           "-serial", "stdio", "-display", "none", "-monitor", "none"]
    print(" ".join(cmd))
    p = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=a.timeout)
    out = p.stdout.decode("utf-8", "replace")
    print(out)
    ok = check_serial(out)
    if p.returncode != 1:
        print(f"FAILED: exit status {p.returncode} (1 means the child passed its checks)")
        ok = False
    return 0 if ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("runner", choices=["qemu", "hvsim"])
    ap.add_argument("program")
    ap.add_argument("--vendor", default="intel", choices=["intel", "amd"])
    ap.add_argument("--timeout", type=float, default=120.0)
    a = ap.parse_args()
    return run_qemu(a) if a.runner == "qemu" else run_hvsim(a)


if __name__ == "__main__":
    sys.exit(main())
