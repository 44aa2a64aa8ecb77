// Event observers that write traces (JSON lines, CSV) and keep the last events for reports.
// Context: output sinks; the only places that turn events into text.
#pragma once
#include <cstdio>
#include <deque>
#include <string>

#include "sim/kernel/event.h"

namespace sim {

// One JSON object per line: {"kind": "exception", "insn": 12, "cycle": 12, ...}.
class JsonLinesTrace final : public EventObserver {
public:
    explicit JsonLinesTrace(const std::string& path);
    ~JsonLinesTrace() override;
    void on_event(const Event& e) override;
    void flush() override;

private:
    std::FILE* out_;
};

// Comma-separated, with a header row; the columns of sim::Event.
class CsvTrace final : public EventObserver {
public:
    explicit CsvTrace(const std::string& path);
    ~CsvTrace() override;
    void on_event(const Event& e) override;
    void flush() override;

private:
    std::FILE* out_;
};

// The last `capacity` events, for failure reports (a triple fault shows what led to it).
class RecentEvents final : public EventObserver {
public:
    explicit RecentEvents(size_t capacity = 16) : capacity_(capacity) {}
    void on_event(const Event& e) override {
        if (events_.size() == capacity_) events_.pop_front();
        events_.push_back(e);
    }
    const std::deque<Event>& events() const { return events_; }

private:
    size_t capacity_;
    std::deque<Event> events_;
};

std::string describe(const Event& e);  // one human-readable line
std::string to_json(const Event& e);

}  // namespace sim
