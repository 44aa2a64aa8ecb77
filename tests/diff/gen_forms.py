#!/usr/bin/env python3
"""Turn forms.def (the instruction forms of the host differential test) into a C++ table.

Each row is expanded (alternatives, widths), assembled once with GNU as, and emitted as
bytes plus the rules the state generator follows. Stdlib only; run by meson at build time.

Row syntax (see forms.def for the full description):
    family  asm template  ;; rule; rule; ...
"""
import argparse
import itertools
import pathlib
import re
import struct
import subprocess
import sys
import tempfile

GPRS = ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
        "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
LEGACY = {"rax": "a", "rcx": "c", "rdx": "d", "rbx": "b"}
SLOT = 32  # bytes per assembled form: a length byte, the instruction, int3 padding
PTR = {8: "byte ptr", 16: "word ptr", 32: "dword ptr", 64: "qword ptr"}
SUFFIX = {8: "b", 16: "w", 32: "d", 64: "q"}
# Offsets of the data page a pointer rule picks from unless it says otherwise: leaves room
# for displacements and 16-byte accesses on both sides.
DEFAULT_PTR = (0x40, 0xfc0, 1)


def reg_name(reg, width):
    """The name of GPR `reg` (64-bit name) at `width` bits."""
    if width == 64:
        return reg
    if reg in LEGACY:
        return {8: LEGACY[reg] + "l", 16: LEGACY[reg] + "x", 32: "e" + reg[1:]}[width]
    if reg.startswith("r") and reg[1:].isdigit():
        return reg + {8: "b", 16: "w", 32: "d"}[width]
    return {8: reg[1:] + "l", 16: reg[1:], 32: "e" + reg[1:]}[width]


def gpr_index(name):
    if name in GPRS:
        return GPRS.index(name)
    if re.fullmatch(r"xmm(\d+)", name):
        return 16 + int(name[3:])
    raise ValueError(f"unknown register {name!r}")


def substitute(text, width):
    """Apply the width placeholders: %{expr}, %rXX, %ptr, %s, %w."""
    def expr(m):
        return str(eval(m.group(1), {"__builtins__": {}}, {"w": width}))  # trusted input
    text = re.sub(r"%\{([^}]*)\}", expr, text)
    if width is None:
        if "%" in text:
            raise ValueError(f"width placeholder without w= in {text!r}")
        return text
    text = re.sub(r"%(r(?:[a-d]x|si|di|bp|sp|\d+))\b", lambda m: reg_name(m.group(1), width),
                  text)
    return text.replace("%ptr", PTR[width]).replace("%s", SUFFIX[width]).replace("%w",
                                                                                  str(width))


def expand_alternatives(template):
    """'(a|b) x (c|d)' -> ['a x c', 'a x d', 'b x c', 'b x d']."""
    parts = re.split(r"\(([^()]*\|[^()]*)\)", template)
    choices = [[p] if i % 2 == 0 else p.split("|") for i, p in enumerate(parts)]
    return ["".join(c) for c in itertools.product(*choices)]


def parse_int(text):
    return int(text.strip(), 0)


