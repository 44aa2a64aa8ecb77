#!/usr/bin/env python3
"""System-level differential test: random scenarios (gen_scenarios.py) run on hvsim, KVM
(kvm_runner) and QEMU TCG; the records are compared pairwise and every disagreement must match
a verdict in verdicts.toml (each decided by the SDM/APM). Context: test driver, Python stdlib.

    run_diff.py --pair hvsim:kvm --count 2000 [--seed S] [--hvsim PATH] [--kvm-runner PATH]

Exit status: 0 all disagreements explained; 1 unexplained disagreements (or, with --strict,
known hvsim bugs); 77 an implementation of a pair is unavailable (meson's SKIP, never a pass).
"""
import argparse
import concurrent.futures
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from collections import Counter, defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
SKIP = 77
MEM = '64M'


# ---- building a batch ----

def build_batch(args, first, count, workdir):
    base = os.path.join(workdir, f'batch_{first:06d}')
    asm, man, obj, elf, binf = base + '.S', base + '.json', base + '.o', base + '.elf', base + '.bin'
    subprocess.run([sys.executable, os.path.join(HERE, 'gen_scenarios.py'), '--seed', str(args.seed), '--first', str(first),
                    '--count', str(count), '--kinds', args.kinds, '--asm', asm, '--manifest', man], check=True)
    subprocess.run([args.cc, '-c', '-I', HERE, asm, '-o', obj], check=True)
    subprocess.run([args.ld, '-T', os.path.join(HERE, 'link.ld'), '-nostdlib', '--build-id=none',
                    '--no-warn-rwx-segments', obj, '-o', elf], check=True)
    subprocess.run([args.objcopy, '-O', 'binary', elf, binf], check=True)
    with open(man) as f:
        manifest = json.load(f)
    return binf, elf, manifest


# ---- running one implementation (restarting after a scenario that stops the machine) ----

def command(impl, args, image, start, out_path):
    append = f'start={start}'
    if impl == 'hvsim':
        return [args.hvsim, 'run', image, '--vendor', 'amd', '--mem', MEM, '--serial', out_path,
                '--append', append, '--max-insns', str(args.max_insns)], None
    if impl == 'kvm':
        return [args.kvm_runner, image, '--mem', '64', '--append', append, '--timeout', str(args.timeout)], out_path
    return [args.qemu, '-accel', 'tcg', '-cpu', 'max', '-m', MEM, '-nographic', '-no-reboot', '-nodefaults',
            '-kernel', image, '-append', append, '-device', 'isa-debug-exit,iobase=0xf4,iosize=0x04',
            '-serial', f'file:{out_path}', '-display', 'none', '-monitor', 'none', '-net', 'none', '-vga', 'none'], None


def died_reason(impl, rc, stderr, text):
    m = re.search(r'@runtime-fault (.*)', text)
    if m:
        return 'runtime-fault ' + m.group(1).strip()
    lines = [line for line in stderr.splitlines() if line.strip()]
    tail = lines[-1] if lines else ''
    if rc is None:
        return 'hang'
    if impl == 'kvm':
        return {4: 'shutdown', 5: 'hlt', 6: 'kvm-error', 7: 'timeout'}.get(rc, f'exit {rc}') + (f' ({tail})' if tail else '')
    if impl == 'hvsim':
        if 'shutdown' in stderr: return 'shutdown'
        if rc == 0 and 'instruction_limit' not in stderr: return 'instruction-limit'
        return f'exit {rc}' + (f' ({tail})' if tail else '')
    return 'shutdown' if rc == 0 else f'exit {rc}' + (f' ({tail})' if tail else '')


def parse_output(text, results, header):
    """Fills results[sid] from the guest's lines; returns the last scenario begun and not ended."""
    pos = text.find('@dsys ')
    if pos < 0:
        return None, False
    current = None
    done = False
    for line in text[pos:].splitlines():
        parts = line.split()
        if not parts:
            continue
        tag = parts[0]
        if tag == '@dsys':
            for p in parts[1:]:
                k, _, v = p.partition('=')
                header[k] = v
        elif tag == 'S' and len(parts) >= 3:
            sid = int(parts[1], 16)
            if parts[2] == 'skip':
                results[sid] = {'status': 'skip', 'missing': int(parts[3], 16)}
                current = None
            else:
                results[sid] = {'status': 'ran', 'ops': {}, 'mem': [], 'hash': None}
                current = sid
        elif tag == 'R' and current is not None:
            rec = {}
            for p in parts[3:]:
                k, _, v = p.partition('=')
                rec[k] = int(v, 16)
            results[current]['ops'][int(parts[2], 16)] = rec
        elif tag == 'M' and current is not None:
            results[current]['mem'] = [int(p.partition('=')[2], 16) for p in parts[2:]]
        elif tag == 'H' and current is not None:
            results[current]['hash'] = int(parts[2], 16)
        elif tag == 'E':
            current = None
        elif tag == '@done':
            done = True
    return current, done


