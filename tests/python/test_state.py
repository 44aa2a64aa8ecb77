# Registers and guest memory from Python, between runs.
import numpy as np
import pytest

import hvsim
from programs import SUM_FLAT


def test_general_registers_round_trip_in_x86_order(flat_machine):
    machine = flat_machine(SUM_FLAT)
    names = hvsim.register_names()
    assert names[:16] == ["rax", "rcx", "rdx", "rbx", "rsp", "rbp", "rsi", "rdi",
                          "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15"]
    for i, name in enumerate(names[:16]):
        machine.set_register(name, 0x1111_0000_0000_0000 * (i % 15 + 1) + i)
    for i, name in enumerate(names[:16]):
        assert machine.get_register(name) == 0x1111_0000_0000_0000 * (i % 15 + 1) + i
    machine.set_register("r9", -1)
    assert machine.get_register("r9") == (1 << 64) - 1


def test_every_named_register_can_be_read_and_written_back(flat_machine):
    machine = flat_machine(SUM_FLAT)
    before = machine.registers()
    assert list(before) == hvsim.register_names()
    for name, value in before.items():
        machine.set_register(name, value)
    assert machine.registers() == before


def test_system_registers_round_trip(flat_machine):
    machine = flat_machine(SUM_FLAT)
    for name, value in [("cr2", 0xDEAD_B000), ("cr3", 0x1000), ("cr8", 5), ("dr0", 0x1234),
                        ("gdtr_base", 0x500), ("gdtr_limit", 0x17), ("fs_base", 0xFFFF_8000_0000_0000)]:
        machine.set_register(name, value)
        assert machine.get_register(name) == value
    assert machine.get_register("cr0") & 1 == 0  # real mode
    assert machine.get_register("efer") == 0


def test_rflags_keeps_its_fixed_bit_and_arithmetic_flags(flat_machine):
    machine = flat_machine(SUM_FLAT)
    machine.set_register("rflags", 0x8D5)  # OF SF ZF AF PF CF
    assert machine.get_register("rflags") == 0x8D7  # bit 1 always reads 1
    machine.set_register("rflags", 0)
    assert machine.get_register("rflags") == 0x2


def test_a_real_mode_selector_write_also_sets_the_base(flat_machine):
    machine = flat_machine(SUM_FLAT)
    machine.set_register("ds", 0x1234)
    assert machine.get_register("ds") == 0x1234
    assert machine.get_register("ds_base") == 0x12340


def test_registers_set_from_python_are_what_the_guest_computes_with(flat_machine):
    machine = flat_machine(SUM_FLAT)
    machine.set_register("rbx", 10)  # the program adds BX to its sum before reporting it
    result = machine.run()
    assert result.exit_status == (55 + 10) * 2 + 1


def test_an_unknown_register_is_a_key_error_that_says_so(flat_machine):
    machine = flat_machine(SUM_FLAT)
    with pytest.raises(KeyError, match="unknown register 'eax'"):
        machine.get_register("eax")
    with pytest.raises(KeyError, match="unknown register 'xmm0'"):
        machine.set_register("xmm0", 1)


def test_a_value_that_does_not_fit_is_refused(flat_machine):
    machine = flat_machine(SUM_FLAT)
    with pytest.raises(ValueError, match="does not fit the 16-bit register 'cs'"):
        machine.set_register("cs", 0x10000)
    with pytest.raises(ValueError, match="64-bit register 'rax'"):
        machine.set_register("rax", 1 << 64)
    with pytest.raises(ValueError, match="16-bit register 'ss'"):
        machine.set_register("ss", -1)
    with pytest.raises(TypeError, match="takes an int"):
        machine.set_register("rax", "1")
    with pytest.raises(IndexError, match="cpu 1 does not exist"):
        machine.get_register("rax", cpu=1)


def test_memory_written_from_python_reads_back(flat_machine):
    machine = flat_machine(SUM_FLAT)
    machine.write_memory(0x3000, b"hvsim")
    assert machine.read_memory(0x3000, 5) == b"hvsim"
    machine.write_memory(0x3010, bytearray(b"\x01\x02"))
    machine.write_memory(0x3020, np.arange(4, dtype=np.uint32))
    assert machine.read_memory(0x3010, 2) == b"\x01\x02"
    assert np.frombuffer(machine.read_memory(0x3020, 16), dtype=np.uint32).tolist() == [0, 1, 2, 3]
    assert machine.read_memory(0x3000, 0) == b""


def test_the_guest_sees_python_writes_and_python_sees_guest_writes(flat_machine):
    machine = flat_machine(SUM_FLAT)
    machine.write_memory(0x7C01, (20).to_bytes(2, "little"))  # patch "mov cx, 10" to 20
    result = machine.run()
    total = sum(range(21))
    assert result.exit_status == (total & 0xFF) * 2 + 1
    assert int.from_bytes(machine.read_memory(0x2000, 2), "little") == total


def test_memory_outside_ram_is_a_value_error(flat_machine):
    machine = flat_machine(SUM_FLAT, memory="2M")
    assert len(machine.read_memory((2 << 20) - 4, 4)) == 4
    with pytest.raises(ValueError, match=r"\[0x1ffffe, 0x200002\) is outside guest RAM \[0x0, 0x200000\)"):
        machine.read_memory((2 << 20) - 2, 4)
    with pytest.raises(ValueError, match="outside guest RAM"):
        machine.write_memory(2 << 20, b"x")
    with pytest.raises(ValueError, match="outside guest RAM"):
        machine.read_memory(0xFFFF_FFFF_FFFF_FFF0, 0x20)