def parse_rule(text):
    """One rule -> dict of Rule fields (names as in form.h), or a form-level setting."""
    m = re.fullmatch(r"(\w+|\[\w+(?:[+-]\w+)?\])=(~?)(\w+)(?:\(([^)]*)\))?(?:/(\d+))?", text)
    if not m:
        raise ValueError(f"bad rule {text!r}")
    target, half, kind, args, bits = m.groups()
    args = [a.strip() for a in args.split(",")] if args else []
    rule = {"half": bool(half), "bits": int(bits) if bits else 64}
    if target.startswith("["):
        base, disp = re.fullmatch(r"\[(\w+)([+-]\w+)?\]", target).groups()
        rule.update(reg=gpr_index(base), disp=parse_int(disp) if disp else 0)
        if kind == "target":
            rule.update(kind="mem_target", lo=parse_int(args[0]))
        elif kind == "flags":
            rule.update(kind="mem_flags")
        elif kind == "eq":
            rule.update(kind="mem_eq", src=gpr_index(args[0]), elem=parse_int(args[-1]))
            if len(args) == 3:
                rule.update(src2=gpr_index(args[1]))
        elif kind in ("copy", "pattern"):
            rule.update(kind="mem_" + kind, src=gpr_index(args[0]), elem=parse_int(args[1]),
                        lo=parse_int(args[2]))
        else:
            raise ValueError(f"unknown memory rule {text!r}")
        return rule
    rule.update(reg=gpr_index(target))
    if kind == "ptr":
        lo, hi, align = ([parse_int(a) for a in args] + list(DEFAULT_PTR[len(args):]))[:3]
        rule.update(kind="ptr", lo=lo, hi=hi, align=align)
    elif kind == "range":
        rule.update(kind="range", lo=parse_int(args[0]), hi=parse_int(args[1]))
    elif kind == "target":
        rule.update(kind="target", lo=parse_int(args[0]))
    elif kind == "eq":
        rule.update(kind="eq", src=gpr_index(args[0]))
    elif kind == "sext":
        rule.update(kind="sext", src=gpr_index(args[0]), elem=parse_int(args[1]))
    else:
        raise ValueError(f"unknown register rule {text!r}")
    return rule


def parse_row(line, lineno):
    """One row -> list of forms {family, name, asm, rules, drop_de}."""
    body, _, rules_text = line.partition(";;")
    family, template = body.strip().split(None, 1)
    rule_texts = [r.strip() for r in rules_text.split(";") if r.strip()]
    widths = [None]
    settings = {}
    other = []
    for r in rule_texts:
        key, _, value = r.partition("=")
        if key == "w":
            widths = [int(v) for v in value.split(",")]
        elif key in ("name", "de"):
            settings[key] = value.strip()
        else:
            other.append(r)
    forms = []
    for width in widths:
        for asm in expand_alternatives(template.strip()):
            asm = " ".join(substitute(asm, width).split())
            name = asm
            if "name" in settings:
                name = substitute(settings["name"], width).replace("@", asm)
            rules = [parse_rule(substitute(r, width)) for r in other]
            forms.append({"family": family, "name": name, "asm": asm, "rules": rules,
                          "drop_de": settings.get("de") == "drop", "line": lineno})
    return forms


def parse(path):
    forms = []
    for lineno, raw in enumerate(pathlib.Path(path).read_text().splitlines(), 1):
        line = "" if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        try:
            forms += parse_row(line, lineno)
        except (ValueError, KeyError, IndexError, AttributeError) as e:
            sys.exit(f"{path}:{lineno}: {e}")
    seen = {}
    unique = []
    for f in forms:
        if f["name"] in seen:
            if seen[f["name"]]["asm"] != f["asm"]:
                sys.exit(f"{path}:{f['line']}: duplicate name {f['name']!r}")
            continue  # the same form reached twice through width placeholders
        seen[f["name"]] = f
        unique.append(f)
    return unique


def check_addresses(forms, path):
    """Every register that forms an address must be placed by a rule: a random address could
    hit whatever the host process has mapped there, and the simulator maps nothing there."""
    for f in forms:
        if f["asm"].startswith("lea "):
            continue
        placed = {r["reg"] for r in f["rules"] if r["kind"] in ("ptr", "range", "target")}
        placed.add(GPRS.index("rsp"))  # fixed inside the stack page unless a rule moves it
        for operand in re.findall(r"\[([^\]]*)\]", f["asm"]):
            for reg in re.findall(r"\b(r[a-z0-9]+|e[a-z]{2})\b", operand):
                name = reg if reg in GPRS or reg == "rip" else "r" + reg[1:]
                if name != "rip" and gpr_index(name) not in placed:
                    sys.exit(f"{path}:{f['line']}: {f['name']}: no rule places {reg}")


def elf_section(data, wanted):
    """Bytes of section `wanted` of an ELF64 little-endian object (None if absent)."""
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def header(i):
        return struct.unpack_from("<IIQQQQ", data, shoff + i * shentsize)
    strtab = header(shstrndx)
    for i in range(shnum):
        name, _, _, _, offset, size = header(i)
        end = data.index(b"\0", strtab[4] + name)
        if data[strtab[4] + name:end].decode() == wanted:
            return data[offset:offset + size]
    return None