def run_watched(cmd, stdout_path, out_path, args):
    """Runs one implementation; a run whose serial output stops growing for --stall seconds
    is killed (a scenario takes milliseconds: no output for that long is a hang). Returns the
    exit status (None: killed) and stderr."""
    err_path = out_path + '.stderr'
    with open(stdout_path or os.devnull, 'wb') as so, open(err_path, 'wb') as se:
        p = subprocess.Popen(cmd, stdout=so, stderr=se)
        t_start = t_change = time.time()
        size = -1
        rc = None
        while True:
            try:
                rc = p.wait(timeout=0.05)
                break
            except subprocess.TimeoutExpired:
                pass
            now = time.time()
            cur = os.path.getsize(out_path) if os.path.exists(out_path) else 0
            if cur != size:
                size, t_change = cur, now
            if now - t_change > args.stall or now - t_start > args.timeout:
                p.kill()
                p.wait()
                rc = None
                break
    with open(err_path, errors='replace') as f:
        stderr = f.read()
    if rc is None:
        stderr += f'\nkilled: no serial output for {args.stall} s (hang)\n'
    return rc, stderr


def run_impl(impl, args, image, manifest, workdir):
    ids = [sc['id'] for sc in manifest['scenarios']]
    first = manifest['first']
    results, header = {}, {}
    start = 0
    runs = 0
    while start < len(ids) and runs < args.max_restarts:
        runs += 1
        out_path = os.path.join(workdir, f'{impl}_{first:06d}_{start}.txt')
        cmd, stdout_path = command(impl, args, image, start, out_path)
        rc, stderr = run_watched(cmd, stdout_path, out_path, args)
        text = open(out_path, errors='replace').read() if os.path.exists(out_path) else ''
        current, done = parse_output(text, results, header)
        if done:
            break
        if current is None:
            # Died outside any scenario: at boot, or between scenarios. Nothing more to learn.
            reason = died_reason(impl, rc, stderr, text)
            for sid in ids[start:]:
                results.setdefault(sid, {'status': 'died', 'reason': 'boot/between scenarios: ' + reason})
            break
        results[current] = dict(results.get(current, {}), status='died', reason=died_reason(impl, rc, stderr, text))
        start = ids.index(current) + 1
    return results, header


# ---- comparison ----

class Verdicts:
    def __init__(self, path):
        with open(path, 'rb') as f:
            self.rules = tomllib.load(f).get('verdict', [])
        for r in self.rules:
            for key in ('id', 'pair', 'right', 'reason', 'cite'):
                if key not in r:
                    raise SystemExit(f'{path}: verdict {r.get("id", "?")} lacks "{key}"')
            if r['right'] not in ('hvsim', 'kvm', 'qemu', 'either', 'not-hvsim', 'not-kvm', 'not-qemu') \
                    and not r['right'].startswith('='):
                raise SystemExit(f'{path}: verdict {r["id"]}: right must be hvsim, kvm, qemu, either, not-NAME or =EXPR')
            r['_when'] = compile(r.get('when', 'True'), f'{r["id"]}.when', 'eval')
            if r['right'].startswith('='):
                r['_right'] = compile(r['right'][1:], f'{r["id"]}.right', 'eval')

    def match(self, pair, d):
        d['pair'] = pair
        for r in self.rules:
            if not any(fnmatch.fnmatch(pair, p) for p in _list(r['pair'])): continue
            if not any(fnmatch.fnmatch(d['kind'], p) for p in _list(r.get('kinds', '*'))): continue
            if not any(fnmatch.fnmatch(d['op_kind'], p) for p in _list(r.get('ops', '*'))): continue
            if not any(fnmatch.fnmatch(d['field'], p) for p in _list(r.get('fields', '*'))): continue
            env = _env(d)
            env['__builtins__'] = {}   # one dict as globals: comprehensions in 'when' see the names
            try:
                if not eval(r['_when'], env): continue
                right = eval(r['_right'], env) if '_right' in r else r['right']
            except (KeyError, TypeError, IndexError):
                continue   # the condition does not apply to this record (a field it reads is absent)
            if right.startswith('not-'):
                right = env['B'] if env['A'] == right[4:] else env['A']
            if right not in ('hvsim', 'kvm', 'qemu', 'either'):
                raise SystemExit(f'verdict {r["id"]}: right evaluated to {right!r}')
            return r, right
        return None, None


