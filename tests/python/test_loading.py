# Loaders from Python: flat binaries and kernels, and their errors.
import pytest

import hvsim
from programs import HELLO_FLAT, LOAD_ADDRESS


def test_load_flat_puts_the_program_in_memory_and_enters_real_mode(flat_image):
    with hvsim.Machine() as machine:
        image = machine.load_flat(flat_image(HELLO_FLAT), LOAD_ADDRESS)
        assert (image.format, image.entry) == ("flat", LOAD_ADDRESS)
        assert image.highest - image.lowest == len(HELLO_FLAT)
        assert machine.read_memory(LOAD_ADDRESS, len(HELLO_FLAT)) == HELLO_FLAT
        assert machine.cpu_mode() == "real"
        assert machine.get_register("cs") == 0
        assert machine.get_register("rip") == LOAD_ADDRESS


def test_paths_may_be_path_objects(tmp_path):
    path = tmp_path / "prog.bin"
    path.write_bytes(HELLO_FLAT)
    with hvsim.Machine() as machine:
        assert machine.load_flat(path, 0x1000).entry == 0x1000


def test_a_missing_file_is_a_config_error_naming_it(tmp_path):
    missing = str(tmp_path / "missing.elf")
    with hvsim.Machine() as machine:
        with pytest.raises(hvsim.ConfigError, match="missing.elf: cannot open"):
            machine.load_kernel(missing)
        with pytest.raises(hvsim.ConfigError, match="missing.elf: cannot open"):
            machine.load_flat(missing, LOAD_ADDRESS)


def test_a_file_that_is_not_elf_is_refused_with_advice(flat_image):
    with hvsim.Machine() as machine:
        with pytest.raises(hvsim.ConfigError, match="not an ELF file and no multiboot header"):
            machine.load_kernel(flat_image(b"\x90" * 64, "junk.bin"))


def test_a_flat_image_above_one_mib_is_refused(flat_image):
    with hvsim.Machine() as machine:
        with pytest.raises(hvsim.ConfigError, match="below 1 MiB"):
            machine.load_flat(flat_image(HELLO_FLAT), 0x100000)


def test_find_guest_image_finds_the_built_demo_guest(hello_elf):
    assert hvsim.find_guest_image("hello.elf").endswith("hello.elf")
    with pytest.raises(hvsim.ConfigError, match="not found"):
        hvsim.find_guest_image("no-such-guest.elf")