def assemble(forms, assembler):
    """Assemble every form into its own slot; returns the list of instruction bytes."""
    lines = [".intel_syntax noprefix", ".text", ".skip 0x1000"]
    for i, f in enumerate(forms):
        lines += [f"f{i}: .byte f{i}e - f{i}b", f"f{i}b: {f['asm']}",
                  f"f{i}e: .p2align 5, 0xcc"]
    with tempfile.TemporaryDirectory() as tmp:
        src = pathlib.Path(tmp, "forms.s")
        obj = pathlib.Path(tmp, "forms.o")
        src.write_text("\n".join(lines) + "\n")
        done = subprocess.run([assembler, "--64", "-o", str(obj), str(src)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            for m in re.finditer(r":(\d+): (.*)", done.stderr):
                index = (int(m.group(1)) - 4) // 3
                if 0 <= index < len(forms):
                    f = forms[index]
                    print(f"forms.def:{f['line']}: {f['asm']}: {m.group(2)}", file=sys.stderr)
            sys.exit(done.stderr if "Error" not in done.stderr else "assembly failed")
        data = obj.read_bytes()
    rela = elf_section(data, ".rela.text")
    if rela:
        sys.exit("forms need relocations: use only absolute or '.'-relative operands")
    text = elf_section(data, ".text")[0x1000:]
    codes = []
    for i, f in enumerate(forms):
        slot = text[i * SLOT:(i + 1) * SLOT]
        length = slot[0]
        if not 0 < length < SLOT - 1 or text[(i + 1) * SLOT - 1] != 0xcc:
            sys.exit(f"forms.def:{f['line']}: {f['asm']}: does not fit a {SLOT}-byte slot")
        codes.append(slot[1:1 + length])
    return codes


RULE_FIELDS = ["kind", "reg", "src", "src2", "bits", "elem", "half", "disp", "lo", "hi",
               "align"]


def cpp_rule(rule):
    values = {"src": 0xff, "src2": 0xff, "elem": 0, "disp": 0, "lo": 0, "hi": 0, "align": 1}
    values.update(rule)
    parts = []
    for field in RULE_FIELDS:
        v = values[field]
        if field == "kind":
            v = f"RuleKind::{v}"
        elif isinstance(v, bool):
            v = "true" if v else "false"
        parts.append(f".{field} = {v}")
    return "{" + ", ".join(parts) + "}"


def cpp_string(text):
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def emit(forms, codes, out):
    lines = ["// Generated by gen_forms.py from forms.def: do not edit.",
             '#include "form.h"', "", "namespace diff {", "namespace {", ""]
    for i, (f, code) in enumerate(zip(forms, codes)):
        lines.append(f"constexpr uint8_t code{i}[] = {{{', '.join(f'0x{b:02x}' for b in code)}}};")
        if f["rules"]:
            lines.append(f"constexpr Rule rules{i}[] = {{")
            lines += [f"    {cpp_rule(r)}," for r in f["rules"]]
            lines.append("};")
    lines += ["", f"constexpr Form forms[{len(forms)}] = {{"]
    for i, f in enumerate(forms):
        rules = f"rules{i}" if f["rules"] else "{}"
        lines.append(f"    {{{cpp_string(f['family'])}, {cpp_string(f['name'])}, code{i}, "
                     f"{rules}, {'true' if f['drop_de'] else 'false'}}},")
    lines += ["};", "", "}  // namespace", "",
              "std::span<const Form> all_forms() { return forms; }", "",
              "}  // namespace diff", ""]
    pathlib.Path(out).write_text("\n".join(lines))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("table")
    parser.add_argument("-o", "--output", required=True)
    parser.add_argument("--as", dest="assembler", default="as")
    parser.add_argument("--list", action="store_true", help="print the expanded forms")
    args = parser.parse_args()
    forms = parse(args.table)
    check_addresses(forms, args.table)
    codes = assemble(forms, args.assembler)
    if args.list:
        for f, code in zip(forms, codes):
            print(f"{f['family']:10} {code.hex(' '):44} {f['name']}")
    emit(forms, codes, args.output)


if __name__ == "__main__":
    main()