def _list(v):
    return v if isinstance(v, list) else [v]


def _env(d):
    """The names a verdict's 'when' may use: a, b the two values of the field (first and second
    implementation of the pair A:B), x = a ^ b, ra, rb the two records of the op (dicts of
    fields); val, rec, hdr the same keyed by implementation name ('hvsim', 'kvm', 'qemu');
    diffs the set of fields that differ in it, p the op's parameters (gen_scenarios.py), op and
    sc the manifest entries, ha, hb the two implementations' CPUID headers, and the helpers
    above (fault, cpuid_bit, cr4_gp, efer_gp, canonical)."""
    ra, rb = d['ra'] or {}, d['rb'] or {}
    ints = isinstance(d['a'], int) and isinstance(d['b'], int)
    A, B = d['pair'].split(':')
    return {'a': d['a'], 'b': d['b'], 'ra': ra, 'rb': rb, 'x': (d['a'] ^ d['b']) if ints else None,
            'val': {A: d['a'], B: d['b']}, 'rec': {A: ra, B: rb}, 'hdr': {A: d['ha'], B: d['hb']},
            'A': A, 'B': B, 'recs': {A: d.get('recs_a', {}), B: d.get('recs_b', {})},
            'diffs': {f for f in set(ra) | set(rb) if ra.get(f) != rb.get(f)},
            'p': (d['op'] or {}).get('p', {}), 'op': d['op'], 'sc': d['sc'], 'ha': d['ha'], 'hb': d['hb'],
            'field': d['field'], 'm': dict(RFLAGS_GROUPS).get(d['field'].split('.')[-1], 0), 'fault': fault, 'cpuid_bit': cpuid_bit, 'cr4_gp': cr4_gp, 'efer_gp': efer_gp,
            'canonical': canonical, 'sreg_load': sreg_load, 'load_matches': load_matches, 'seg': seg, 'amd_bit8_rsvd': amd_bit8_rsvd, 'selector_checks': selector_checks, 'cr0_gp': cr0_gp, 'cr0_ok': cr0_ok, 'cr4_ok': cr4_ok,
            'efer_ok': efer_ok, 'msr_gp': msr_gp, 'compat': compat, 'desc': (d['op'] or {}).get('desc', ''), 'scdesc': ' '.join(d['sc'].get('desc', [])),
            'isinstance': isinstance, 'int': int, 'str': str, 'bool': bool, 'enumerate': enumerate, 'any': any, 'all': all, 'len': len, 'set': set,
            'range': range}


# ---- helpers for the verdicts' conditions (verdicts.toml 'when') ----

# Fault-class exceptions (SDM Vol. 3 6.15, Table 6-1; APM Vol. 2 8.2): #DE #BR #UD #NM #TS #NP
# #SS #GP #PF #MF #AC #XM #VE #CP. #DB is a fault or a trap, #BP/#OF are traps, #DF an abort.
FAULTS = {0, 5, 6, 7, 10, 11, 12, 13, 14, 16, 17, 19, 20, 21}


def fault(v):
    return v in FAULTS


def cpuid_bit(h, leaf, reg, bit):
    """A CPUID feature bit of one implementation, from the leaves the guest printed
    (leaf=ebx,ecx,edx)."""
    v = h.get('cpuid' + format(leaf, 'x'))
    if not v:
        return 0
    return (int(v.split(',')['bcd'.index(reg)], 16) >> bit) & 1


# CR4 bits and the CPUID bit that makes each one settable (SDM Vol. 3 2.5 "Control Registers"
# and Vol. 2 "MOV-Move to/from Control Registers": setting a reserved bit, which includes the
# bit of a feature CPUID does not report, is #GP(0); APM Vol. 2 3.1.3 likewise).
CR4_FEATURE = {0: (1, 'd', 1), 1: (1, 'd', 1), 2: (1, 'd', 4), 3: (1, 'd', 2), 4: (1, 'd', 3), 6: (1, 'd', 7),
               7: (1, 'd', 13), 8: None, 9: (1, 'd', 24), 10: (1, 'd', 25), 11: (7, 'c', 2), 13: (1, 'c', 5),
               14: (1, 'c', 6), 16: (7, 'b', 0), 17: (1, 'c', 17), 18: (1, 'c', 26), 19: (7, 'c', 23),
               20: (7, 'b', 7), 21: (7, 'b', 20), 22: (7, 'c', 3), 23: (7, 'c', 7), 24: (7, 'c', 31),
               25: (7, 'd', 5)}


