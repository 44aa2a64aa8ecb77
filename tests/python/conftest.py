# Fixtures of the Python tests: the guest images meson built, and small real-mode programs
# (programs.py) written to temporary files.
import os

import pytest

import hvsim

from programs import LOAD_ADDRESS


@pytest.fixture
def flat_image(tmp_path):
    """Writes program bytes to a file and returns its path."""
    def write(code, name="prog.bin"):
        path = tmp_path / name
        path.write_bytes(code)
        return str(path)
    return write


@pytest.fixture
def flat_machine(flat_image):
    """A machine (serial captured) with a program loaded at 0x7c00 in real mode."""
    machines = []

    def make(code, **options):
        options.setdefault("serial", "capture")
        machine = hvsim.Machine(**options)
        machine.load_flat(flat_image(code), LOAD_ADDRESS)
        machines.append(machine)
        return machine
    yield make
    for machine in machines:
        machine.close()


@pytest.fixture
def hello_elf():
    """The demonstration guest built by meson (tests/guest/hello.elf)."""
    directory = os.environ.get("HVSIM_GUEST_DIR")
    path = os.path.join(directory, "hello.elf") if directory else hvsim.find_guest_image("hello.elf")
    assert os.path.exists(path), f"{path} is missing: build the project (ninja) first"
    return path
