/* Hypercall dispatch per the TLFS ("Hypercall Interface"): the input value in RCX decoded and
   checked by hv/abi/hypercall_input.h against the call's shape from hv_hypercalls.toml,
   memory input at the GPA in RDX (8-byte aligned, within a page), output at the GPA in R8,
   fast input in RDX/R8, the result value in RAX. Rep calls do at most HV_REPS_PER_CALL reps
   per invocation and then return to the caller with RIP not advanced and the rep start index
   in RCX updated, so the caller re-executes the call (TLFS "Rep Hypercall Restarting").
   Context: VMX root / SVM host, ring 0, one CPU, interrupts off. */
#include "hv.h"

#include "../abi/hypercall_input.h"

#define VECTOR_UD 6
#define HV_REPS_PER_CALL 64

struct call {
    struct hv_vp *vp;
    struct hv_partition *caller;
    struct hv_hypercall_input in;
    uint64_t rdx, r8;
    uint8_t input[HV_PAGE_SIZE];
    unsigned reps_done;       /* absolute rep index reached */
};

static struct hv_call_shape shape_of(uint16_t code, int *known, int *root_only) {
    *root_only = 0;
    *known = 1;
    switch (code) {
#define SHAPE(NAME, header) return (struct hv_call_shape){HVCALL_##NAME##_REP, HVCALL_##NAME##_FAST, header}
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE: SHAPE(FLUSH_VIRTUAL_ADDRESS_SPACE, 0);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST: SHAPE(FLUSH_VIRTUAL_ADDRESS_LIST, 0);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX: SHAPE(FLUSH_VIRTUAL_ADDRESS_SPACE_EX, 64);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX: SHAPE(FLUSH_VIRTUAL_ADDRESS_LIST_EX, 64);
    case HVCALL_NOTIFY_LONG_SPIN_WAIT: SHAPE(NOTIFY_LONG_SPIN_WAIT, 0);
    case HVCALL_GET_PARTITION_ID: SHAPE(GET_PARTITION_ID, 0);
    case HVCALL_POST_MESSAGE: SHAPE(POST_MESSAGE, 0);
    case HVCALL_SIGNAL_EVENT: SHAPE(SIGNAL_EVENT, 0);
    default: break;
    }
    *root_only = 1;
    switch (code) {
    case HVCALL_CREATE_PARTITION: SHAPE(CREATE_PARTITION, 0);
    case HVCALL_INITIALIZE_PARTITION: SHAPE(INITIALIZE_PARTITION, 0);
    case HVCALL_FINALIZE_PARTITION: SHAPE(FINALIZE_PARTITION, 0);
    case HVCALL_DEPOSIT_MEMORY: SHAPE(DEPOSIT_MEMORY, 0);
    case HVCALL_MAP_GPA_PAGES: SHAPE(MAP_GPA_PAGES, 0);
    case HVCALL_CREATE_VP: SHAPE(CREATE_VP, 0);
    case HVCALL_START_VIRTUAL_PROCESSOR: SHAPE(START_VIRTUAL_PROCESSOR, 0);
    case HVCALL_HVSIM_COMPLETE_INTERCEPT: SHAPE(HVSIM_COMPLETE_INTERCEPT, 0);
#undef SHAPE
    default: *known = 0; return (struct hv_call_shape){0, 0, 0};
    }
}

/* Memory input: `fixed` bytes, plus 8 per rep of a rep call, read from the GPA in RDX. */
static uint16_t read_input(struct call *c, uint64_t fixed) {
    const uint64_t bytes = fixed + (c->in.rep_count ? 8ull * c->in.rep_count : 0) + 8ull * c->in.header_qwords;
    if ((c->rdx & 7) || (c->rdx & 0xfff) + bytes > HV_PAGE_SIZE) return HV_STATUS_INVALID_ALIGNMENT;
    if (!hv_partition_read(c->caller, c->rdx, c->input, bytes)) return HV_STATUS_INVALID_PARAMETER;
    return HV_STATUS_SUCCESS;
}

static uint16_t write_output(struct call *c, const void *out, uint64_t bytes) {
    if ((c->r8 & 7) || (c->r8 & 0xfff) + bytes > HV_PAGE_SIZE) return HV_STATUS_INVALID_ALIGNMENT;
    return hv_partition_write(c->caller, c->r8, out, bytes) ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_PARAMETER;
}

static struct hv_partition *child(uint64_t id) {
    return id == HV_ROOT_PARTITION_ID ? NULL : hv_partition_find(id);
}

