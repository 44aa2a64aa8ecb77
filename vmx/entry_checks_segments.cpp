// Checks on the guest segment registers (Intel SDM Vol. 3C 27.3.1.2), including the
// virtual-8086 and unrestricted-guest rules and the unusable bit (access rights bit 16).
// Failure: VM-entry failure, exit reason 33, qualification 0. Context: vmx/ VM entry.
#include "vmx/entry_checks_internal.h"

namespace vmx::entry {

namespace {

// One guest segment register as the VMCS holds it (access rights: SDM Table 25-2).
struct Segment {
    uint64_t selector, base, limit, ar;
    unsigned type() const { return ar & 0xf; }
    bool s() const { return (ar >> 4) & 1; }
    unsigned dpl() const { return (ar >> 5) & 3; }
    bool present() const { return (ar >> 7) & 1; }
    bool l() const { return (ar >> 13) & 1; }
    bool db() const { return (ar >> 14) & 1; }
    bool g() const { return (ar >> 15) & 1; }
    bool unusable() const { return (ar >> 16) & 1; }
    unsigned rpl() const { return selector & 3; }
};

Segment read_segment(const Context& c, VmcsField selector, VmcsField base, VmcsField limit, VmcsField ar) {
    return {c.read(selector) & 0xffff, c.read(base), c.read(limit) & 0xffffffff, c.read(ar) & 0xffffffff};
}

struct Segments {
    Segment es, cs, ss, ds, fs, gs, ldtr, tr;
};

Segments read_segments(const Context& c) {
    using F = VmcsField;
    return {read_segment(c, F::guest_es_selector, F::guest_es_base, F::guest_es_limit, F::guest_es_access_rights),
            read_segment(c, F::guest_cs_selector, F::guest_cs_base, F::guest_cs_limit, F::guest_cs_access_rights),
            read_segment(c, F::guest_ss_selector, F::guest_ss_base, F::guest_ss_limit, F::guest_ss_access_rights),
            read_segment(c, F::guest_ds_selector, F::guest_ds_base, F::guest_ds_limit, F::guest_ds_access_rights),
            read_segment(c, F::guest_fs_selector, F::guest_fs_base, F::guest_fs_limit, F::guest_fs_access_rights),
            read_segment(c, F::guest_gs_selector, F::guest_gs_base, F::guest_gs_limit, F::guest_gs_access_rights),
            read_segment(c, F::guest_ldtr_selector, F::guest_ldtr_base, F::guest_ldtr_limit, F::guest_ldtr_access_rights),
            read_segment(c, F::guest_tr_selector, F::guest_tr_base, F::guest_tr_limit, F::guest_tr_access_rights)};
}

// Limit and G agree: limit[11:0] not all ones needs G = 0; any of limit[31:20] set needs G = 1.
bool granularity_ok(const Segment& s) {
    if ((s.limit & 0xfff) != 0xfff && s.g()) return false;
    if ((s.limit >> 20) && !s.g()) return false;
    return true;
}

// Selector, base (27.3.1.2 first bullets).
EntryCheckResult check_selectors_and_bases(const Context& c, const Segments& r, bool v86) {
    if (r.tr.selector & 4) return guest_failure("guest_tr_ti");
    if (!r.ldtr.unusable() && (r.ldtr.selector & 4)) return guest_failure("guest_ldtr_ti");
    if (!v86 && !c.proc2(VmxControl::proc2_unrestricted_guest) && r.ss.rpl() != r.cs.rpl())
        return guest_failure("guest_ss_rpl_cs_rpl");
    const Segment* data[] = {&r.cs, &r.ss, &r.ds, &r.es, &r.fs, &r.gs};
    if (v86)
        for (const Segment* s : data)
            if (s->base != s->selector << 4) return guest_failure("guest_v86_base");
    if (!canonical(r.tr.base) || !canonical(r.fs.base) || !canonical(r.gs.base) ||
        (!r.ldtr.unusable() && !canonical(r.ldtr.base)))
        return guest_failure("guest_base_canonical");
    if (r.cs.base >> 32) return guest_failure("guest_cs_base_high");
    for (const Segment* s : {&r.ss, &r.ds, &r.es})
        if (!s->unusable() && (s->base >> 32)) return guest_failure("guest_base_high");
    if (v86) {
        for (const Segment* s : data)
            if (s->limit != 0xffff) return guest_failure("guest_v86_limit");
        for (const Segment* s : data)
            if (s->ar != 0xf3) return guest_failure("guest_v86_access_rights");
    }
    return passed();
}

// Access rights of CS, SS, DS, ES, FS, GS outside virtual-8086 mode, one rule at a time
// across the registers, as the SDM lists them.
EntryCheckResult check_access_rights(const Context& c, const Segments& r) {
    const bool unrestricted = c.proc2(VmxControl::proc2_unrestricted_guest);
    const unsigned cs_type = r.cs.type();
    const bool cs_type_ok = cs_type == 9 || cs_type == 11 || cs_type == 13 || cs_type == 15 || (unrestricted && cs_type == 3);
    if (!cs_type_ok) return guest_failure("guest_cs_type");
    if (!r.ss.unusable() && r.ss.type() != 3 && r.ss.type() != 7) return guest_failure("guest_ss_type");
    const Segment* data[] = {&r.ds, &r.es, &r.fs, &r.gs};
    for (const Segment* s : data) {
        if (s->unusable()) continue;
        if (!(s->type() & 1)) return guest_failure("guest_data_type_accessed");
        if ((s->type() & 8) && !(s->type() & 2)) return guest_failure("guest_data_type_readable");
    }
    const Segment* all[] = {&r.cs, &r.ss, &r.ds, &r.es, &r.fs, &r.gs};
    for (const Segment* s : all)
        if ((s == &r.cs || !s->unusable()) && !s->s()) return guest_failure("guest_segment_s");
    // DPL relations (CS with SS; SS with its RPL; data segments with their RPL).
    if (cs_type == 3 && r.cs.dpl() != 0) return guest_failure("guest_cs_dpl_type3");
    if ((cs_type == 9 || cs_type == 11) && r.cs.dpl() != r.ss.dpl()) return guest_failure("guest_cs_dpl_nonconforming");
    if ((cs_type == 13 || cs_type == 15) && r.cs.dpl() > r.ss.dpl()) return guest_failure("guest_cs_dpl_conforming");
    if (!unrestricted && r.ss.dpl() != r.ss.rpl()) return guest_failure("guest_ss_dpl_rpl");
    if ((cs_type == 3 || !(c.read(VmcsField::guest_cr0) & 1)) && r.ss.dpl() != 0) return guest_failure("guest_ss_dpl_real_mode");
    if (!unrestricted)
        for (const Segment* s : data)
            if (!s->unusable() && s->type() <= 11 && s->dpl() < s->rpl()) return guest_failure("guest_data_dpl_rpl");
    for (const Segment* s : all)
        if ((s == &r.cs || !s->unusable()) && !s->present()) return guest_failure("guest_segment_present");
    for (const Segment* s : all)
        if ((s == &r.cs || !s->unusable()) && (s->ar & 0xf00)) return guest_failure("guest_segment_reserved_11_8");
    if (ia32e_guest(c) && r.cs.l() && r.cs.db()) return guest_failure("guest_cs_l_and_d");
    for (const Segment* s : all)
        if ((s == &r.cs || !s->unusable()) && !granularity_ok(*s)) return guest_failure("guest_segment_granularity");
    for (const Segment* s : all)
        if ((s == &r.cs || !s->unusable()) && (s->ar & 0xfffe0000)) return guest_failure("guest_segment_reserved_31_17");
    return passed();
}

// TR and LDTR (the last bullets of 27.3.1.2).
EntryCheckResult check_system_segments(const Context& c, const Segments& r) {
    const unsigned tr_type = r.tr.type();
    if (!(tr_type == 11 || (!ia32e_guest(c) && tr_type == 3))) return guest_failure("guest_tr_type");
    if (r.tr.s()) return guest_failure("guest_tr_s");
    if (!r.tr.present()) return guest_failure("guest_tr_present");
    if (r.tr.ar & 0xf00) return guest_failure("guest_tr_reserved_11_8");
    if (!granularity_ok(r.tr)) return guest_failure("guest_tr_granularity");
    if (r.tr.unusable()) return guest_failure("guest_tr_unusable");
    if (r.tr.ar & 0xfffe0000) return guest_failure("guest_tr_reserved_31_17");
    if (r.ldtr.unusable()) return passed();
    if (r.ldtr.type() != 2) return guest_failure("guest_ldtr_type");
    if (r.ldtr.s()) return guest_failure("guest_ldtr_s");
    if (!r.ldtr.present()) return guest_failure("guest_ldtr_present");
    if (r.ldtr.ar & 0xf00) return guest_failure("guest_ldtr_reserved_11_8");
    if (!granularity_ok(r.ldtr)) return guest_failure("guest_ldtr_granularity");
    if (r.ldtr.ar & 0xfffe0000) return guest_failure("guest_ldtr_reserved_31_17");
    return passed();
}

}  // namespace

EntryCheckResult check_guest_segments(const Context& c) {
    const Segments r = read_segments(c);
    const bool v86 = (c.read(VmcsField::guest_rflags) >> 17) & 1;
    EntryCheckResult result = check_selectors_and_bases(c, r, v86);
    if (failed(result)) return result;
    if (!v86) {
        result = check_access_rights(c, r);
        if (failed(result)) return result;
    }
    return check_system_segments(c, r);
}

}  // namespace vmx::entry
