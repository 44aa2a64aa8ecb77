/* The TLFS hypercall input and result values (Hyper-V TLFS "Hypercall Interface":
   ../shared/reference/hyperv-vmbus.md 1.4), decoded and checked in one place for both sides:
   hv/hypervisor dispatches with it, the simulator's passive hypercall decoder
   (sim/machine/hypercall_decoder.cpp) recognises calls with it.
   Context: freestanding C99 and C++ (header-only, no includes but <stdint.h>); no state. */
#ifndef HV_ABI_HYPERCALL_INPUT_H
#define HV_ABI_HYPERCALL_INPUT_H
#include <stdint.h>

/* Input value (RCX for a 64-bit caller):
   15:0 call code, 16 fast, 26:17 variable-header size (8-byte units), 30:27 RsvdZ,
   31 nested (route to L0: we are not nested, so it is refused as reserved),
   43:32 rep count, 47:44 RsvdZ, 59:48 rep start index, 63:60 RsvdZ. */
#define HV_INPUT_FAST (1ull << 16)
#define HV_INPUT_HEADER_SHIFT 17
#define HV_INPUT_HEADER_MASK 0x3ffull
#define HV_INPUT_NESTED (1ull << 31)
#define HV_INPUT_REP_COUNT_SHIFT 32
#define HV_INPUT_REP_START_SHIFT 48
#define HV_INPUT_REP_MASK 0xfffull
#define HV_INPUT_RESERVED ((0xfull << 27) | (0xfull << 44) | (0xfull << 60))

struct hv_hypercall_input {
    uint16_t code;
    uint8_t fast;
    uint8_t nested;
    uint16_t header_qwords;  /* variable-header size in 8-byte units */
    uint16_t rep_count;
    uint16_t rep_start;
    uint64_t reserved;       /* the RsvdZ bits as they were set (0 when well-formed) */
};

static inline struct hv_hypercall_input hv_hypercall_input_decode(uint64_t v) {
    struct hv_hypercall_input in;
    in.code = (uint16_t)(v & 0xffff);
    in.fast = (uint8_t)((v & HV_INPUT_FAST) != 0);
    in.nested = (uint8_t)((v & HV_INPUT_NESTED) != 0);
    in.header_qwords = (uint16_t)((v >> HV_INPUT_HEADER_SHIFT) & HV_INPUT_HEADER_MASK);
    in.rep_count = (uint16_t)((v >> HV_INPUT_REP_COUNT_SHIFT) & HV_INPUT_REP_MASK);
    in.rep_start = (uint16_t)((v >> HV_INPUT_REP_START_SHIFT) & HV_INPUT_REP_MASK);
    in.reserved = v & HV_INPUT_RESERVED;
    return in;
}

static inline uint64_t hv_hypercall_input_encode(uint16_t code, int fast, unsigned header_qwords,
                                                 unsigned rep_count, unsigned rep_start) {
    return (uint64_t)code | (fast ? HV_INPUT_FAST : 0) |
           (((uint64_t)header_qwords & HV_INPUT_HEADER_MASK) << HV_INPUT_HEADER_SHIFT) |
           (((uint64_t)rep_count & HV_INPUT_REP_MASK) << HV_INPUT_REP_COUNT_SHIFT) |
           (((uint64_t)rep_start & HV_INPUT_REP_MASK) << HV_INPUT_REP_START_SHIFT);
}

/* What the call table says about a code (hv_hypercalls.toml columns rep, fast, header). */
struct hv_call_shape {
    uint8_t rep;            /* a rep call */
    uint8_t fast_allowed;   /* Fast = 1 accepted */
    uint16_t max_header;    /* variable-header qwords accepted at most */
};

/* The well-formedness rules of the input value for a known call, in the TLFS's order:
   RsvdZ bits (and "nested", we are no L1 hypervisor) set -> INVALID_HYPERCALL_INPUT; a
   simple call with a rep count or start index, or a rep call with count 0 or start >=
   count -> INVALID_HYPERCALL_INPUT; Fast on a memory-only call or a variable header on a
   call without one -> INVALID_HYPERCALL_INPUT. Returns 0 (HV_STATUS_SUCCESS) or 3. */
static inline uint16_t hv_hypercall_input_check(const struct hv_hypercall_input *in, struct hv_call_shape shape) {
    const uint16_t invalid_input = 3; /* HV_STATUS_INVALID_HYPERCALL_INPUT (hv_status.toml) */
    if (in->reserved || in->nested) return invalid_input;
    if (shape.rep) {
        if (in->rep_count == 0 || in->rep_start >= in->rep_count) return invalid_input;
    } else if (in->rep_count || in->rep_start) {
        return invalid_input;
    }
    if (in->fast && !shape.fast_allowed) return invalid_input;
    if (in->header_qwords > shape.max_header) return invalid_input;
    return 0;
}

/* Result value (RAX): 15:0 HV_STATUS, 43:32 reps completed (absolute, counting from 0). */
static inline uint64_t hv_hypercall_result(uint16_t status, unsigned reps_completed) {
    return (uint64_t)status | (((uint64_t)reps_completed & HV_INPUT_REP_MASK) << 32);
}
static inline uint16_t hv_hypercall_result_status(uint64_t rax) { return (uint16_t)(rax & 0xffff); }
static inline unsigned hv_hypercall_result_reps(uint64_t rax) { return (unsigned)((rax >> 32) & HV_INPUT_REP_MASK); }

#endif /* HV_ABI_HYPERCALL_INPUT_H */
