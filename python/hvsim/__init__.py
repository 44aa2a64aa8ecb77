"""hvsim from Python: configure a machine, load an image, run it, read counters and events.

The simulator is the C++ extension ``hvsim._core``; this package re-exports it and adds the
helpers that belong on the Python side (pandas frames, one-call runs). The same operations as
the ``hvsim`` CLI::

    import hvsim
    m = hvsim.Machine(vendor="amd", memory="64M", serial="capture")
    m.load_kernel(hvsim.find_guest_image("hello.elf"))
    rec = m.record_events(["port_out", "exception"])
    result = m.run()                       # releases the GIL; Ctrl-C stops it resumably
    print(result.stop_reason, m.serial_output, m.stats()["cpu0.instructions"])
    frame = hvsim.events_dataframe(rec)    # pandas, kind names decoded
"""
import dataclasses
import os

from . import _core, events_table
from ._core import (
    ConfigError,
    EventRecorder,
    LoadedImage,
    Machine,
    MachineConfig,
    RunResult,
    __version__,
    event_kinds,
    option_names,
    parse_size,
    register_names,
)

__all__ = [
    "ConfigError", "EventRecorder", "LoadedImage", "Machine", "MachineConfig", "RunResult",
    "ImageRun", "event_dtype", "event_kinds", "events_dataframe", "find_guest_image",
    "kind_name", "kind_value", "option_names", "parse_size", "register_names", "run_image",
    "__version__",
]


def __getattr__(name):
    # hvsim.event_dtype: the numpy dtype of event arrays, made when first asked for, so that
    # importing hvsim does not import numpy.
    if name == "event_dtype":
        return _core.event_dtype()
    raise AttributeError(f"module 'hvsim' has no attribute {name!r}")


#: sim::VirtMode values of the ``virt`` column.
VIRT_NAMES = {0: "none", 1: "root", 2: "guest"}


def kind_name(value):
    """The name of an event kind value ('port_out' for 7); 'unknown(N)' for an unnamed value."""
    row = events_table.BY_VALUE.get(int(value))
    return row["name"] if row else f"unknown({int(value)})"


def kind_value(name):
    """The value of an event kind name; ValueError for an unknown name."""
    try:
        return events_table.BY_NAME[name]["value"]
    except KeyError:
        raise ValueError(f"unknown event kind {name!r} (known: {', '.join(events_table.BY_NAME)})") from None


def find_guest_image(name):
    """Path of a guest image built with hvsim: $HVSIM_GUEST_DIR first, then the installed
    images, then the build tree. ConfigError if none has it."""
    directory = os.environ.get("HVSIM_GUEST_DIR")
    if directory:
        path = os.path.join(directory, name)
        if os.path.exists(path):
            return path
    return _core.find_guest_image(name)


def events_dataframe(source):
    """Events as a pandas DataFrame, kind and virt decoded to (categorical) names.

    ``source`` is a Machine (its take_events()), an EventRecorder (its take()) or an array of
    ``event_dtype``; the first two hand over their events, as take() does. The a/b/c columns
    keep their raw values; ``events_table.BY_NAME[kind]`` names them per kind.
    """
    import pandas as pd  # only users of frames pay for pandas

    if isinstance(source, Machine):
        array = source.take_events()
    elif isinstance(source, EventRecorder):
        array = source.take()
    else:
        array = source
    frame = pd.DataFrame({name: array[name] for name in array.dtype.names})
    frame["kind"] = _decode(pd, array["kind"], {row[0]: row[1] for row in events_table.ROWS})
    frame["virt"] = _decode(pd, array["virt"], VIRT_NAMES)
    return frame


def _decode(pd, values, names):
    """uint8 codes -> a Categorical of names (values the table does not name become NaN)."""
    import numpy as np

    categories = [names[v] for v in sorted(names)]
    lookup = np.full(256, -1, dtype=np.int16)
    for code, value in enumerate(sorted(names)):
        lookup[value] = code
    return pd.Categorical.from_codes(lookup[values], categories=categories)


@dataclasses.dataclass
class ImageRun:
    """What run_image() returns: the run, the guest's serial output and every counter."""
    result: RunResult
    serial_output: str
    stats: dict
    image: LoadedImage


def run_image(path, max_instructions=0, cmdline="", flat_address=None, **options):
    """Boot an image on a fresh machine, run it, and return an ImageRun.

    ELF64/multiboot images are loaded with load_kernel(path, cmdline); with ``flat_address``
    the file is a raw real-mode binary loaded there. ``options`` are MachineConfig's; serial
    defaults to 'capture' here. The machine is closed afterwards.
    """
    options.setdefault("serial", "capture")
    with Machine(**options) as machine:
        if flat_address is None:
            image = machine.load_kernel(path, cmdline)
        else:
            image = machine.load_flat(path, flat_address)
        result = machine.run(max_instructions)
        return ImageRun(result, machine.serial_output, machine.stats(), image)
