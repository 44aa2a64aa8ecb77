// hvsim._core: event recording. A C++ observer collects events of the kinds asked for; Python
// takes them in batches as one numpy structured array (never a callback per event).
// Context: the observer runs on the hot path while run() has released the GIL; Python reads
// only between runs.
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "bindings.h"

namespace hvsim_py {

// One row of the array Python receives: the columns of sim::Event in the order of the docs.
struct EventRow {
    uint8_t kind;
    uint64_t insn, cycle;
    uint8_t vcpu;
    uint16_t partition;
    uint8_t virt, cpl;  // virt: 0 none, 1 root, 2 guest (sim::VirtMode)
    uint64_t rip, a, b, c;
};

static EventRow row_of(const sim::Event& e) {
    return {static_cast<uint8_t>(e.kind), e.instruction, e.cycle, e.vcpu, e.partition,
            static_cast<uint8_t>(e.virt), e.cpl, e.rip, e.a, e.b, e.c};
}

class Recorder final : public sim::EventObserver {
public:
    Recorder(sim::EventStream::Mask kinds, uint64_t limit) : kinds_(kinds), limit_(limit) {}
    void on_event(const sim::Event& e) override {
        if (limit_ && rows_.size() >= limit_) {
            ++dropped_;
            return;
        }
        rows_.push_back(row_of(e));
    }
    std::vector<EventRow> take() { return std::exchange(rows_, {}); }
    size_t pending() const { return rows_.size(); }
    uint64_t dropped() const { return dropped_; }
    sim::EventStream::Mask kinds() const { return kinds_; }
    bool subscribed = true;
    bool has_python_handle = true;

private:
    sim::EventStream::Mask kinds_;
    uint64_t limit_;
    uint64_t dropped_ = 0;
    std::vector<EventRow> rows_;
};

namespace {

// The Python EventRecorder: keeps its machine alive; stops recording when closed, or when it is
// garbage and not the machine's default recorder (the one Machine.take_events reads).
class RecorderHandle {
public:
    RecorderHandle(std::shared_ptr<Recorder> r, py::object machine) : rec(std::move(r)), machine_(std::move(machine)) {}
    ~RecorderHandle() {
        rec->has_python_handle = false;
        MachineHandle& h = handle();
        if (h.default_recorder != rec && !h.closed() && !h.running()) unsubscribe(h, *rec);
    }
    RecorderHandle(const RecorderHandle&) = delete;
    RecorderHandle& operator=(const RecorderHandle&) = delete;
    MachineHandle& handle() { return machine_.cast<MachineHandle&>(); }
    static void unsubscribe(MachineHandle& h, Recorder& r) {
        if (!r.subscribed) return;
        if (!h.closed()) h.machine().events().unsubscribe(&r);
        r.subscribed = false;
    }
    std::shared_ptr<Recorder> rec;

private:
    py::object machine_;
};

sim::EventStream::Mask mask_of(const py::object& kinds) {
    if (kinds.is_none()) return sim::EventStream::all_kinds;
    std::vector<std::string> names;
    if (py::isinstance<py::str>(kinds)) names.push_back(kinds.cast<std::string>());
    else
        for (const py::handle k : kinds) {
            if (!py::isinstance<py::str>(k)) throw py::type_error("event kinds are names (str), e.g. 'port_out'");
            names.push_back(k.cast<std::string>());
        }
    sim::EventStream::Mask mask = 0;
    for (const std::string& n : names) {
        const auto kind = sim::eventKind_from_name(n);
        if (!kind) {
            std::string known;
            for (const auto& row : sim::kEventKindTable) known += std::string(known.empty() ? "" : ", ") + row.name;
            throw py::value_error("unknown event kind '" + n + "' (known: " + known + ")");
        }
        mask |= sim::EventStream::bit(*kind);
    }
    if (!mask) throw py::value_error("give at least one event kind (None: all kinds)");
    return mask;
}

// numpy is imported when events are first handed over, not when hvsim is imported.
void register_dtype() {
    static bool registered = false;
    if (registered) return;
    PYBIND11_NUMPY_DTYPE(EventRow, kind, insn, cycle, vcpu, partition, virt, cpl, rip, a, b, c);
    registered = true;
}

// Hands the rows to numpy without copying: the array owns the vector.
py::array to_array(std::vector<EventRow> rows) {
    register_dtype();
    auto* owned = new std::vector<EventRow>(std::move(rows));
    py::capsule owner(owned, [](void* p) { delete static_cast<std::vector<EventRow>*>(p); });
    return py::array_t<EventRow>(static_cast<py::ssize_t>(owned->size()), owned->data(), owner);
}

py::array take(RecorderHandle& r) {
    if (r.handle().running()) throw std::runtime_error("this machine is running (run() in another thread)");
    return to_array(r.rec->take());
}

std::vector<std::string> kind_names(sim::EventStream::Mask mask) {
    std::vector<std::string> names;
    for (const auto& row : sim::kEventKindTable)
        if (mask & sim::EventStream::bit(row.value)) names.emplace_back(row.name);
    return names;
}

py::object record_events(const py::object& self, const py::object& kinds, const py::object& limit) {
    MachineHandle& h = self.cast<MachineHandle&>();
    sim::Machine& m = h.machine();
    const sim::EventStream::Mask mask = mask_of(kinds);
    if (!limit.is_none() && (!py::isinstance<py::int_>(limit) || limit.cast<py::int_>() < py::int_(1)))
        throw py::value_error("limit must be None or a positive int");
    const uint64_t cap = limit.is_none() ? 0 : limit.cast<uint64_t>();
    auto rec = std::make_shared<Recorder>(mask, cap);
    m.events().subscribe(rec, mask);
    // The previous default keeps recording while Python holds it; otherwise nobody can read it.
    if (h.default_recorder && !h.default_recorder->has_python_handle)
        RecorderHandle::unsubscribe(h, *h.default_recorder);
    h.default_recorder = rec;
    return py::cast(std::make_unique<RecorderHandle>(rec, self));
}

// As the CLI's --trace: CSV for a .csv path, JSON lines otherwise.
void trace(MachineHandle& h, const py::object& path_object, const py::object& kinds) {
    sim::Machine& m = h.machine();
    const sim::EventStream::Mask mask = mask_of(kinds);
    const std::string path = py::module_::import("os").attr("fspath")(path_object).cast<std::string>();
    const bool csv = path.size() > 4 && path.compare(path.size() - 4, 4, ".csv") == 0;
    std::shared_ptr<sim::EventObserver> writer;
    if (csv) writer = std::make_shared<sim::CsvTrace>(path);
    else writer = std::make_shared<sim::JsonLinesTrace>(path);
    m.events().subscribe(writer, mask);
}

}  // namespace

void init_events(py::module_& m, py::class_<MachineHandle>& machine) {
    m.def("event_dtype", [] {
        register_dtype();
        return py::dtype::of<EventRow>();
    }, "The numpy dtype of event arrays (imports numpy).");
    m.def("event_kinds", [] {
        py::dict d;
        for (const auto& row : sim::kEventKindTable) d[py::str(row.name)] = static_cast<unsigned>(row.value);
        return d;
    }, "{kind name: value} as compiled in (sim/tables/events.toml).");

    py::class_<RecorderHandle>(m, "EventRecorder", "Collects events of chosen kinds in C++ until take().")
        .def("take", &take, "The events collected since the last take(), as a numpy array of event_dtype.")
        .def("__len__", [](RecorderHandle& r) { return r.rec->pending(); })
        .def_property_readonly("pending", [](RecorderHandle& r) { return r.rec->pending(); }, "events waiting for take()")
        .def_property_readonly("dropped", [](RecorderHandle& r) { return r.rec->dropped(); }, "events lost to the limit")
        .def_property_readonly("kinds", [](RecorderHandle& r) { return kind_names(r.rec->kinds()); })
        .def_property_readonly("active", [](RecorderHandle& r) { return r.rec->subscribed && !r.handle().closed(); })
        .def("close", [](RecorderHandle& r) {
                 if (r.handle().running()) throw std::runtime_error("this machine is running (run() in another thread)");
                 RecorderHandle::unsubscribe(r.handle(), *r.rec);
             },
             "Stop recording (events already collected can still be taken).");

    machine
        .def("record_events", &record_events, py::arg("kinds") = py::none(), py::arg("limit") = py::none(),
             "Start recording events of the named kinds (None: all; ValueError for an unknown name). "
             "At most `limit` events wait for take(); later ones are counted as dropped. Returns the "
             "EventRecorder, which also becomes the one take_events() reads.")
        .def("take_events", [](MachineHandle& h) {
                 if (!h.default_recorder) throw std::runtime_error("no events are recorded: call record_events(kinds) first");
                 if (h.running()) throw std::runtime_error("this machine is running (run() in another thread)");
                 return to_array(h.default_recorder->take());
             },
             "take() of the recorder most recently started by record_events().")
        .def("trace", &trace, py::arg("path"), py::arg("kinds") = py::none(),
             "Write events of the named kinds (None: all) to a file, as the CLI's --trace: CSV "
             "for a .csv path, else JSON lines. Flushed after each run, closed with the machine.")
        .def("recent_events", [](MachineHandle& h) {
                 std::vector<EventRow> rows;
                 for (const sim::Event& e : h.machine().recent_events().events()) rows.push_back(row_of(e));
                 return to_array(std::move(rows));
             },
             "The last events of every kind but page_walk (what led to a shutdown), as an array.")
        .def("recent_event_lines", [](MachineHandle& h) {
                 std::vector<std::string> lines;
                 for (const sim::Event& e : h.machine().recent_events().events()) lines.push_back(sim::describe(e));
                 return lines;
             },
             "The same, one human-readable line each (as the CLI prints after a shutdown).");
}

}  // namespace hvsim_py
