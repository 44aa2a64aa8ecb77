/* Intercept routing as in Hyper-V: CPUID and the synthetic MSRs are answered by the
   hypervisor; HLT idles the VP; a child's I/O-port access becomes an intercept message to the
   root partition (SINT HV_SINT_INTERCEPT), whose emulator completes it with
   HvsimCompleteIntercept, after which the child resumes; a child's access outside its memory
   becomes an unmapped-GPA message and stops the child. Context: VMX root / SVM host, ring 0,
   one CPU, interrupts off. */
#include "hv.h"

#include "x86.h"

#define VECTOR_GP 13
#define CPUID_1_ECX_VMX (1u << 5)
#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_80000001_ECX_SVM (1u << 2)
#define TSC_PER_100NS 300  /* 3000 MHz (cpuid.toml leaf 16h) / 10 MHz reference time */

/* TLFS "Feature and Interface Discovery": the hypervisor leaves from hv_cpuid.toml, the
   partition's enlightenment switches applied to the hints. */
static void hypervisor_leaf(struct hv_vp *vp, uint32_t leaf, uint32_t r[4]) {
    const int root = vp->partition->id == HV_ROOT_PARTITION_ID;
    r[0] = r[1] = r[2] = r[3] = 0;
    switch (leaf) {
#define LEAF(name) r[0] = HV_CPUID_##name##_EAX; r[1] = HV_CPUID_##name##_EBX; r[2] = HV_CPUID_##name##_ECX; r[3] = HV_CPUID_##name##_EDX
    case HV_CPUID_VENDOR: LEAF(VENDOR); break;
    case HV_CPUID_INTERFACE: LEAF(INTERFACE); break;
    case HV_CPUID_VERSION: LEAF(VERSION); break;
    case HV_CPUID_FEATURES:
        if (root) { LEAF(FEATURES_ROOT); } else { LEAF(FEATURES); }
        break;
    case HV_CPUID_HINTS:
        LEAF(HINTS);
        if (vp->partition->flags & HV_PARTITION_FLAG_NO_FLUSH_HINT) r[0] &= ~((1u << 2) | (1u << 10) | (1u << 11));
        if (vp->partition->flags & HV_PARTITION_FLAG_NO_SPIN_HINT) r[1] = 0xffffffffu;
        break;
    case HV_CPUID_LIMITS: LEAF(LIMITS); break;
    default: break;  /* 40000006h-4000000Ah report nothing; beyond 4000000Ah: zeros */
#undef LEAF
    }
}

static void cpuid_intercept(struct hv_vp *vp, const struct hv_exit *e) {
    struct guest_regs *g = &vp->hw.regs;
    const uint32_t leaf = (uint32_t)g->rax, sub = (uint32_t)g->rcx;
    uint32_t r[4];
    if (leaf >= 0x40000000 && leaf <= 0x4fffffff) {
        hypervisor_leaf(vp, leaf, r);
    } else {
        cpuid2(leaf, sub, r);
        if (leaf == 1) r[2] = (r[2] & ~CPUID_1_ECX_VMX) | CPUID_1_ECX_HYPERVISOR;  /* no nested VMX */
        if (leaf == 0x80000001) r[2] &= ~CPUID_80000001_ECX_SVM;
    }
    g->rax = r[0];
    g->rbx = r[1];
    g->rcx = r[2];
    g->rdx = r[3];
    hv_backend->vp_advance(vp, e->length);
}

/* Writing the hypercall MSR with Enable places VMCALL/VMMCALL; RET at the page (TLFS
   "Establishing the Hypercall Interface"; the page stays guest RAM, as KVM and Xen do). */
static int write_hypercall_msr(struct hv_partition *p, uint64_t value) {
    if ((value & 1) && !p->guest_os_id) value &= ~1ull;  /* no guest OS id: stays disabled */
    if ((value & 1) && !hv_partition_write(p, value & ~0xfffull, hv_backend->hypercall_code, 4)) return 0;
    p->hypercall_msr = value;
    return 1;
}