static uint16_t create_partition(struct call *c) {
    uint16_t s = read_input(c, sizeof(struct hv_input_create_partition));
    if (s) return s;
    const struct hv_input_create_partition *in = (const void *)c->input;
    if (in->flags & ~(HV_PARTITION_FLAG_NO_SPIN_HINT | HV_PARTITION_FLAG_NO_FLUSH_HINT)) return HV_STATUS_INVALID_PARAMETER;
    struct hv_partition *p = hv_partition_create(in->flags);
    if (!p) return HV_STATUS_INSUFFICIENT_MEMORY;
    return write_output(c, &p->id, sizeof p->id);
}

/* Initialize/Finalize take the partition id as fast input (RDX) or in memory. */
static uint16_t partition_state(struct call *c, int finalize) {
    uint64_t id = c->rdx;
    if (!c->in.fast) {
        uint16_t s = read_input(c, 8);
        if (s) return s;
        id = *(const uint64_t *)c->input;
    }
    struct hv_partition *p = child(id);
    if (!p) return HV_STATUS_INVALID_PARTITION_ID;
    if (finalize ? !p->initialized || p->finalized : p->initialized) return HV_STATUS_INVALID_PARTITION_STATE;
    if (finalize) p->finalized = 1;
    else p->initialized = 1;
    return HV_STATUS_SUCCESS;
}

/* Pages leave the root's address space (its SLAT entry is removed) and wait in the target's
   pool until mapped. */
static uint16_t deposit_memory(struct call *c) {
    uint16_t s = read_input(c, sizeof(struct hv_input_deposit_memory));
    if (s) return s;
    const struct hv_input_deposit_memory *in = (const void *)c->input;
    struct hv_partition *p = child(in->partition_id);
    if (!p) return HV_STATUS_INVALID_PARTITION_ID;
    for (; c->reps_done < c->in.rep_count; ++c->reps_done) {
        if (c->reps_done - c->in.rep_start == HV_REPS_PER_CALL) return HV_STATUS_SUCCESS;  /* restart */
        const uint64_t gpa = in->gpa_page_list[c->reps_done] << 12;
        const uint64_t hpa = hv_partition_translate(c->caller, gpa);
        if (hpa == ~0ull) return HV_STATUS_INVALID_PARAMETER;
        if (p->deposited_count == HV_MAX_PAGES_PER_PARTITION) return HV_STATUS_INSUFFICIENT_MEMORY;
        hv_partition_unmap(c->caller, gpa);
        p->deposited_from[p->deposited_count] = gpa >> 12;
        p->deposited[p->deposited_count++] = hpa;
    }
    hv_backend->slat_flush(c->caller);
    return HV_STATUS_SUCCESS;
}

static uint16_t map_gpa_pages(struct call *c) {
    uint16_t s = read_input(c, sizeof(struct hv_input_map_gpa_pages));
    if (s) return s;
    const struct hv_input_map_gpa_pages *in = (const void *)c->input;
    struct hv_partition *p = child(in->target_partition_id);
    if (!p) return HV_STATUS_INVALID_PARTITION_ID;
    if (!p->initialized) return HV_STATUS_INVALID_PARTITION_STATE;
    if (in->target_gpa_base & 0xfff) return HV_STATUS_INVALID_PARAMETER;
    for (; c->reps_done < c->in.rep_count; ++c->reps_done) {
        if (c->reps_done - c->in.rep_start == HV_REPS_PER_CALL) return HV_STATUS_SUCCESS;
        const uint64_t page = in->source_gpa_page_list[c->reps_done];
        unsigned i = 0;
        while (i < p->deposited_count && p->deposited_from[i] != page) ++i;
        if (i == p->deposited_count) return HV_STATUS_INVALID_PARAMETER;  /* not deposited there */
        hv_partition_map(p, in->target_gpa_base + HV_PAGE_SIZE * c->reps_done, p->deposited[i]);
    }
    hv_backend->slat_flush(p);
    return HV_STATUS_SUCCESS;
}

/* The VP an input block names: both CreateVp and StartVirtualProcessor begin with the
   partition id (u64) and the VP index (u32). */
static uint16_t named_vp(struct call *c, uint64_t input_size, enum hv_vp_state expected, struct hv_vp **vp) {
    uint16_t s = read_input(c, input_size);
    if (s) return s;
    const struct hv_input_create_vp *in = (const void *)c->input;
    struct hv_partition *p = child(in->partition_id);
    if (!p) return HV_STATUS_INVALID_PARTITION_ID;
    if (in->vp_index >= HV_MAX_VPS) return HV_STATUS_INVALID_VP_INDEX;
    if (!p->finalized) return HV_STATUS_INVALID_PARTITION_STATE;
    *vp = &p->vps[in->vp_index];
    return (*vp)->state == expected ? HV_STATUS_SUCCESS : HV_STATUS_INVALID_VP_STATE;
}

