// The one event record of the simulator and the stream that carries it to observers.
// Context: hot path. Cheap when nobody listens: one test of a mask, no allocation.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "events_table.h"

namespace sim {

enum class VirtMode : uint8_t { none = 0, root = 1, guest = 2 };

// ../shared/DESIGN.md "Contracts: Events". a/b/c are kind-specific (sim/tables/events.toml).
struct Event {
    EventKind kind;
    VirtMode virt;
    uint8_t cpl;
    uint8_t vcpu;
    uint16_t partition;
    uint64_t instruction;  // index of the instruction (retired count of its vCPU before it)
    uint64_t cycle;
    uint64_t rip;
    uint64_t a, b, c;
};

class EventObserver {
public:
    virtual ~EventObserver() = default;
    virtual void on_event(const Event& e) = 0;
    virtual void flush() {}
};

// Fans events out to observers; each observer subscribes to a set of kinds.
class EventStream {
public:
    using Mask = uint64_t;
    static constexpr Mask all_kinds = ~Mask{0};
    static constexpr Mask bit(EventKind k) { return Mask{1} << static_cast<unsigned>(k); }

    bool wants(EventKind k) const { return (mask_ & bit(k)) != 0; }
    bool any() const { return mask_ != 0; }

    void subscribe(std::shared_ptr<EventObserver> observer, Mask kinds = all_kinds);
    void unsubscribe(const EventObserver* observer);
    void emit(const Event& e) const;
    void flush() const;

private:
    struct Subscription {
        std::shared_ptr<EventObserver> observer;
        Mask kinds;
    };
    std::vector<Subscription> subs_;
    Mask mask_ = 0;
};

}  // namespace sim
