/* The synthetic interrupt controller (TLFS "Synthetic Interrupt Controller (SynIC)",
   ../shared/reference/hyperv-vmbus.md 1.6): SCONTROL, SVERSION, SIMP, SIEFP, SINT0-15, EOM,
   message slots with the pending-message protocol and event flags, and the SINT's interrupt
   on the vector the guest programs (edge: raised when a message lands in an empty slot or an
   event flag goes from 0 to 1). Partitions have no virtual local APIC here, so a guest cannot
   EOI: an unmasked SINT must be in polling mode (18) or AutoEOI (17), else the SINT write is
   refused (#GP) rather than leaving an interrupt that can never be acknowledged. A VP halted
   in HLT wakes when a message or event reaches it.
   Context: VMX root / SVM host, ring 0, one CPU, interrupts off. */
#include "hv.h"

#define SINT_MASKED (1ull << 16)
#define SINT_AUTO_EOI (1ull << 17)
#define SINT_POLLING (1ull << 18)
#define SINT_VECTOR_MASK 0xffull
#define PAGE_ENABLE 1ull
#define SLOT_BYTES 256

static uint64_t slot_gpa(uint64_t page_msr, unsigned sint) { return (page_msr & ~0xfffull) + sint * SLOT_BYTES; }

/* A SINT fired: wake the VP and, unless the SINT polls, raise its vector. */
static void raise_sint(struct hv_vp *vp, unsigned sint) {
    if (vp->state == HV_VP_HALTED) vp->state = HV_VP_RUNNABLE;
    const uint64_t config = vp->synic.sint[sint];
    if (config & (SINT_MASKED | SINT_POLLING)) return;
    const unsigned vector = (unsigned)(config & SINT_VECTOR_MASK);
    vp->pending_vectors[vector / 64] |= 1ull << (vector % 64);
}

void hv_synic_deliver_pending(struct hv_vp *vp) {
    for (int word = 3; word >= 0; --word) {
        if (!vp->pending_vectors[word]) continue;
        const unsigned bit = 63u - (unsigned)__builtin_clzll(vp->pending_vectors[word]);
        if (hv_backend->vp_inject_interrupt(vp, (unsigned)word * 64 + bit)) vp->pending_vectors[word] &= ~(1ull << bit);
        return;  /* one interrupt per entry; the highest vector first, as an APIC would */
    }
}

/* Copy a message into its slot if the slot is empty (MessageType 0). */
static int deliver(struct hv_vp *vp, unsigned sint, const struct hv_message *m) {
    struct hv_partition *p = vp->partition;
    const uint64_t gpa = slot_gpa(vp->synic.simp, sint);
    uint32_t type = 0;
    if (!hv_partition_read(p, gpa, &type, sizeof type)) return 0;
    if (type != HV_MESSAGE_TYPE_NONE) {
        uint8_t flags = HV_MESSAGE_PENDING;  /* tell the guest to write EOM when done */
        hv_partition_write(p, gpa + 5, &flags, 1);
        return 0;
    }
    hv_partition_write(p, gpa, m, sizeof *m);
    raise_sint(vp, sint);
    return 1;
}

uint16_t hv_synic_post(struct hv_vp *vp, unsigned sint, const struct hv_message *m) {
    if (!(vp->synic.scontrol & 1) || !(vp->synic.simp & PAGE_ENABLE) || (vp->synic.sint[sint] & SINT_MASKED))
        return HV_STATUS_INVALID_SYNIC_STATE;
    if (vp->pending_message_sints & (1ull << sint)) return HV_STATUS_INSUFFICIENT_BUFFERS;
    if (deliver(vp, sint, m)) return HV_STATUS_SUCCESS;
    vp->queued[sint] = *m;
    vp->pending_message_sints |= 1ull << sint;
    return HV_STATUS_SUCCESS;
}

uint16_t hv_synic_signal(struct hv_vp *vp, unsigned sint, unsigned flag) {
    if (!(vp->synic.scontrol & 1) || !(vp->synic.siefp & PAGE_ENABLE) || (vp->synic.sint[sint] & SINT_MASKED))
        return HV_STATUS_INVALID_SYNIC_STATE;
    const uint64_t gpa = slot_gpa(vp->synic.siefp, sint) + flag / 8;
    uint8_t byte;
    if (!hv_partition_read(vp->partition, gpa, &byte, 1)) return HV_STATUS_INVALID_PARAMETER;
    const uint8_t bit = (uint8_t)(1u << (flag % 8));
    if (byte & bit) return HV_STATUS_SUCCESS;  /* already set: no new interrupt (edge) */
    byte |= bit;
    hv_partition_write(vp->partition, gpa, &byte, 1);
    raise_sint(vp, sint);
    return HV_STATUS_SUCCESS;
}

/* EOM: retry the queued messages (TLFS "Message Buffer Delivery"). */
static void end_of_message(struct hv_vp *vp) {
    for (unsigned sint = 0; sint < 16; ++sint)
        if ((vp->pending_message_sints & (1ull << sint)) && deliver(vp, sint, &vp->queued[sint]))
            vp->pending_message_sints &= ~(1ull << sint);
}

int hv_synic_msr_read(struct hv_vp *vp, uint32_t msr, uint64_t *value) {
    if (msr >= HV_MSR_SINT0 && msr <= HV_MSR_SINT15) {
        *value = vp->synic.sint[msr - HV_MSR_SINT0];
        return 1;
    }
    switch (msr) {
    case HV_MSR_SCONTROL: *value = vp->synic.scontrol; return 1;
    case HV_MSR_SVERSION: *value = 1; return 1;
    case HV_MSR_SIMP: *value = vp->synic.simp; return 1;
    case HV_MSR_SIEFP: *value = vp->synic.siefp; return 1;
    case HV_MSR_EOM: *value = 0; return 1;
    default: return 0;
    }
}

int hv_synic_msr_write(struct hv_vp *vp, uint32_t msr, uint64_t value) {
    if (msr >= HV_MSR_SINT0 && msr <= HV_MSR_SINT15) {
        const uint64_t vector = value & SINT_VECTOR_MASK;
        if (vector < 16) return 0;  /* vectors 0-15 are invalid: #GP */
        if (!(value & (SINT_MASKED | SINT_POLLING | SINT_AUTO_EOI))) return 0;  /* see the file comment */
        vp->synic.sint[msr - HV_MSR_SINT0] = value;
        return 1;
    }
    switch (msr) {
    case HV_MSR_SCONTROL: vp->synic.scontrol = value; return 1;
    case HV_MSR_SVERSION: return 0;
    case HV_MSR_SIMP: vp->synic.simp = value; return 1;
    case HV_MSR_SIEFP: vp->synic.siefp = value; return 1;
    case HV_MSR_EOM: end_of_message(vp); return 1;
    default: return 0;
    }
}
