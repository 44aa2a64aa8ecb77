/* The hypervisor's common core: partitions, virtual processors, the normalised VM exit, and
   the small interface the two back-ends (vmx.c for Intel VT-x, svm.c for AMD-V) implement.
   Context: VMX root operation / SVM host mode, ring 0, 64-bit, one physical processor,
   interrupts off; the hypervisor owns [0, 16 MiB) and sees all memory identity-mapped. */
#pragma once
#include "../abi/partition.h"
#include "hv_cpuid.h"
#include "hv_hypercalls.h"
#include "hv_msrs.h"
#include "hv_status.h"
#include "virt.h"   /* tests/virt/lib: struct vcpu, guest registers, pages, printf, abort */

#define HV_MAX_PARTITIONS 6
#define HV_MAX_VPS 2               /* per partition (CPUID 40000005h.EAX) */
#define HV_MAX_PAGES_PER_PARTITION 8192
/* A VP that executed this many PAUSEs in a row (its exits say how many each stands for) is
   spinning on something another VP must do: it yields (as after HvCallNotifyLongSpinWait). */
#define HV_PAUSE_YIELD_SPINS 64

enum hv_vp_state {
    HV_VP_UNUSED,
    HV_VP_CREATED,       /* HvCallCreateVp done, not started */
    HV_VP_RUNNABLE,
    HV_VP_HALTED,        /* HLT: waits for a message or an interrupt */
    HV_VP_WAITING_ROOT,  /* an intercept is with the root's emulator */
    HV_VP_STOPPED,       /* triple fault or shutdown */
};

struct hv_synic {
    uint64_t scontrol, simp, siefp, sint[16];
};

struct hv_vp {
    enum hv_vp_state state;
    unsigned index;
    struct hv_partition *partition;
    struct vcpu hw;                   /* the back-end's VMCS/VMCB and the guest GPRs */
    struct hv_synic synic;
    struct hv_exit_pending {
        int active;
        uint8_t is_in, size;
        unsigned length;
    } intercept;                      /* the access the root's emulator is completing */
    uint64_t pending_message_sints;   /* bit n: a message waits for SINT n's slot */
    uint64_t pending_vectors[4];      /* SINT interrupts not delivered yet (bit v: vector v) */
    unsigned pauses_in_row;           /* PAUSE exits since its last other exit, in PAUSEs */
    struct hv_message queued[16];     /* one queued message per SINT */
};

struct hv_partition {
    uint64_t id;                      /* 0: unused slot */
    int initialized, finalized;
    uint64_t flags;                   /* HV_PARTITION_FLAG_* */
    uint64_t *slat_root;              /* EPT PML4 or NPT PML4 (hypervisor pages) */
    uint64_t deposited[HV_MAX_PAGES_PER_PARTITION];   /* host frames deposited, not mapped yet */
    uint64_t deposited_from[HV_MAX_PAGES_PER_PARTITION]; /* the root GPA page each came from */
    unsigned deposited_count;
    uint64_t guest_os_id, hypercall_msr;
    struct hv_vp vps[HV_MAX_VPS];
};

/* A VM exit as the common core sees it. */
enum hv_exit_kind {
    HV_EXIT_CPUID, HV_EXIT_RDMSR, HV_EXIT_WRMSR, HV_EXIT_IO, HV_EXIT_HLT, HV_EXIT_HYPERCALL,
    HV_EXIT_SLAT_VIOLATION, HV_EXIT_SHUTDOWN, HV_EXIT_INTERRUPT_WINDOW, HV_EXIT_PAUSE, HV_EXIT_OTHER,
};
struct hv_exit {
    enum hv_exit_kind kind;
    unsigned length;                  /* of the exiting instruction */
    uint64_t rip;
    uint16_t port;                    /* HV_EXIT_IO */
    uint8_t size, is_in, is_string;
    uint64_t gpa;                     /* HV_EXIT_SLAT_VIOLATION */
    unsigned pauses;                  /* HV_EXIT_PAUSE: PAUSEs the exit stands for (SVM: the filter count) */
    uint64_t raw_reason;              /* the back-end's reason, for diagnostics */
    unsigned cpl;
};

/* x2APIC registers a child's VPs use for IPIs (SDM Vol. 3A 10.12.1.2 Table 10-6): the
   hypervisor intercepts their writes; a partition's x2APIC IDs are its VP indexes. The other
   x2APIC MSRs are not virtualized (a child that uses them reaches the physical local APIC). */
