# The demonstration guest (tests/guest/hello.elf, a 64-bit C program) run from Python.
import numpy as np

import hvsim


def test_the_demo_guest_runs_to_a_passing_exit(hello_elf):
    with hvsim.Machine(serial="capture") as machine:
        image = machine.load_kernel(hello_elf)
        assert image.format == "elf64"
        assert machine.cpu_mode() == "long64"
        result = machine.run(2_000_000_000)
        assert result.stop_reason == "exit", result.message
        assert result.exit_status == 1
        assert "hello from hvsim" in machine.serial_output
        assert "primes below 100000: 9592" in machine.serial_output


def test_the_demo_guest_runs_on_both_vendors_with_the_same_output(hello_elf):
    outputs = [hvsim.run_image(hello_elf, vendor=v).serial_output for v in ("intel", "amd")]
    assert outputs[0] == outputs[1] and "fib(20): 6765" in outputs[0]


def test_every_serial_character_of_the_demo_guest_is_a_port_out_event(hello_elf):
    with hvsim.Machine(serial="capture") as machine:
        machine.load_kernel(hello_elf)
        recorder = machine.record_events(["port_out"])
        machine.run(2_000_000_000)
        events = recorder.take()
        uart = events[events["a"] == 0x3F8]
        assert bytes(uart["c"].astype(np.uint8)).decode() == machine.serial_output
        assert (events["cpl"] == 0).all()