def cr4_gp(h, value):
    """True if MOV CR4 <- value in 64-bit mode (CR3[11:0] = 0, CR0.WP = 1) must raise #GP(0)
    on the implementation whose CPUID is h: a reserved bit, PAE cleared, LA57 changed."""
    if not value & (1 << 5) or value & (1 << 12):
        return True
    for bit in range(64):
        if not (value >> bit) & 1 or bit == 5:
            continue
        if bit not in CR4_FEATURE:
            return True
        f = CR4_FEATURE[bit]
        if f and not cpuid_bit(h, *f):
            return True
    return False


# EFER bits (SDM Vol. 4 IA32_EFER; APM Vol. 2 3.1.7): the CPUID bit that makes each settable;
# 'ambiguous' bits depend on enumerations the guest does not print.
EFER_FEATURE = {0: (0x80000001, 'd', 11), 8: None, 10: None, 11: (0x80000001, 'd', 20), 12: (0x80000001, 'c', 2),
                14: (0x80000001, 'd', 25), 15: (0x80000001, 'c', 17)}
EFER_AMBIGUOUS = {13, 16, 17, 18, 20, 21}


def efer_gp(h, value, old=0xd01):
    """True/False: must WRMSR EFER <- value raise #GP(0) (reserved bit, or LME changed while
    paging is on); None when it depends on an enumeration the guest did not print."""
    if (value ^ old) & (1 << 8):
        return True
    amb = False
    for bit in range(64):
        if not (value >> bit) & 1:
            continue
        if bit in EFER_AMBIGUOUS:
            amb = True
        elif bit not in EFER_FEATURE:
            return True
        elif EFER_FEATURE[bit] and not cpuid_bit(h, *EFER_FEATURE[bit]):
            return True
    return None if amb else False


def seg(sc, sel):
    """What the scenario put behind a selector: the generator's description of the GDT or LDT
    entry ({'kind', 'type', 'l', 'd', 'dpl', 'p'}), or a fixed runtime descriptor."""
    fixed = {0x08: ('code', 11, 1, 0, 0), 0x10: ('data', 3, 0, 1, 0), 0x18: ('code', 11, 0, 1, 3),
             0x20: ('data', 3, 0, 1, 3), 0x28: ('code', 11, 1, 0, 3), 0x30: ('code', 11, 0, 1, 0)}
    if not sel & 4 and (sel & ~7) in fixed:
        k, t, l, d, dpl = fixed[sel & ~7]
        return {'kind': k, 'type': t, 'l': l, 'd': d, 'dpl': dpl, 'p': 1}
    return sc.get('segs', {}).get(f'{sel & ~3:#x}', {'kind': 'none'})


def compat(sc, sel):
    """True if sel names a code segment with L=0: IA-32e compatibility mode."""
    d = seg(sc, sel)
    return d.get('kind') == 'code' and not d.get('l')


def cr0_gp(value):
    """MOV CR0 <- value in 64-bit mode: #GP(0) for bits 63:32, PG without PE, NW without CD,
    or clearing PG (leaving IA-32e mode that way is not allowed) (SDM Vol. 2 'MOV-Move to/from
    Control Registers', Vol. 3 2.5; APM Vol. 2 3.1.1, 14.7)."""
    return bool(value >> 32) or not value & (1 << 31) or not value & 1 or (value & (1 << 29) and not value & (1 << 30))


def cr0_ok(r, value):
    """The record r is what the manuals require for MOV CR0 <- value: the #GP, or CR0 reading
    back the defined bits (reserved bits 28:19, 17, 15:6 are ignored; ET reads 1)."""
    if cr0_gp(value):
        return r['v'] == 13
    return r['v'] == 6 and r['cr0'] == (value & 0xe005003f) | 0x10


def cr4_ok(h, r, value):
    return r['v'] == 13 if cr4_gp(h, value) else (r['v'] == 6 and r['cr4'] == value)


def efer_ok(h, r, value):
    g = efer_gp(h, value)
    if g is None:
        return True
    return r['v'] == 13 if g else r['v'] == 6