static uint16_t create_vp(struct call *c) {
    struct hv_vp *vp;
    uint16_t s = named_vp(c, sizeof(struct hv_input_create_vp), HV_VP_UNUSED, &vp);
    if (s) return s;
    if (!hv_partition_write_boot_area(vp->partition, 0)) return HV_STATUS_INSUFFICIENT_MEMORY;
    vp->state = HV_VP_CREATED;
    return HV_STATUS_SUCCESS;
}

static uint16_t start_vp(struct call *c) {
    struct hv_vp *vp;
    uint16_t s = named_vp(c, sizeof(struct hv_input_start_vp), HV_VP_CREATED, &vp);
    if (s) return s;
    const struct hv_input_start_vp *in = (const void *)c->input;
    struct hv_partition *p = vp->partition;
    if (hv_partition_translate(p, in->rip) == ~0ull || hv_partition_translate(p, in->rsp - 8) == ~0ull)
        return HV_STATUS_INVALID_PARAMETER;
    hv_backend->vp_setup(vp, in->rip, in->rsp, 0);
    vp->state = HV_VP_RUNNABLE;
    return HV_STATUS_SUCCESS;
}

/* hvsim extension: RDX = the child partition id (31:0) and VP index (63:32), R8 = the value an
   IN reads. */
static uint16_t complete_intercept(struct call *c) {
    struct hv_partition *p = child((uint32_t)c->rdx);
    if (!p) return HV_STATUS_INVALID_PARTITION_ID;
    const uint64_t index = c->rdx >> 32;
    if (index >= HV_MAX_VPS) return HV_STATUS_INVALID_VP_INDEX;
    struct hv_vp *vp = &p->vps[index];
    if (vp->state != HV_VP_WAITING_ROOT || !vp->intercept.active) return HV_STATUS_INVALID_VP_STATE;
    hv_intercept_complete(vp, c->r8);
    return HV_STATUS_SUCCESS;
}

/* Messages and events of a child go to the root's VP 0 (hv/abi/partition.h connections). */
static uint16_t post_message(struct call *c) {
    uint16_t s = read_input(c, sizeof(struct hv_input_post_message));
    if (s) return s;
    const struct hv_input_post_message *in = (const void *)c->input;
    if (in->connection_id != HV_CONNECTION_ROOT_MESSAGES) return HV_STATUS_INVALID_CONNECTION_ID;
    if (in->payload_size > sizeof in->payload || in->message_type == 0 || (in->message_type & 0x80000000u))
        return HV_STATUS_INVALID_PARAMETER;
    struct hv_message m;
    memset(&m, 0, sizeof m);
    m.message_type = in->message_type;
    m.payload_size = (uint8_t)in->payload_size;
    m.origin = c->caller->id;
    memcpy(m.payload, in->payload, in->payload_size);
    return hv_synic_post(&hv_root_partition()->vps[0], HV_SINT_CHILD, &m);
}

static uint16_t signal_event(struct call *c) {
    uint64_t v = c->rdx;
    if (!c->in.fast) {
        uint16_t s = read_input(c, 8);
        if (s) return s;
        v = *(const uint64_t *)c->input;
    }
    const uint32_t connection = (uint32_t)v;
    const uint16_t flag = (uint16_t)(v >> 32);
    if (connection != HV_CONNECTION_ROOT_EVENTS) return HV_STATUS_INVALID_CONNECTION_ID;
    if (flag >= 2048 || (v >> 48)) return HV_STATUS_INVALID_PARAMETER;
    return hv_synic_signal(&hv_root_partition()->vps[0], HV_SINT_CHILD, flag);
}

/* Flushes: this hypervisor runs partitions without VPID/with one ASID per partition and every
   VP of a partition on the one processor, so the caller's TLB is flushed by the next entry's
   flush request; the processor set must name existing VPs. */
static uint16_t flush(struct call *c) {
    uint16_t s = read_input(c, sizeof(struct hv_input_flush_space));
    if (s) return s;
    const struct hv_input_flush_space *in = (const void *)c->input;
    if (!(in->flags & HV_FLUSH_ALL_PROCESSORS) && (in->processor_mask >> HV_MAX_VPS))
        return HV_STATUS_INVALID_PARAMETER;
    hv_backend->slat_flush(c->caller);
    c->reps_done = c->in.rep_count;
    return HV_STATUS_SUCCESS;
}

/* The Ex forms name the processors by an HV_VP_SET after AddressSpace and Flags (TLFS
   "HV_VP_SET"): Format (0 sparse 4K banks, 1 all), ValidBankMask, then one 64-VP bank per mask
   bit, in the variable header; a list call's GVA ranges follow it. */
