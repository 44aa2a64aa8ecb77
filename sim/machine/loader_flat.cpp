// Flat binaries in real mode (a boot sector at 0x7c00, a DOS-style image ...).
#include "cpu/boot_state.h"
#include "sim/machine/config.h"
#include "sim/machine/loaders.h"

namespace sim {

std::pair<std::string, uint64_t> parse_flat_spec(const std::string& spec) {
    const auto at = spec.rfind('@');
    if (at == std::string::npos || at == 0 || at + 1 == spec.size())
        throw ConfigError("--load-flat wants FILE@ADDRESS (e.g. boot.bin@0x7c00), got '" + spec + "'");
    uint64_t address;
    try {
        size_t used = 0;
        address = std::stoull(spec.substr(at + 1), &used, 0);
        if (used != spec.size() - at - 1) throw std::invalid_argument("trailing characters");
    } catch (const std::exception&) {
        throw ConfigError("--load-flat: bad address in '" + spec + "'");
    }
    return {spec.substr(0, at), address};
}

LoadedImage load_flat(cpu::Core& core, uint64_t memory_bytes, const std::string& path, uint64_t address) {
    const std::vector<uint8_t> file = read_file(path);
    if (file.empty()) throw ConfigError(path + ": empty file");
    if (address >= 0x100000 || address + file.size() > std::min<uint64_t>(memory_bytes, 0x110000))
        throw ConfigError(path + ": a flat image runs in real mode and must lie below 1 MiB (at 0x" +
                          cpu::hex(address) + ", " + std::to_string(file.size()) + " bytes)");
    cpu::enter_real_mode(core, static_cast<uint16_t>((address & ~0xffffull) >> 4), static_cast<uint16_t>(address & 0xffff));
    if (!core.write_physical(address, file.data(), file.size())) throw ConfigError(path + ": does not fit in RAM");
    core.state().regs[cpu::rdx] = 0x80;  // BIOS convention: boot drive in DL
    return {"flat", address, address, address + file.size()};
}

}  // namespace sim