CANONICAL_MSRS = {0xc0000082, 0xc0000083, 0xc0000100, 0xc0000101, 0xc0000102}


def msr_gp(h, msr, value):
    """WRMSR: True/False when the manuals fix the outcome, None when it is model-specific."""
    if msr == 0xc0000080:
        return efer_gp(h, value)
    if msr in CANONICAL_MSRS:
        return not canonical(value)
    if msr == 0x277:
        return any(((value >> (8 * k)) & 0xff) not in (0, 1, 4, 5, 6, 7) for k in range(8))
    if msr == 0xc0000081:
        return False
    if msr in (0xc0001234, 0x12345):
        return True
    return None


def amd_bit8_rsvd(sc, i):
    """True if the walk of mapping i reaches a present PML4E with bit 8 set (MBZ in AMD's
    long-mode PML4E, APM Vol. 2 Figure 5-18; ignored in PDPEs and PDEs)."""
    e = sc['maps'][i]['entries'][0]
    return bool(e & 1 and e & 0x100)


def selector_checks(sc, sel, cpl, what):
    """LAR/LSL/VERR/VERW: True if the instruction succeeds (ZF = 1) for selector sel at cpl
    (SDM Vol. 2 'LAR', 'LSL', 'VERR/VERW'; in 64-bit mode the valid system types are LDT (2),
    available and busy 64-bit TSS (9, 11) and, for LAR, the 64-bit call gate (12)). None when
    the descriptor is not one the generator described."""
    if (sel & ~3) == 0:
        return False
    d = seg(sc, sel)
    k = d.get('kind')
    if k == 'none':
        # The upper half of a 16-byte system descriptor or gate read as a descriptor of its own:
        # with bits 44:40 zero it is a system descriptor of type 0, which no instruction accepts.
        if 'high' in seg(sc, (sel & ~3) - 8) and not (seg(sc, (sel & ~3) - 8)['high'] >> 40) & 0x1f:
            return False
        if sel & 4 or (sel & ~7) > 0x80:
            return False if (sel & ~7) > (0x38 if sel & 4 else 0x80) else None
        return None
    s = k in ('data', 'code') or (k == 'junk' and d.get('s'))
    typ = d['type'] | (8 if k == 'code' else 0) if k in ('data', 'code') else d['type']
    conforming = s and typ & 0xc == 0xc
    if not conforming and d['dpl'] < max(cpl, sel & 3):
        return False
    if not s:
        valid = {'lar': (2, 9, 11, 12), 'lsl': (2, 9, 11)}.get(what, ())
        return typ in valid
    if what in ('lar', 'lsl'):
        return True
    if what == 'verr':
        return not typ & 8 or bool(typ & 2)
    return not typ & 8 and bool(typ & 2)


def sreg_load(sc, sel, cpl, sreg):
    """MOV/POP to a data segment register in 64-bit mode: (vector, error code) of the fault the
    manuals require, (None, None) if the load succeeds, or None when the descriptor is not one
    the generator described (SDM Vol. 2 'MOV' and 'POP' operation; APM Vol. 2 4.10.1)."""
    idx = sel & ~3
    if idx == 0:
        return (13, 0) if sreg == 'ss' and (cpl == 3 or (sel & 3) != cpl) else (None, None)
    limit = 0x3f if sel & 4 else 0x87
    if (idx & ~4) + 7 > limit:
        return (13, idx)
    d = seg(sc, sel)
    k = d.get('kind')
    if k == 'none' and 'high' in seg(sc, (sel & ~3) - 8) and not (seg(sc, (sel & ~3) - 8)['high'] >> 40) & 0x1f:
        return (13, idx)   # the upper half of a 16-byte descriptor: a system descriptor of type 0
    if k in ('none', 'junk'):
        return None
    if k in ('system', 'gate'):
        return (13, idx)
    code = k == 'code'
    typ = d['type'] & 7
    if sreg == 'ss':
        if code or not typ & 2 or (sel & 3) != cpl or d['dpl'] != cpl:
            return (13, idx)
        return (None, None) if d['p'] else (12, idx)
    if code and not typ & 2:
        return (13, idx)
    if (not code or not typ & 4) and ((sel & 3) > d['dpl'] or cpl > d['dpl']):
        return (13, idx)
    return (None, None) if d['p'] else (11, idx)


