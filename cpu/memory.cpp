// Memory slow paths: segmentation checks (SDM Vol. 3A 5.3 "Limit Checking", 5.4-5.6), the
// canonical-address check (3.3.7.1), page walks on TLB misses, RAM vs device accesses, and
// writes that hit decoded code. Context: core slow paths; faults become pending exceptions.
#include <cstring>

#include "cpu/blocks.h"
#include "cpu/core.h"
#include "mmu/paging.h"

namespace cpu {
namespace {

// Paging structures are read and written in RAM through the bus's direct pointers.
class BusWalkMemory final : public mmu::PhysicalAccess {
public:
    explicit BusWalkMemory(sim::PhysicalBus& bus) : bus_(bus) {}
    bool read64(uint64_t pa, uint64_t& v) override { return copy(pa, &v, 8, false); }
    bool read32(uint64_t pa, uint32_t& v) override { return copy(pa, &v, 4, false); }
    bool write64(uint64_t pa, uint64_t v) override { return copy(pa, &v, 8, true); }
    bool write32(uint64_t pa, uint32_t v) override { return copy(pa, &v, 4, true); }

private:
    bool copy(uint64_t pa, void* v, unsigned n, bool write) {
        uint8_t* page = bus_.ram_page(pa);
        if (!page) return false;
        uint8_t* p = page + (pa & 0xfff);
        if (write) std::memcpy(p, v, n);
        else std::memcpy(v, p, n);
        return true;
    }
    sim::PhysicalBus& bus_;
};

// A guest's paging structures under EPT/NPT: every guest-physical address the walk touches is
// translated by the extension first (the two-dimensional walk, SDM Vol. 3C 29.3.2; APM Vol. 2
// 15.25.5). A failed translation has already exited to the host: the walk reports it as a
// failed access and `exited` tells the caller it was not a bus error.
class NestedWalkMemory final : public mmu::PhysicalAccess {
public:
    NestedWalkMemory(Core& core, Virtualization& virt, sim::PhysicalBus& bus, uint64_t linear, bool user)
        : core_(core), virt_(virt), ram_(bus), linear_(linear), user_(user) {}
    bool read64(uint64_t gpa, uint64_t& v) override { uint64_t h; return to_host(gpa, false, h) && ram_.read64(h, v); }
    bool read32(uint64_t gpa, uint32_t& v) override { uint64_t h; return to_host(gpa, false, h) && ram_.read32(h, v); }
    bool write64(uint64_t gpa, uint64_t v) override { uint64_t h; return to_host(gpa, true, h) && ram_.write64(h, v); }
    bool write32(uint64_t gpa, uint32_t v) override { uint64_t h; return to_host(gpa, true, h) && ram_.write32(h, v); }
    bool exited = false;

private:
    bool to_host(uint64_t gpa, bool write, uint64_t& hpa) {
        if (exited) return false;
        const GuestPhysicalAccess a{gpa, write ? AccessKind::write : AccessKind::read, true, linear_, true, user_};
        if (virt_.translate(core_, a, hpa)) return true;
        exited = true;
        return false;
    }
    Core& core_;
    Virtualization& virt_;
    BusWalkMemory ram_;
    uint64_t linear_;
    bool user_;
};

bool canonical(uint64_t linear) {
    return static_cast<uint64_t>(static_cast<int64_t>(linear << 16) >> 16) == linear;
}

mmu::PagingMode paging_mode(const State& s) {
    if (s.efer & efer::lma) return (s.cr4 & cr4::la57) ? mmu::PagingMode::level5 : mmu::PagingMode::level4;
    if (s.cr4 & cr4::pae) return mmu::PagingMode::pae;
    return mmu::PagingMode::legacy32;
}

}  // namespace

bool Core::check_segment(unsigned seg, uint64_t offset, unsigned size, AccessKind kind,
                         uint64_t& linear) {
    const Segment& sg = s_.seg[seg];
    const auto fault = [&]() {
        raise(seg == ss ? sim::Vector::stack_fault : sim::Vector::general_protection, 0);
        return false;
    };
    if (s_.mode == Mode::long64) {
        linear = seg_base_[seg] + offset;
        if (!canonical(linear) || !canonical(linear + size - 1)) return fault();
        return true;
    }
    if (s_.mode != Mode::real && s_.mode != Mode::v8086) {
        if (sg.unusable()) return fault();
        const bool code = sg.code();
        const bool writable = !code && (sg.attributes & 2);
        const bool readable = !code || (sg.attributes & 2);
        if ((kind == AccessKind::write && !writable) || (kind == AccessKind::read && !readable)) return fault();
    }
    const uint64_t last = offset + size - 1;
    if (sg.expand_down() && s_.mode != Mode::real && s_.mode != Mode::v8086) {
        const uint64_t upper = sg.big() ? 0xffffffffull : 0xffffull;
        if (offset <= sg.limit || last > upper) return fault();
    } else if (last > sg.limit) {
        return fault();
    }
    linear = (sg.base + offset) & 0xffffffffull;
    return true;
}

bool Core::translate(uint64_t linear, AccessKind kind, bool user, uint64_t& physical,
                     uint8_t*& host) {
    ++tlb_misses_;
    uint64_t phys = linear;
    bool cacheable = true;
    if (paging_) {
        mmu::WalkRequest rq;
        rq.linear = linear;
        rq.access = kind == AccessKind::write ? mmu::Access::write
                    : kind == AccessKind::execute ? mmu::Access::execute : mmu::Access::read;
        rq.user = user;
        rq.mode = paging_mode(s_);
        rq.cr3 = s_.cr3;
        rq.cr0_wp = s_.cr0 & cr0::wp;
        rq.cr4_pse = s_.cr4 & cr4::pse;
        rq.cr4_smep = s_.cr4 & cr4::smep;
        rq.cr4_smap = s_.cr4 & cr4::smap;
        rq.efer_nxe = s_.efer & efer::nxe;
        rq.amd_pml4e_bit8_reserved = vendor() == Vendor::amd;
        rq.rflags_ac = s_.rflags_other & rf::ac;
        rq.maxphyaddr_mask = (uint64_t{1} << kMaxPhysAddrBits) - 1;
        // The PDPTE registers MOV to CR3/CR0/CR4 loaded (cpu/isa/control_regs.cpp), while CR3
        // is the value they came from.
        if (rq.mode == mmu::PagingMode::pae && s_.pdpte_cr3 == s_.cr3) rq.pae_pdptes = s_.pdpte;
        ++page_walks_;
        mmu::WalkResult r;
        if (guest_ && virt_->nested_paging()) {
            NestedWalkMemory memory(*this, *virt_, bus_, linear, user);
            r = mmu::walk(rq, memory);
            if (memory.exited) return false;  // a VM exit (EPT violation, #NPF) happened
        } else {
            BusWalkMemory memory(bus_);
            r = mmu::walk(rq, memory);
        }
        if (events_.wants(sim::EventKind::page_walk)) emit(sim::EventKind::page_walk, linear, r.references, r.ok);
        if (!r.ok) {
            // A paging structure outside RAM reads as all ones on a PC: a reserved-bit fault.
            pending_ = {true, static_cast<uint8_t>(sim::Vector::page_fault), true, r.error_code, linear};
            return false;
        }
        phys = r.physical;
        // Supervisor accesses to user pages depend on RFLAGS.AC under SMAP: never cached.
        if ((s_.cr4 & cr4::smap) && !user && r.user_page) cacheable = false;
        // A write needs a walk while D is clear (the walk sets it).
        if (kind == AccessKind::write && !r.dirty) cacheable = false;
    } else if (s_.mode != Mode::long64) {
        phys &= 0xffffffffull;
    }
    if (guest_ && virt_->nested_paging()) {  // the final guest-physical address
        const GuestPhysicalAccess a{phys, kind, true, linear, false, user};
        if (!virt_->translate(*this, a, phys)) return false;  // exited to the host
    }
    physical = phys;
    // The processor's own xAPIC page is decoded before the bus, even over RAM (SDM 11.4.1).
    host = (phys & sim::kPageMask) == apic_->mmio_page() ? nullptr : bus_.ram_page(phys);
    if (host && !cacheable) host_uncacheable_ = true;
    else host_uncacheable_ = false;
    return true;
}

void Core::install_tlb(TlbEntry* tlb, uint64_t linear, uint8_t* host_page, uint64_t phys_page,
                       uint64_t tag_bits) {
    if (host_uncacheable_) return;
    TlbEntry& e = tlb[(linear >> 12) & (kTlbSize - 1)];
    e.tag = (linear & ~0xfffull) | user_tag_ | tag_bits;
    e.addend = reinterpret_cast<uintptr_t>(host_page) - (linear & ~0xfffull);
    e.phys_page = phys_page;
}

// A page that holds decoded code, on any processor of the machine, is written through the
// slow path by every processor.
void Core::remove_write_mappings(uint64_t phys_page) {
    for (Core* c : peers_)
        for (auto& e : c->tlb_write_)
            if (e.phys_page == phys_page) e = TlbEntry{};
    for (auto& e : tlb_write_)
        if (e.phys_page == phys_page) e = TlbEntry{};
}

bool Core::code_anywhere(uint64_t phys_page) const {
    if (blocks_->page_has_code(phys_page)) return true;
    for (const Core* c : peers_)
        if (c->blocks_->page_has_code(phys_page)) return true;
    return false;
}

unsigned Core::drop_code(uint64_t phys, unsigned size) {
    const unsigned n = blocks_->invalidate(phys, size);
    if (n == 0) return 0;
    ++smc_flushes_;
    emit(sim::EventKind::smc_flush, phys & sim::kPageMask, n);
    return n;
}

void Core::note_write_to_code(uint64_t phys, unsigned size) {
    for (Core* c : peers_) c->drop_code(phys, size);  // they are between blocks
    if (drop_code(phys, size) && block_first_) request_end_of_block();
}

// One access by linear address, split at page boundaries. Every page is translated before any
// byte moves, so a faulting access changes nothing (SDM 6.5 "faults are restartable").
bool Core::access_linear(uint64_t linear, void* buf, unsigned size, AccessKind kind, bool user) {
    struct Piece {
        uint64_t linear, phys;
        uint8_t* host;
        unsigned size;
        bool cache;
    } pieces[2];
    unsigned n = 0;
    for (unsigned done = 0; done < size; ++n) {
        const uint64_t lin = (linear + done) & linear_mask_;
        const unsigned room = 4096 - static_cast<unsigned>(lin & 0xfff);
        const unsigned len = std::min(room, size - done);
        if (n == 2) return false;  // callers never ask for more than a page
        Piece& p = pieces[n];
        if (!translate(lin, kind, user, p.phys, p.host)) return false;
        p.linear = lin;
        p.size = len;
        p.cache = !host_uncacheable_ && p.host;
        if (p.host) p.host += p.phys & 0xfff;
        done += len;
    }
    auto* bytes = static_cast<uint8_t*>(buf);
    for (unsigned k = 0; k < n; ++k) {
        Piece& p = pieces[k];
        const uint64_t page = p.phys & sim::kPageMask;
        if (p.host) {
            if (kind == AccessKind::write) {
                const bool code = code_anywhere(page);
                if (code) note_write_to_code(p.phys, p.size);
                std::memcpy(p.host, bytes, p.size);
                // A page with code gets a write entry the fast path never matches (kCodeTag):
                // write_slow() uses it to skip the walk and only checks for overlapping code.
                if (p.cache && user == (user_tag_ != 0))
                    install_tlb(tlb_write_.data(), p.linear, p.host - (p.phys & 0xfff), page,
                                code ? kCodeTag : 0);
            } else {
                std::memcpy(bytes, p.host, p.size);
                if (p.cache && user == (user_tag_ != 0))
                    install_tlb(tlb_read_.data(), p.linear, p.host - (p.phys & 0xfff), page);
            }
        } else if (p.size == 1 || p.size == 2 || p.size == 4 || p.size == 8) {
            device_access(p.phys, bytes, p.size, kind == AccessKind::write);
        } else {
            for (unsigned b = 0; b < p.size; ++b) device_access(p.phys + b, bytes + b, 1, kind == AccessKind::write);
        }
        bytes += p.size;
    }
    return true;
}

void Core::device_access(uint64_t phys, uint8_t* bytes, unsigned size, bool write) {
    const bool apic = (phys & sim::kPageMask) == apic_->mmio_page();
    const auto offset = static_cast<uint32_t>(phys & 0xfff);
    if (write) {
        uint64_t v = 0;
        std::memcpy(&v, bytes, size);
        if (events_.wants(sim::EventKind::mmio_write)) emit(sim::EventKind::mmio_write, phys, size, v);
        const bool was_stopped = control_.stop_requested();
        if (apic) apic_->write_mmio(offset, static_cast<uint32_t>(v), now());
        else bus_.mmio_write(phys, size, v, now());
        after_device_write(was_stopped);
    } else {
        const uint64_t v = apic ? apic_->read_mmio(offset, now()) : bus_.mmio_read(phys, size, now());
        if (events_.wants(sim::EventKind::mmio_read)) emit(sim::EventKind::mmio_read, phys, size, v);
        std::memcpy(bytes, &v, size);
    }
}

// #AC(0) for a word, doubleword or quadword data access at an address that is not a multiple
// of its size (SDM Vol. 3A 6.15, Table 6-7), after the segment checks and before paging.
bool Core::misaligned(uint64_t linear, unsigned size) {
    if (!alignment_check_ || !(linear & (size - 1))) return false;
    raise(sim::Vector::alignment_check, 0);
    return true;
}

template <unsigned N> bool Core::read_slow(unsigned seg, uint64_t offset, uint64_t& out) {
    uint64_t linear;
    if (!check_segment(seg, offset, N, AccessKind::read, linear)) return false;
    if (misaligned(linear, N)) return false;
    uint_t<N> v{};
    if (!access_linear(linear, &v, N, AccessKind::read, s_.cpl == 3)) return false;
    out = v;
    return true;
}

template <unsigned N> bool Core::write_slow(unsigned seg, uint64_t offset, uint64_t value) {
    // A store to a page that holds decoded code: the translation is cached (kCodeTag); only
    // blocks overlapping the bytes written are dropped.
    if (offset + (N - 1) <= seg_write_limit_[seg]) {
        const uint64_t lin = (seg_base_[seg] + offset) & linear_mask_;
        const TlbEntry& e = tlb_write_[(lin >> 12) & (kTlbSize - 1)];
        if (e.tag == (((lin + (N - 1)) & ~0xfffull) | user_tag_ | kCodeTag)) {
            note_write_to_code(e.phys_page | (lin & 0xfff), N);
            const uint_t<N> v = static_cast<uint_t<N>>(value);
            std::memcpy(reinterpret_cast<uint8_t*>(e.addend + lin), &v, N);
            return true;
        }
    }
    uint64_t linear;
    if (!check_segment(seg, offset, N, AccessKind::write, linear)) return false;
    if (misaligned(linear, N)) return false;
    const uint_t<N> v = static_cast<uint_t<N>>(value);
    return access_linear(linear, const_cast<uint_t<N>*>(&v), N, AccessKind::write, s_.cpl == 3);
}

template bool Core::read_slow<1>(unsigned, uint64_t, uint64_t&);
template bool Core::read_slow<2>(unsigned, uint64_t, uint64_t&);
template bool Core::read_slow<4>(unsigned, uint64_t, uint64_t&);
template bool Core::read_slow<8>(unsigned, uint64_t, uint64_t&);
template bool Core::write_slow<1>(unsigned, uint64_t, uint64_t);
template bool Core::write_slow<2>(unsigned, uint64_t, uint64_t);
template bool Core::write_slow<4>(unsigned, uint64_t, uint64_t);
template bool Core::write_slow<8>(unsigned, uint64_t, uint64_t);

bool Core::read_bytes(unsigned seg, uint64_t offset, void* out, unsigned size, unsigned align) {
    uint64_t linear;
    if (!check_segment(seg, offset, size, AccessKind::read, linear)) return false;
    if (align > 1 && (linear & (align - 1))) return raise_gp(0), false;
    return access_linear(linear, out, size, AccessKind::read, s_.cpl == 3);
}

bool Core::write_bytes(unsigned seg, uint64_t offset, const void* data, unsigned size, unsigned align) {
    uint64_t linear;
    if (!check_segment(seg, offset, size, AccessKind::write, linear)) return false;
    if (align > 1 && (linear & (align - 1))) return raise_gp(0), false;
    return access_linear(linear, const_cast<void*>(data), size, AccessKind::write, s_.cpl == 3);
}

bool Core::read_system(uint64_t linear, void* out, unsigned size) {
    return access_linear(linear & linear_mask_, out, size, AccessKind::read, false);
}

bool Core::write_system(uint64_t linear, const void* data, unsigned size) {
    return access_linear(linear & linear_mask_, const_cast<void*>(data), size, AccessKind::write, false);
}

bool Core::read_physical(uint64_t paddr, void* out, size_t size) {
    auto* bytes = static_cast<uint8_t*>(out);
    while (size) {
        uint8_t* page = bus_.ram_page(paddr);
        if (!page) return false;
        const size_t len = std::min<size_t>(size, 4096 - (paddr & 0xfff));
        std::memcpy(bytes, page + (paddr & 0xfff), len);
        bytes += len, paddr += len, size -= len;
    }
    return true;
}

bool Core::write_physical(uint64_t paddr, const void* data, size_t size) {
    const auto* bytes = static_cast<const uint8_t*>(data);
    while (size) {
        uint8_t* page = bus_.ram_page(paddr);
        if (!page) return false;
        const size_t len = std::min<size_t>(size, 4096 - (paddr & 0xfff));
        blocks_->invalidate(paddr, static_cast<unsigned>(len));
        for (Core* c : peers_) c->blocks_->invalidate(paddr, static_cast<unsigned>(len));
        std::memcpy(page + (paddr & 0xfff), bytes, len);
        bytes += len, paddr += len, size -= len;
    }
    return true;
}

bool Core::read_linear(uint64_t linear, void* out, size_t size) {
    const PendingException saved = pending_;
    const bool ok = size <= 4096 && access_linear(linear, out, static_cast<unsigned>(size), AccessKind::read, false);
    pending_ = saved;
    return ok;
}

}  // namespace cpu
