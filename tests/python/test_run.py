# Running machines from Python: results, instruction limits, counters, several machines.
import json
import signal
import threading

import pytest

import hvsim
from programs import COUNT_FLAT, HELLO_FLAT, SUM_FLAT


def test_a_flat_program_prints_on_com1_and_exits_through_the_debug_port(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    result = machine.run()
    assert result.stop_reason == "exit"
    assert result.exit_status == 1
    assert "debug-exit" in result.message
    assert machine.serial_output == "hi\n"
    assert machine.serial_bytes == b"hi\n"
    assert result.instructions == 9
    assert result.host_seconds >= 0 and result.mips >= 0
    assert "stop_reason='exit'" in repr(result)


def test_a_loop_computes_its_sum_and_reports_it_as_exit_status(flat_machine):
    machine = flat_machine(SUM_FLAT)
    result = machine.run()
    assert (result.stop_reason, result.exit_status) == ("exit", 55 * 2 + 1)
    assert machine.get_register("rax") & 0xFFFF == 55
    assert machine.get_register("rcx") & 0xFFFF == 0


def test_run_with_an_instruction_limit_stops_there_and_continues_on_the_next_call(flat_machine):
    machine = flat_machine(COUNT_FLAT)
    first = machine.run(1000)
    assert (first.stop_reason, first.instructions) == ("instruction_limit", 1000)
    assert machine.get_register("rax") == 500  # one ADD per two instructions
    second = machine.run(1001)
    assert (second.stop_reason, second.instructions) == ("instruction_limit", 1001)
    assert machine.get_register("rax") == 1001
    assert machine.stats()["cpu0.instructions"] == 2001


def test_a_finished_guest_stays_finished(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    assert machine.run().stop_reason == "exit"
    again = machine.run(100)
    assert (again.stop_reason, again.instructions) == ("exit", 0)


def test_a_run_longer_than_one_slice_counts_every_instruction(flat_machine):
    machine = flat_machine(COUNT_FLAT, quantum=3000)
    limit = (1 << 24) + 12345  # the binding takes the GIL back between slices of ~2**24
    result = machine.run(limit)
    assert (result.stop_reason, result.instructions) == ("instruction_limit", limit)
    assert machine.get_register("rax") == ((limit + 1) // 2) & 0xFFFF  # 16-bit ADDs


def test_stats_are_flat_numbers_named_by_component(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    result = machine.run()
    stats = machine.stats()
    assert stats["cpu0.instructions"] == result.instructions
    assert isinstance(stats["cpu0.instructions"], int)
    assert stats["cpu0.port_writes.0x3f8"] == 3
    assert stats["cpu0.port_writes.0xf4"] == 1
    assert all(isinstance(k, str) and isinstance(v, (int, float)) for k, v in stats.items())


def test_stats_json_is_the_clis_object(flat_machine):
    machine = flat_machine(HELLO_FLAT, vendor="amd")
    machine.run()
    report = json.loads(machine.stats_json())
    assert report["stop_reason"] == "exit"
    assert report["exit_status"] == 1
    assert report["vendor"] == "amd"
    assert report["instructions"] == 9
    assert "cpu0" in json.dumps(report["counters"])


def test_mnemonic_counts_are_there_when_asked_for(flat_machine):
    machine = flat_machine(HELLO_FLAT, count_mnemonics=True)
    machine.run()
    mnemonics = {k.split(".")[-1]: v for k, v in machine.stats().items() if ".mnemonics." in k}
    assert (mnemonics["mov"], mnemonics["out"]) == (5, 4)
    assert sum(mnemonics.values()) == 9


def test_two_machines_run_one_after_another_in_one_process(flat_machine):
    for vendor in ("intel", "amd", "intel"):
        machine = flat_machine(SUM_FLAT, vendor=vendor)
        assert machine.run().exit_status == 111
        machine.close()


def test_two_live_machines_take_turns_without_disturbing_each_other(flat_machine):
    counter = flat_machine(COUNT_FLAT)
    hello = flat_machine(HELLO_FLAT)
    assert counter.run(100).stop_reason == "instruction_limit"
    assert hello.run().stop_reason == "exit"
    assert counter.run(100).stop_reason == "instruction_limit"
    assert counter.get_register("rax") == 100
    assert hello.serial_output == "hi\n" and counter.serial_output == ""


def test_run_releases_the_gil_and_guards_the_machine_meanwhile(flat_machine):
    machine = flat_machine(COUNT_FLAT)
    started = threading.Event()
    results = []

    def worker():
        started.set()
        results.append(machine.run(100_000_000))

    thread = threading.Thread(target=worker)
    thread.start()
    started.wait()
    refused = 0
    while thread.is_alive():  # this loop runs only because run() let go of the GIL
        try:
            machine.get_register("rax")
        except RuntimeError as error:
            assert "running" in str(error)
            refused += 1
        thread.join(0.01)
    assert results[0].instructions == 100_000_000
    assert refused > 0


def test_a_signal_handler_exception_interrupts_a_run_which_can_then_continue(flat_machine):
    machine = flat_machine(COUNT_FLAT)

    class Interrupted(Exception):
        pass

    def on_alarm(signum, frame):
        raise Interrupted

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.05)
        with pytest.raises(Interrupted):
            machine.run()  # no limit: only the signal ends it
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert machine.stats()["cpu0.instructions"] > 0
    assert machine.run(10).stop_reason == "instruction_limit"


def test_run_image_boots_a_flat_program_on_a_fresh_machine(flat_image):
    run = hvsim.run_image(flat_image(HELLO_FLAT), flat_address=0x7C00, vendor="amd")
    assert run.result.stop_reason == "exit"
    assert run.serial_output == "hi\n"
    assert run.stats["cpu0.instructions"] == run.result.instructions
    assert run.image.format == "flat"
