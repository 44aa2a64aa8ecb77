// Socket types shared by the bus and its devices: one bus width, the TLM-2.0 base protocol.
// Context: included by every TLM module of bus/.
#pragma once

#include <systemc>
#include <tlm>
#include <tlm_utils/simple_target_socket.h>

namespace bus {

// Bits per beat. Loosely timed models move a whole access in one call, so this only has to
// agree between the sockets that bind; 64 matches the widest access the core makes.
inline constexpr unsigned kBusWidth = 64;

using TargetSocket = tlm::tlm_target_socket<kBusWidth>;

template <class Module>
using SimpleTargetSocket = tlm_utils::simple_target_socket<Module, kBusWidth>;

}  // namespace bus