#define X2APIC_MSR_EOI 0x80b
#define X2APIC_MSR_ICR 0x830
#define HV_CHILD_INTERCEPTED_MSRS {X2APIC_MSR_EOI, X2APIC_MSR_ICR}

/* ---- the back-end (vmx.c or svm.c) ---- */
struct hv_backend {
    const char *name;
    /* Turn the extension on (VMXON / EFER.SVME); NULL or why not. */
    const char *(*enable)(void);
    /* Second-level table entries: a non-leaf entry and a 4 KiB leaf (EPT 29.3.2 / NPT 15.25.5). */
    uint64_t (*slat_table_entry)(uint64_t table_pa);
    uint64_t (*slat_leaf_entry)(uint64_t frame_pa);
    /* A VMCS/VMCB for a VP of a partition at its boot convention (hv/abi/partition.h). */
    void (*vp_setup)(struct hv_vp *vp, uint64_t rip, uint64_t rsp, int is_root);
    /* Enter the VP until its next exit, normalised into *e. */
    void (*vp_run)(struct hv_vp *vp, struct hv_exit *e);
    void (*vp_advance)(struct hv_vp *vp, unsigned length);  /* RIP += length */
    void (*vp_inject_exception)(struct hv_vp *vp, unsigned vector, int has_error, uint32_t error);
    /* Deliver an external interrupt at the next entry if the guest can take it now (RFLAGS.IF
       and no STI/MOV-SS shadow): 1. Else arrange an interrupt-window exit and return 0. */
    int (*vp_inject_interrupt)(struct hv_vp *vp, unsigned vector);
    /* The partition's second-level mappings changed: flush what the processor cached. */
    void (*slat_flush)(struct hv_partition *p);
    /* The hypercall instruction and RET (hypercall page contents, TLFS 3.13 / ref 1.3). */
    uint8_t hypercall_code[4];
};
extern const struct hv_backend hv_vmx_backend, hv_svm_backend;
extern const struct hv_backend *hv_backend;

/* ---- partition.c ---- */
struct hv_partition *hv_partition_create(uint64_t flags);
struct hv_partition *hv_partition_find(uint64_t id);
struct hv_partition *hv_root_partition(void);
/* Map one 4 KiB guest page to a host frame / remove it; the host frame of a GPA (or ~0). */
void hv_partition_map(struct hv_partition *p, uint64_t gpa, uint64_t hpa);
void hv_partition_unmap(struct hv_partition *p, uint64_t gpa);
uint64_t hv_partition_translate(struct hv_partition *p, uint64_t gpa);
/* Copy to/from guest-physical memory of p, page by page; false if a page is not p's. */
int hv_partition_read(struct hv_partition *p, uint64_t gpa, void *dst, uint64_t len);
int hv_partition_write(struct hv_partition *p, uint64_t gpa, const void *src, uint64_t len);
/* Write the boot area (page tables, GDT, TSS) of p at its GPA `base`. */
int hv_partition_write_boot_area(struct hv_partition *p, uint64_t base);

/* ---- hypercall.c ---- */
void hv_hypercall_dispatch(struct hv_vp *vp, const struct hv_exit *e);

/* ---- intercept.c ---- */
/* Handle an exit of vp; the VP's state says whether it can run on. */
void hv_intercept_handle(struct hv_vp *vp, const struct hv_exit *e);
/* The root completed the intercept of `vp` (hvsim_complete_intercept). */
void hv_intercept_complete(struct hv_vp *vp, uint64_t value);

/* ---- synic.c ---- */
/* Post a message into SINT `sint` of vp (TLFS "SynIC Message Flags": queued while the slot
   is occupied, MessagePending set). Returns an HV_STATUS. */
uint16_t hv_synic_post(struct hv_vp *vp, unsigned sint, const struct hv_message *m);
uint16_t hv_synic_signal(struct hv_vp *vp, unsigned sint, unsigned flag);
/* Before entering vp: hand the highest pending SINT vector to the back-end. */
void hv_synic_deliver_pending(struct hv_vp *vp);
int hv_synic_msr_read(struct hv_vp *vp, uint32_t msr, uint64_t *value);
int hv_synic_msr_write(struct hv_vp *vp, uint32_t msr, uint64_t value);

/* ---- scheduler.c ---- */
__attribute__((noreturn)) void hv_scheduler_run(void);
/* Give the processor to another VP at the next scheduling point (NotifyLongSpinWait, HLT). */
void hv_scheduler_yield(struct hv_vp *vp);