static int msr_read(struct hv_vp *vp, uint32_t msr, uint64_t *value) {
    struct hv_partition *p = vp->partition;
    switch (msr) {
    case HV_MSR_GUEST_OS_ID: *value = p->guest_os_id; return 1;
    case HV_MSR_HYPERCALL: *value = p->hypercall_msr; return 1;
    case HV_MSR_VP_INDEX: *value = vp->index; return 1;
    case HV_MSR_TIME_REF_COUNT: {
        uint32_t lo, hi;
        __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
        *value = (((uint64_t)hi << 32) | lo) / TSC_PER_100NS;
        return 1;
    }
    default: return hv_synic_msr_read(vp, msr, value);
    }
}

/* A fixed IPI through the x2APIC ICR (SDM 10.12.9: vector 7:0, delivery mode 10:8, the
   destination's x2APIC ID in 63:32): the target VP of the same partition gets the vector and
   the sender yields to it (a directed yield: the target is what the sender waits for). Other
   delivery modes, shorthands and unknown destinations are refused (#GP) rather than dropped. */
static int send_ipi(struct hv_vp *vp, uint64_t icr) {
    const unsigned vector = (unsigned)(icr & 0xff), mode = (unsigned)(icr >> 8) & 7, shorthand = (unsigned)(icr >> 18) & 3;
    const uint64_t destination = icr >> 32;
    if (mode != 0 || shorthand != 0 || vector < 16 || destination >= HV_MAX_VPS) return 0;
    struct hv_vp *target = &vp->partition->vps[destination];
    if (target->state == HV_VP_UNUSED || target->state == HV_VP_CREATED) return 0;
    target->pending_vectors[vector / 64] |= 1ull << (vector % 64);
    if (target->state == HV_VP_HALTED) target->state = HV_VP_RUNNABLE;
    hv_scheduler_yield(vp);
    return 1;
}

static int msr_write(struct hv_vp *vp, uint32_t msr, uint64_t value) {
    struct hv_partition *p = vp->partition;
    switch (msr) {
    case X2APIC_MSR_ICR: return send_ipi(vp, value);
    case X2APIC_MSR_EOI: return value == 0;  /* delivery acknowledged the vector (no ISR kept) */
    case HV_MSR_GUEST_OS_ID:
        p->guest_os_id = value;
        if (!value) p->hypercall_msr &= ~1ull;  /* writing 0 disables the hypercall page */
        return 1;
    case HV_MSR_HYPERCALL: return write_hypercall_msr(p, value);
    case HV_MSR_VP_INDEX:
    case HV_MSR_TIME_REF_COUNT: return 0;  /* read-only: #GP */
    default: return hv_synic_msr_write(vp, msr, value);
    }
}

static void msr_intercept(struct hv_vp *vp, const struct hv_exit *e) {
    struct guest_regs *g = &vp->hw.regs;
    const uint32_t msr = (uint32_t)g->rcx;
    if (e->kind == HV_EXIT_RDMSR) {
        uint64_t v = 0;
        if (!msr_read(vp, msr, &v)) {
            hv_backend->vp_inject_exception(vp, VECTOR_GP, 1, 0);
            return;
        }
        g->rax = (uint32_t)v;
        g->rdx = v >> 32;
    } else if (!msr_write(vp, msr, (g->rdx << 32) | (uint32_t)g->rax)) {
        hv_backend->vp_inject_exception(vp, VECTOR_GP, 1, 0);
        return;
    }
    hv_backend->vp_advance(vp, e->length);
}

static struct hv_vp *root_vp(void) { return &hv_root_partition()->vps[0]; }

static void stop_with_message(struct hv_vp *vp, uint32_t type, uint64_t detail) {
    struct hv_message m;
    memset(&m, 0, sizeof m);
    m.message_type = type;
    m.payload_size = 16;
    m.origin = vp->partition->id;
    m.payload[0] = vp->index;
    m.payload[1] = detail;
    vp->state = HV_VP_STOPPED;
    hv_synic_post(root_vp(), HV_SINT_INTERCEPT, &m);
}

