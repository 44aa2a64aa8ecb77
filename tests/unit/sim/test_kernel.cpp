// sim/kernel: the event stream's subscription masks and the statistics renderings.
#include <gtest/gtest.h>

#include "sim/kernel/event.h"
#include "sim/kernel/stats.h"
#include "exceptions_table.h"

namespace {

struct Counter : sim::EventObserver {
    int seen = 0;
    void on_event(const sim::Event&) override { ++seen; }
};

sim::Event event_of(sim::EventKind k) {
    sim::Event e{};
    e.kind = k;
    return e;
}

}  // namespace

TEST(EventStream, WantsNothingWhileNobodyListens) {
    sim::EventStream s;
    EXPECT_FALSE(s.any());
    EXPECT_FALSE(s.wants(sim::EventKind::exception));
}

TEST(EventStream, DeliversOnlyTheKindsAnObserverSubscribedTo) {
    sim::EventStream s;
    auto c = std::make_shared<Counter>();
    s.subscribe(c, sim::EventStream::bit(sim::EventKind::port_out));
    EXPECT_TRUE(s.wants(sim::EventKind::port_out));
    EXPECT_FALSE(s.wants(sim::EventKind::port_in));
    s.emit(event_of(sim::EventKind::port_out));
    s.emit(event_of(sim::EventKind::port_in));
    EXPECT_EQ(c->seen, 1);
}

TEST(EventStream, UnsubscribingRecomputesTheMask) {
    sim::EventStream s;
    auto a = std::make_shared<Counter>(), b = std::make_shared<Counter>();
    s.subscribe(a, sim::EventStream::bit(sim::EventKind::halt));
    s.subscribe(b, sim::EventStream::bit(sim::EventKind::cpuid));
    s.unsubscribe(a.get());
    EXPECT_FALSE(s.wants(sim::EventKind::halt));
    EXPECT_TRUE(s.wants(sim::EventKind::cpuid));
}

TEST(Stats, JsonRendersScalarsHistogramsAndEscapes) {
    sim::JsonStats j;
    j.scalar("a", 3, "count", "");
    j.scalar("b", 0.5, "s", "");
    j.histogram("h", {{"x\"y", 2}}, "count", "");
    EXPECT_EQ(j.str(), R"({"a": 3, "b": 0.5, "h": {"x\"y": 2}})");
}

TEST(Stats, FlatNamesHistogramBinsWithADot) {
    sim::FlatStats f;
    f.histogram("cpu0.exceptions", {{"page_fault", 4}}, "count", "");
    EXPECT_EQ(f.values.at("cpu0.exceptions.page_fault"), 4);
}

TEST(Tables, ExceptionVectorsCarryTheirErrorCodeRule) {
    EXPECT_TRUE(sim::info(sim::Vector::page_fault)->error_code);
    EXPECT_FALSE(sim::info(sim::Vector::invalid_opcode)->error_code);
    EXPECT_EQ(sim::info(static_cast<sim::Vector>(15)), nullptr);  // reserved: an open enum
    EXPECT_EQ(sim::name(static_cast<sim::Vector>(15)), "unknown");
}
