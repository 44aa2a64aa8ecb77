# Events from Python: recorded in C++, handed over in batches as numpy structured arrays.
import json

import numpy as np
import pytest

import hvsim
from programs import COUNT_FLAT, HELLO_FLAT, PORTS_FLAT


def test_the_event_dtype_has_the_columns_of_sim_event():
    assert hvsim.event_dtype.names == ("kind", "insn", "cycle", "vcpu", "partition", "virt", "cpl",
                                       "rip", "a", "b", "c")
    assert hvsim.event_dtype["kind"] == np.uint8
    assert hvsim.event_dtype["rip"] == np.uint64


def test_the_kind_table_in_python_matches_the_compiled_one():
    assert hvsim.event_kinds() == {row[1]: row[0] for row in hvsim.events_table.ROWS}
    assert hvsim.kind_name(hvsim.kind_value("port_out")) == "port_out"
    assert hvsim.kind_name(250) == "unknown(250)"


def test_uart_writes_are_recorded_as_port_out_events(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    recorder = machine.record_events(["port_out"])
    assert recorder.kinds == ["port_out"]
    machine.run()
    assert len(recorder) == 4
    events = recorder.take()
    assert isinstance(events, np.ndarray) and events.dtype == hvsim.event_dtype
    assert (events["kind"] == hvsim.kind_value("port_out")).all()
    uart = events[events["a"] == 0x3F8]
    assert bytes(uart["c"].astype(np.uint8)).decode() == "hi\n"
    assert (uart["b"] == 1).all()  # size in bytes
    assert events[-1]["a"] == 0xF4 and events[-1]["c"] == 0
    assert (np.diff(events["insn"].astype(np.int64)) > 0).all()
    assert (events["rip"] >= 0x7C00).all() and (events["cpl"] == 0).all()
    assert len(recorder.take()) == 0  # take() hands each event over once


def test_only_the_kinds_asked_for_are_recorded(flat_machine):
    machine = flat_machine(PORTS_FLAT)
    machine.record_events(["port_in", "exception"])
    machine.run()
    events = machine.take_events()
    assert [hvsim.kind_name(k) for k in events["kind"]] == ["port_in"]
    assert (events[0]["a"], events[0]["b"]) == (0x3FD, 1)  # port, size
    assert int(events[0]["c"]) & 0x20  # the transmit holding register is empty


def test_the_debug_exit_is_recorded_as_an_event(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    machine.record_events(["debug_exit"])
    machine.run()
    events = machine.take_events()
    assert [hvsim.kind_name(k) for k in events["kind"]] == ["debug_exit"]
    assert (events[0]["a"], events[0]["b"]) == (0, 1)  # value, status


def test_events_arrive_in_batches_across_runs(flat_machine):
    machine = flat_machine(COUNT_FLAT)
    recorder = machine.record_events(None)
    machine.run(100)
    assert len(recorder.take()) == 0  # the loop makes no events
    assert set(recorder.kinds) == set(hvsim.event_kinds())


def test_an_unknown_event_kind_is_a_value_error_listing_the_known_ones(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    with pytest.raises(ValueError, match="unknown event kind 'port_write' \\(known: exception, "):
        machine.record_events(["port_out", "port_write"])
    with pytest.raises(TypeError, match="names"):
        machine.record_events([7])
    with pytest.raises(ValueError, match="at least one event kind"):
        machine.record_events([])
    with pytest.raises(ValueError, match="limit must be None or a positive int"):
        machine.record_events("port_out", limit=0)
    with pytest.raises(RuntimeError, match="record_events"):
        machine.take_events()


def test_a_limit_keeps_the_first_events_and_counts_the_rest(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    recorder = machine.record_events("port_out", limit=2)
    machine.run()
    assert (len(recorder), recorder.dropped) == (2, 2)
    assert bytes(recorder.take()["c"].astype(np.uint8)) == b"hi"


def test_a_closed_recorder_stops_recording_but_keeps_what_it_has(flat_machine):
    machine = flat_machine(HELLO_FLAT)
    kept = machine.record_events(["port_out"])
    stopped = machine.record_events(["port_out"])
    stopped.close()
    assert not stopped.active and kept.active
    machine.run()
    assert (len(kept), len(stopped)) == (4, 0)
    assert len(machine.take_events()) == 0  # the default is the most recent recorder


def test_events_become_a_dataframe_with_kind_names(flat_machine):
    machine = flat_machine(PORTS_FLAT)
    machine.record_events(["port_out", "port_in"])
    machine.run()
    frame = hvsim.events_dataframe(machine)
    assert list(frame.columns) == list(hvsim.event_dtype.names)
    assert frame["kind"].tolist() == ["port_in", "port_out", "port_out"]
    assert set(frame["kind"].cat.categories) == set(hvsim.event_kinds())
    assert set(frame["virt"]) == {"none"}
    assert frame.loc[frame["kind"] == "port_out", "a"].tolist() == [0x3F8, 0xF4]


def test_trace_writes_json_lines_or_csv_as_the_cli_does(flat_machine, tmp_path):
    machine = flat_machine(PORTS_FLAT)
    machine.trace(tmp_path / "trace.jsonl", ["port_out"])
    machine.trace(str(tmp_path / "trace.csv"))
    machine.run()
    lines = [json.loads(line) for line in (tmp_path / "trace.jsonl").read_text().splitlines()]
    assert [(e["kind"], e["a"]) for e in lines] == [("port_out", 0x3F8), ("port_out", 0xF4)]
    csv = (tmp_path / "trace.csv").read_text().splitlines()
    assert csv[0] == "kind,insn,cycle,vcpu,partition,virt,cpl,rip,a,b,c"
    assert [row.split(",")[0] for row in csv[1:]] == ["port_in", "port_out", "port_out", "debug_exit"]
    with pytest.raises(hvsim.ConfigError, match="cannot write trace"):
        machine.trace(tmp_path / "no" / "such" / "trace.csv")


def test_the_recent_events_tell_what_happened_last(flat_machine):
    machine = flat_machine(PORTS_FLAT)
    machine.run()
    recent = machine.recent_events()
    assert [hvsim.kind_name(k) for k in recent["kind"]] == ["port_in", "port_out", "port_out", "debug_exit"]
    lines = machine.recent_event_lines()
    assert len(lines) == 4 and "debug_exit" in lines[3] and "port_in" in lines[0] and "port=0x3fd" in lines[0]
