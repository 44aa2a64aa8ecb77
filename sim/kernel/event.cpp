// The event stream: subscription bookkeeping and fan-out. Context: any.
#include "event.h"

#include <algorithm>

namespace sim {

void EventStream::subscribe(std::shared_ptr<EventObserver> observer, Mask kinds) {
    subs_.push_back({std::move(observer), kinds});
    mask_ |= kinds;
}

void EventStream::unsubscribe(const EventObserver* observer) {
    std::erase_if(subs_, [&](const Subscription& s) { return s.observer.get() == observer; });
    mask_ = 0;
    for (const auto& s : subs_) mask_ |= s.kinds;
}

void EventStream::emit(const Event& e) const {
    const Mask b = bit(e.kind);
    for (const auto& s : subs_)
        if (s.kinds & b) s.observer->on_event(e);
}

void EventStream::flush() const {
    for (const auto& s : subs_) s.observer->flush();
}

}  // namespace sim