static void io_intercept(struct hv_vp *vp, const struct hv_exit *e) {
    if (vp->partition->id == HV_ROOT_PARTITION_ID || e->is_string) {
        /* The root's ports are not intercepted; string I/O is not emulated (yet): stop. */
        stop_with_message(vp, HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT, e->port);
        return;
    }
    struct hv_message m;
    memset(&m, 0, sizeof m);
    m.message_type = HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT;
    m.payload_size = sizeof(struct hv_io_port_intercept);
    m.origin = vp->partition->id;
    struct hv_io_port_intercept *io = (struct hv_io_port_intercept *)m.payload;
    io->vp_index = vp->index;
    io->instruction_length = (uint8_t)e->length;
    io->is_write = !e->is_in;
    io->access_size = e->size;
    io->port = e->port;
    io->rip = e->rip;
    io->rax = vp->hw.regs.rax;
    if (hv_synic_post(root_vp(), HV_SINT_INTERCEPT, &m) != HV_STATUS_SUCCESS) {
        vp->state = HV_VP_STOPPED;  /* the root cannot take intercepts: the child cannot run */
        return;
    }
    vp->intercept.active = 1;
    vp->intercept.is_in = e->is_in;
    vp->intercept.size = e->size;
    vp->intercept.length = e->length;
    vp->state = HV_VP_WAITING_ROOT;
}

void hv_intercept_complete(struct hv_vp *vp, uint64_t value) {
    if (vp->intercept.is_in) {
        const uint64_t mask = vp->intercept.size == 4 ? 0xffffffffull : vp->intercept.size == 2 ? 0xffffull : 0xffull;
        /* IN to AL/AX keeps the rest of RAX; IN to EAX zero-extends (SDM Vol. 1 3.4.1.1). */
        vp->hw.regs.rax = vp->intercept.size == 4 ? (value & mask) : (vp->hw.regs.rax & ~mask) | (value & mask);
    }
    hv_backend->vp_advance(vp, vp->intercept.length);
    vp->intercept.active = 0;
    vp->state = HV_VP_RUNNABLE;
}

/* A VP spinning with PAUSE gives way once it has spun HV_PAUSE_YIELD_SPINS times in a row
   (what PAUSE-loop exiting or the pause filter are for); an enlightened guest says so earlier
   with HvCallNotifyLongSpinWait. */
static void pause_intercept(struct hv_vp *vp, const struct hv_exit *e) {
    hv_backend->vp_advance(vp, e->length);
    vp->pauses_in_row += e->pauses;
    if (vp->pauses_in_row < HV_PAUSE_YIELD_SPINS) return;
    vp->pauses_in_row = 0;
    hv_scheduler_yield(vp);
}

void hv_intercept_handle(struct hv_vp *vp, const struct hv_exit *e) {
    if (e->kind != HV_EXIT_PAUSE) vp->pauses_in_row = 0;
    switch (e->kind) {
    case HV_EXIT_PAUSE: pause_intercept(vp, e); break;
    case HV_EXIT_CPUID: cpuid_intercept(vp, e); break;
    case HV_EXIT_RDMSR:
    case HV_EXIT_WRMSR: msr_intercept(vp, e); break;
    case HV_EXIT_HYPERCALL: hv_hypercall_dispatch(vp, e); break;
    case HV_EXIT_IO: io_intercept(vp, e); break;
    case HV_EXIT_HLT:
        hv_backend->vp_advance(vp, e->length);
        vp->state = HV_VP_HALTED;
        break;
    case HV_EXIT_SLAT_VIOLATION:
        if (vp->partition->id == HV_ROOT_PARTITION_ID)
            virt_abort("hv: the root partition accessed GPA %#lx outside its memory (rip %#lx)", e->gpa, e->rip);
        stop_with_message(vp, HV_MESSAGE_TYPE_UNMAPPED_GPA, e->gpa);
        break;
    case HV_EXIT_SHUTDOWN:
        if (vp->partition->id == HV_ROOT_PARTITION_ID)
            virt_abort("hv: the root partition shut down (exit %#lx at rip %#lx)", e->raw_reason, e->rip);
        stop_with_message(vp, HV_MESSAGE_TYPE_UNMAPPED_GPA, ~0ull);
        break;
    case HV_EXIT_INTERRUPT_WINDOW: break;  /* the pending interrupt goes in at the next entry */
    case HV_EXIT_OTHER:
        virt_abort("hv: unexpected exit %#lx of partition %lu VP %u at rip %#lx", e->raw_reason,
                   vp->partition->id, vp->index, e->rip);
    }
}
