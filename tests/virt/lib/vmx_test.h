/* Shared by the VMX event and state tests (tests/virt/vmx_events.c, vmx_state.c): interruption-
   information bits (SDM Vol. 3C 25.8.3), exit expectations and guest helpers.
   Context: the test hypervisor, ring 0, 64-bit. */
#pragma once
#include "vmx.h"
#include "x86.h"

#define INFO_VALID (1u << 31)
#define TYPE(t) ((uint32_t)(t) << 8)
#define ERROR_VALID (1u << 11)

static volatile uint64_t seen_vector, seen_error, seen_rip, seen_count;
static volatile uint64_t guest_value;
static volatile int release;  /* the host lets a spinning guest finish */

/* An exception hook that records the event and lets the guest continue. */
static inline bool record_exception(struct exception_frame *f) {
    seen_vector = f->vector;
    seen_error = f->error;
    seen_rip = f->rip;
    ++seen_count;
    return true;
}

static inline enum virt_action expect_reason(struct vcpu *v, const struct virt_exit *e, uint64_t reason) {
    VIRT_EXPECT(v, e->kind == VIRT_EXIT_VM_EXIT, "%s instead of a VM exit", virt_exit_name(v, e));
    VIRT_EXPECT(v, e->vmx_exit_reason == reason, "exit reason %#x (%s), expected %lu (%s)", e->vmx_exit_reason,
                exit_reason_name(e->reason), reason, exit_reason_name(reason));
    return VIRT_RESUME;
}
#define EXPECT_REASON(v, e, r)                                             \
    do {                                                                   \
        if (expect_reason((v), (e), (r)) != VIRT_RESUME) return VIRT_FAIL; \
    } while (0)

static inline enum virt_action check_stage(struct vcpu *v, unsigned n) {
    VIRT_EXPECT(v, v->stage == n, "guest finished after %u of %u expected exits", v->stage, n);
    return VIRT_PASS;
}
static inline enum virt_action check_one(struct vcpu *v) { return check_stage(v, 1); }
static inline enum virt_action never_finishes(struct vcpu *v) { return virt_fail(v, "the guest finished"); }
static inline enum virt_action handle_one(struct vcpu *v, const struct virt_exit *e) {
    return virt_fail(v, "unexpected exit %s", virt_exit_name(v, e));
}
static inline void guest_nothing(void) {}