def load_matches(r, want, op_end_ip=None):
    """Does record r show the outcome want (from sreg_load)?"""
    v, e = want
    if v is None:
        return r['v'] == 6
    return r['v'] == v and r['e'] == e


def canonical(v):
    top = v >> 47
    return top == 0 or top == (1 << 17) - 1


FIELDS_ORDER = ['v', 'e', 'c2', 'ip', 'cs', 'fl', 'sp', 'ss']
RFLAGS_GROUPS = [('arith', 0x8d5), ('TF', 0x100), ('IF', 0x200), ('DF', 0x400), ('IOPL', 0x3000), ('NT', 0x4000),
                 ('RF', 0x10000), ('VM', 0x20000), ('AC', 0x40000), ('VIF', 0x80000), ('VIP', 0x100000),
                 ('ID', 0x200000), ('reserved', ~0x3f7fd5 & (2**64 - 1))]


def compare_scenario(sc, ra, rb, ha, hb):
    """Disagreements between two implementations' results for one scenario."""
    out = []
    base = {'sid': sc['id'], 'kind': sc['kind'], 'sc': sc, 'ha': ha, 'hb': hb,
            'recs_a': ra.get('ops', {}), 'recs_b': rb.get('ops', {})}
    dead = [r for r in (ra, rb) if r['status'] == 'died']
    if dead:
        # Ops both finished are compared; the first op one of them did not finish is the
        # disagreement 'died' (unless both died there the same way).
        stop = min(len(r.get('ops', {})) for r in dead)
        a = ra.get('reason', 'ran') if ra['status'] == 'died' and len(ra.get('ops', {})) == stop else 'ran'
        b = rb.get('reason', 'ran') if rb['status'] == 'died' and len(rb.get('ops', {})) == stop else 'ran'
        if a.split(' (')[0] != b.split(' (')[0]:
            op = sc['ops'][stop] if stop < len(sc['ops']) else {}
            out.append(dict(base, op_index=stop, op_kind=op.get('kind', 'scenario-end'), op=op, field='died', a=a, b=b,
                            ra=ra.get('ops', {}).get(stop), rb=rb.get('ops', {}).get(stop)))
        ops = range(stop)
    else:
        ops = range(len(sc['ops']))
    for k in ops:
        op = sc['ops'][k]
        xa, xb = ra['ops'].get(k), rb['ops'].get(k)
        if xa is None or xb is None:
            if xa != xb:
                out.append(dict(base, op_index=k, op_kind=op['kind'], op=op, field='missing', a=str(xa is not None),
                                b=str(xb is not None), ra=xa, rb=xb))
            continue
        for f in sorted(set(xa) | set(xb), key=lambda f: (FIELDS_ORDER.index(f) if f in FIELDS_ORDER else 99, f)):
            if xa.get(f) == xb.get(f):
                continue
            if f in ('fl', 'r11') and f in xa and f in xb:
                # RFLAGS is compared flag by flag (fl.RF, fl.IOPL ...): one verdict per cause.
                for name, m in RFLAGS_GROUPS:
                    if (xa[f] ^ xb[f]) & m:
                        out.append(dict(base, op_index=k, op_kind=op['kind'], op=op, field=f'{f}.{name}',
                                        a=xa[f] & m, b=xb[f] & m, ra=xa, rb=xb))
                continue
            out.append(dict(base, op_index=k, op_kind=op['kind'], op=op, field=f, a=xa.get(f), b=xb.get(f), ra=xa, rb=xb))
    if dead:
        return out
    for k, name in enumerate(sc['checks']):
        a = ra['mem'][k] if k < len(ra['mem']) else None
        b = rb['mem'][k] if k < len(rb['mem']) else None
        if a != b:
            out.append(dict(base, op_index=-1, op_kind='final-memory', op={}, field=name, a=a, b=b, ra=None, rb=None))
    if ra['hash'] != rb['hash']:
        out.append(dict(base, op_index=-1, op_kind='final-memory', op={}, field='data-hash', a=ra['hash'], b=rb['hash'], ra=None, rb=None))
    return out


def fmt(v):
    return hex(v) if isinstance(v, int) else str(v)


def fmt_rec(r):
    return ' '.join(f'{k}={v:x}' for k, v in r.items()) if r else '-'


# ---- the run ----

