# MachineConfig, Machine construction and the errors of set-up.
import pytest

import hvsim


def test_a_config_has_the_cli_defaults_except_serial_none():
    config = hvsim.MachineConfig()
    assert config.vendor == "intel"
    assert config.memory == 64 << 20
    assert config.cpus == 1
    assert config.serial == "none"
    assert config.quantum == 10000
    assert config.count_mnemonics is False


def test_memory_is_given_as_an_int_or_a_size_string():
    assert hvsim.MachineConfig(memory="16M").memory == 16 << 20
    assert hvsim.MachineConfig(memory=2 << 20).memory == 2 << 20
    assert hvsim.MachineConfig(memory="1G").memory == 1 << 30
    assert hvsim.parse_size("512K") == 512 << 10


def test_a_machine_takes_a_config_and_keyword_options_over_it():
    config = hvsim.MachineConfig(vendor="amd", memory="8M")
    with hvsim.Machine(config, quantum=500) as machine:
        assert machine.config.vendor == "amd"
        assert machine.config.memory == 8 << 20
        assert machine.config.quantum == 500
        assert machine.memory_size == 8 << 20
        assert machine.cpu_count == 1
    assert config.quantum == 10000  # the caller's config is not changed


def test_replace_returns_a_changed_copy():
    config = hvsim.MachineConfig()
    other = config.replace(vendor="amd")
    assert (config.vendor, other.vendor) == ("intel", "amd")
    assert "vendor='amd'" in repr(other)


def test_a_bad_vendor_is_a_config_error_that_is_a_value_error():
    with pytest.raises(hvsim.ConfigError, match="unknown vendor 'via' \\(expected intel or amd\\)"):
        hvsim.Machine(vendor="via")
    assert issubclass(hvsim.ConfigError, ValueError)
    config = hvsim.MachineConfig()
    with pytest.raises(ValueError, match="unknown vendor"):
        config.vendor = "cyrix"


def test_a_bad_memory_size_says_what_is_wrong():
    with pytest.raises(hvsim.ConfigError, match="unknown size suffix in '12Q'"):
        hvsim.MachineConfig(memory="12Q")
    with pytest.raises(hvsim.ConfigError, match="at least 1 MiB"):
        hvsim.Machine(memory="64K")
    with pytest.raises(hvsim.ConfigError, match="must not be negative"):
        hvsim.MachineConfig(memory=-1)


def test_more_than_one_cpu_builds_a_multiprocessor_machine():
    m = hvsim.Machine(cpus=2)
    assert m.cpu_count == 2
    with pytest.raises(hvsim.ConfigError, match="between 1 and 255"):
        hvsim.Machine(cpus=256)


def test_an_unknown_option_is_a_type_error_naming_the_options():
    with pytest.raises(TypeError, match="unknown machine option 'vendr'.*vendor, memory"):
        hvsim.Machine(vendr="amd")
    with pytest.raises(TypeError, match="config must be a MachineConfig"):
        hvsim.Machine("intel")
    with pytest.raises(TypeError, match="cpus must be an int"):
        hvsim.MachineConfig(cpus="1")
    assert "count_mnemonics" in hvsim.option_names()


def test_a_serial_file_that_cannot_be_opened_is_a_config_error(tmp_path):
    with pytest.raises(hvsim.ConfigError, match="cannot open for serial output"):
        hvsim.Machine(serial=str(tmp_path / "no" / "such" / "dir" / "com1.txt"))


def test_a_closed_machine_refuses_further_calls():
    machine = hvsim.Machine()
    machine.close()
    machine.close()  # harmless, as for files
    assert machine.closed
    assert "closed" in repr(machine)
    with pytest.raises(RuntimeError, match="closed"):
        machine.run(10)