#define HV_GENERIC_SET_SPARSE_4K 0
#define HV_GENERIC_SET_ALL 1
static uint16_t flush_ex(struct call *c) {
    uint16_t s = read_input(c, 4 * sizeof(uint64_t));
    if (s) return s;
    const uint64_t *in = (const uint64_t *)c->input;
    const uint64_t format = in[2], banks = in[3];
    if (format == HV_GENERIC_SET_SPARSE_4K) {
        unsigned count = 0;
        for (uint64_t b = banks; b; b &= b - 1) ++count;  /* freestanding: no libgcc popcount */
        if (count != c->in.header_qwords) return HV_STATUS_INVALID_PARAMETER;
        for (unsigned bank = 0, k = 0; bank < 64; ++bank) {
            if (!(banks & (1ull << bank))) continue;
            const uint64_t vps = in[4 + k++];
            if (bank > 0 ? vps != 0 : (vps >> HV_MAX_VPS) != 0) return HV_STATUS_INVALID_PARAMETER;
            for (unsigned v = 0; v < HV_MAX_VPS; ++v)
                if (bank == 0 && (vps & (1ull << v)) && c->caller->vps[v].state == HV_VP_UNUSED)
                    return HV_STATUS_INVALID_PARAMETER;
        }
    } else if (format != HV_GENERIC_SET_ALL || c->in.header_qwords) {
        return HV_STATUS_INVALID_PARAMETER;
    }
    hv_backend->slat_flush(c->caller);
    c->reps_done = c->in.rep_count;
    return HV_STATUS_SUCCESS;
}

static uint16_t perform(struct call *c) {
    switch (c->in.code) {
    case HVCALL_CREATE_PARTITION: return create_partition(c);
    case HVCALL_INITIALIZE_PARTITION: return partition_state(c, 0);
    case HVCALL_FINALIZE_PARTITION: return partition_state(c, 1);
    case HVCALL_DEPOSIT_MEMORY: return deposit_memory(c);
    case HVCALL_MAP_GPA_PAGES: return map_gpa_pages(c);
    case HVCALL_CREATE_VP: return create_vp(c);
    case HVCALL_START_VIRTUAL_PROCESSOR: return start_vp(c);
    case HVCALL_HVSIM_COMPLETE_INTERCEPT: return complete_intercept(c);
    case HVCALL_GET_PARTITION_ID: return write_output(c, &c->caller->id, 8);
    case HVCALL_POST_MESSAGE: return post_message(c);
    case HVCALL_SIGNAL_EVENT: return signal_event(c);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST: return flush(c);
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX:
    case HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX: return flush_ex(c);
    case HVCALL_NOTIFY_LONG_SPIN_WAIT:  /* fast: RDX = the spin count (informational) */
        hv_scheduler_yield(c->vp);
        return HV_STATUS_SUCCESS;
    default: return HV_STATUS_INVALID_HYPERCALL_CODE;
    }
}

void hv_hypercall_dispatch(struct hv_vp *vp, const struct hv_exit *e) {
    static struct call c;
    struct guest_regs *g = &vp->hw.regs;
    /* Hypercalls from CPL > 0 raise #UD (TLFS "Hypercall Interface": CPL 0 only). */
    if (e->cpl != 0) {
        hv_backend->vp_inject_exception(vp, VECTOR_UD, 0, 0);
        return;
    }
    memset(&c, 0, sizeof c);
    c.vp = vp;
    c.caller = vp->partition;
    c.in = hv_hypercall_input_decode(g->rcx);
    c.rdx = g->rdx;
    c.r8 = g->r8;
    c.reps_done = c.in.rep_start;
    int known, root_only;
    const struct hv_call_shape shape = shape_of(c.in.code, &known, &root_only);
    uint16_t status = HV_STATUS_INVALID_HYPERCALL_CODE;
    if (known) status = hv_hypercall_input_check(&c.in, shape);
    if (known && !status && root_only && c.caller->id != HV_ROOT_PARTITION_ID) status = HV_STATUS_ACCESS_DENIED;
    if (known && !status) status = perform(&c);
    if (!status && shape.rep && c.reps_done < c.in.rep_count) {
        /* Partial progress: the caller re-executes with the new start index (RIP unchanged). */
        g->rcx = (g->rcx & ~(HV_INPUT_REP_MASK << HV_INPUT_REP_START_SHIFT)) |
                 ((uint64_t)c.reps_done << HV_INPUT_REP_START_SHIFT);
        return;
    }
    g->rax = hv_hypercall_result(status, shape.rep ? c.reps_done : 0);
    hv_backend->vp_advance(vp, e->length);
}