def available(impl, args):
    if impl == 'hvsim':
        if not args.hvsim or not os.access(args.hvsim, os.X_OK):
            return f'hvsim binary not found ({args.hvsim})'
    elif impl == 'kvm':
        if not os.path.exists('/dev/kvm'):
            return '/dev/kvm is missing'
        if not args.kvm_runner or not os.access(args.kvm_runner, os.X_OK):
            return f'kvm_runner not found ({args.kvm_runner})'
        p = subprocess.run([args.kvm_runner, '--probe'], capture_output=True, text=True)
        if p.returncode != 0:
            return p.stderr.strip() or f'kvm_runner --probe exited {p.returncode}'
    elif impl == 'qemu':
        if not args.qemu or not shutil.which(args.qemu):
            return f'{args.qemu} not found'
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--pair', action='append', default=[], help='A:B, e.g. hvsim:kvm (repeatable)')
    ap.add_argument('--count', type=int, default=2000)
    ap.add_argument('--first', type=int, default=0)
    ap.add_argument('--batch', type=int, default=100)
    ap.add_argument('--seed', default=None, help='default: derived from the time; printed either way')
    ap.add_argument('--kinds', default='')
    ap.add_argument('--hvsim', default=None)
    ap.add_argument('--kvm-runner', default=None)
    ap.add_argument('--qemu', default='qemu-system-x86_64')
    ap.add_argument('--cc', default='gcc')
    ap.add_argument('--ld', default='ld')
    ap.add_argument('--objcopy', default='objcopy')
    ap.add_argument('--verdicts', default=os.path.join(HERE, 'verdicts.toml'))
    ap.add_argument('--workdir', default=None)
    ap.add_argument('--jobs', type=int, default=2)
    ap.add_argument('--timeout', type=int, default=300, help='seconds per implementation run')
    ap.add_argument('--stall', type=float, default=2.5, help='seconds without serial output that count as a hang')
    ap.add_argument('--max-insns', type=int, default=400_000_000)
    ap.add_argument('--max-restarts', type=int, default=40)
    ap.add_argument('--show', type=int, default=25, help='unexplained disagreements to print in full')
    ap.add_argument('--strict', action='store_true', help='known hvsim bugs (verdict right != hvsim) fail too')
    ap.add_argument('--report', default=None, help='write every disagreement with its verdict (JSON lines)')
    ap.add_argument('--min-compared', type=int, default=1, help='fail if a pair compared fewer scenarios')
    args = ap.parse_args()
    if args.seed is None:
        args.seed = str(int(time.time()))
    pairs = [tuple(p.split(':')) for p in (args.pair or ['hvsim:kvm', 'hvsim:qemu'])]
    print(f'diff_system: seed {args.seed}, scenarios {args.first}..{args.first + args.count - 1}, pairs '
          + ', '.join(':'.join(p) for p in pairs), flush=True)
    for p in pairs:
        for impl in p:
            why = available(impl, args)
            if why:
                print(f'diff_system: SKIP: {impl} unavailable: {why} (the {":".join(p)} half is skipped, not passed)')
                return SKIP
    impls = sorted({i for p in pairs for i in p})
    verdicts = Verdicts(args.verdicts)
    workdir = args.workdir or os.path.join(os.environ.get('TMPDIR', '/tmp'), f'diff_system_{os.getpid()}')
    os.makedirs(workdir, exist_ok=True)
    t0 = time.time()

    results = {i: {} for i in impls}
    headers = {i: {} for i in impls}
    scenarios = {}
    batches = [(f, min(args.batch, args.first + args.count - f)) for f in range(args.first, args.first + args.count, args.batch)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        futures = []
        for first, count in batches:
            image, _, manifest = build_batch(args, first, count, workdir)
            for sc in manifest['scenarios']:
                scenarios[sc['id']] = sc
            for impl in impls:
                futures.append((impl, pool.submit(run_impl, impl, args, image, manifest, workdir)))
        for impl, fut in futures:
            res, hdr = fut.result()
            results[impl].update(res)
            headers[impl].update(hdr)
    for impl in impls:
        h = headers[impl]
        print(f'diff_system: {impl}: vendor {h.get("vendor", "?")} features {h.get("features", "?")} '
              + ' '.join(f'{k}={v}' for k, v in h.items() if k.startswith('cpuid')))

    failed = False
    report = open(args.report, 'w') if args.report else None
    for a_impl, b_impl in pairs:
        pair = f'{a_impl}:{b_impl}'
        per_kind = defaultdict(Counter)
        by_verdict = Counter()
        examples = {}
        unexplained = []
        for sid in sorted(scenarios):
            sc = scenarios[sid]
            ra, rb = results[a_impl].get(sid), results[b_impl].get(sid)
            c = per_kind[sc['kind']]
            if ra is None or rb is None or ra['status'] == 'skip' or rb['status'] == 'skip':
                c['skipped (feature missing)'] += 1
                continue
            c['compared'] += 1
            ds = compare_scenario(sc, ra, rb, headers[a_impl], headers[b_impl])
            if not ds:
                c['identical'] += 1
                continue
            scenario_unexplained = False
            # When an op ended differently (another vector or another RIP), every other field of
            # its record follows from that: only 'v' and 'ip' need a verdict, the rest share it.
            primary = {}
            for d in ds:
                if d['field'] in ('v', 'ip') and d['op_index'] >= 0:
                    primary.setdefault(d['op_index'], d)
            for d in ds:
                p0 = primary.get(d['op_index']) if d['op_kind'] != 'final-memory' else None
                if p0 is not None and d['field'] not in ('v', 'ip'):
                    d['verdict'] = 'consequence'
                    continue
                r, right = verdicts.match(pair, d)
                if r:
                    by_verdict[(r['id'], right)] += 1
                    examples.setdefault((r['id'], right), d)
                    d['verdict'] = r['id']
                    d['right'] = right
                else:
                    scenario_unexplained = True
                    unexplained.append(d)
                    d['verdict'] = None
                if report:
                    report.write(json.dumps({'pair': pair, 'scenario': sid, 'kind': d['kind'], 'op': d['op_index'],
                                             'op_kind': d['op_kind'], 'field': d['field'], a_impl: fmt(d['a']),
                                             b_impl: fmt(d['b']), 'verdict': d['verdict'], 'right': d.get('right')}) + '\n')
            c['unexplained' if scenario_unexplained else 'explained'] += 1
        print(f'\n== {pair} ==')
        total = Counter()
        for kind in sorted(per_kind):
            c = per_kind[kind]
            total.update(c)
            print(f'  {kind:9s} compared {c["compared"]:5d}  identical {c["identical"]:5d}  explained {c["explained"]:4d}  '
                  f'unexplained {c["unexplained"]:4d}  skipped {c["skipped (feature missing)"]:4d}')
        print(f'  {"total":9s} compared {total["compared"]:5d}  identical {total["identical"]:5d}  explained {total["explained"]:4d}  '
              f'unexplained {total["unexplained"]:4d}  skipped {total["skipped (feature missing)"]:4d}')
        hvsim_bugs = 0
        for (vid, right), n in by_verdict.most_common():
            d = examples[(vid, right)]
            tag = 'right: ' + right
            if a_impl == 'hvsim' and right not in ('hvsim', 'either'):
                tag = 'KNOWN HVSIM BUG, right: ' + right
                hvsim_bugs += n
            print(f'  verdict {vid}: {n} field(s) [{tag}] e.g. scenario {d["sid"]} op {d["op_index"]} {d["field"]}: '
                  f'{a_impl}={fmt(d["a"])} {b_impl}={fmt(d["b"])}')
        for d in unexplained[:args.show]:
            print(f'  UNEXPLAINED scenario {d["sid"]} ({d["kind"]}) op {d["op_index"]} [{d["op_kind"]}] field {d["field"]}: '
                  f'{a_impl}={fmt(d["a"])} {b_impl}={fmt(d["b"])}')
            if d['op']:
                print(f'      op: {d["op"]["desc"]}')
            print(f'      scenario: {"; ".join(d["sc"]["desc"])}')
            print(f'      {a_impl}: {fmt_rec(d["ra"])}')
            print(f'      {b_impl}: {fmt_rec(d["rb"])}')
        if len(unexplained) > args.show:
            print(f'  ... {len(unexplained) - args.show} more unexplained field(s)')
        if total['compared'] < args.min_compared:
            print(f'  FAIL: {total["compared"]} scenarios compared, fewer than {args.min_compared}')
            failed = True
        if unexplained or (args.strict and hvsim_bugs):
            failed = True
        print(f'  {pair}: {total["compared"]} scenarios compared, {len(unexplained)} unexplained disagreement(s), '
              f'{sum(by_verdict.values())} explained by verdicts ({hvsim_bugs} of them known hvsim bugs)')
    print(f'\ndiff_system: seed {args.seed}, {time.time() - t0:.1f} s, workdir {workdir}')
    print(f'diff_system: reproduce with --seed {args.seed} --first N --count 1 (N = a scenario number above)')
    if not args.workdir and not failed:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
