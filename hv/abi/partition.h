/* The contract between our hypervisor (hv/hypervisor), the root partition (hv/root) and the
   child kernels (hv/child) beyond the TLFS tables: where partitions live, how a VP starts, the
   input blocks of the partition-management calls as we take them, and the intercept message
   the hypervisor sends the root. TLFS names where the TLFS has the thing; "hvsim" marks ours.
   Context: freestanding C, shared by all three images. */
#ifndef HV_ABI_PARTITION_H
#define HV_ABI_PARTITION_H
#include <stdint.h>

#define HV_PAGE_SIZE 4096ull

/* Host physical memory (the machine has 64 MiB): [0, 16 MiB) is the hypervisor's and mapped in
   no partition; the root partition is identity-mapped over [16 MiB, 48 MiB). */
#define HV_ROOT_BASE (16ull << 20)
#define HV_ROOT_SIZE (32ull << 20)
#define HV_ROOT_PARTITION_ID 1
#define HV_ROOT_ZEROED (8ull << 20)  /* the root image and its .bss fit here, zeroed at boot */

/* The boot convention of a VP (hvsim; the TLFS leaves a VP's initial state to
   HvCallStartVirtualProcessor's context): the hypervisor writes, at the partition's memory
   base, page tables identity-mapping the first GiB by 2 MiB pages and a GDT like the
   hypervisor's (null, 64-bit code 08h, data 10h, 32-bit code 18h, TSS 20h), and starts the VP
   in 64-bit ring 0 with interrupts off, CR3 = base + HV_BOOT_PML4, RIP and RSP as given, RDI =
   the partition id, RSI = the VP index. IDTR is empty until the kernel loads its own. */
#define HV_BOOT_PML4 0x1000
#define HV_BOOT_PDPT 0x2000
#define HV_BOOT_PD 0x3000
#define HV_BOOT_GDT 0x4000
#define HV_BOOT_TSS 0x4100
#define HV_BOOT_AREA_END 0x5000
#define HV_IMAGE_OFFSET 0x10000   /* where an image is linked, from its partition's base */

/* The child kernels: linked at child GPA HV_IMAGE_OFFSET; the root gives each child
   HV_CHILD_PAGES pages mapped at GPA 0. */
#define HV_CHILD_PAGES 256
#define HV_CHILD_STACK_TOP (HV_CHILD_PAGES * HV_PAGE_SIZE)
#define HV_CHILD_VP_STACK 0x10000  /* VP n's stack tops at HV_CHILD_STACK_TOP - n * this */

/* Input blocks (8-byte aligned, within one page: TLFS "Hypercall Inputs and Outputs"). */
struct hv_input_create_partition {      /* HvCallCreatePartition; output: u64 partition id */
    uint64_t flags;                      /* HV_PARTITION_FLAG_* (hvsim: enlightenment switches) */
    uint64_t proximity_domain_info;      /* ignored (one NUMA node) */
};
#define HV_PARTITION_FLAG_NO_SPIN_HINT (1ull << 0)   /* hvsim: CPUID 40000004h.EBX = never notify */
#define HV_PARTITION_FLAG_NO_FLUSH_HINT (1ull << 1)  /* hvsim: hint bits 2/10/11 clear */

struct hv_input_deposit_memory {         /* HvCallDepositMemory (rep): the caller's GPA page numbers */
    uint64_t partition_id;
    uint64_t gpa_page_list[];            /* one per rep */
};

/* HvCallMapGpaPages (rep). hvsim deviation: the source pages are pages the caller deposited
   into the target partition (named by the caller's GPA page numbers they came from), so a
   child's memory is never mapped in the root (the TLFS maps pages the caller keeps). */
struct hv_input_map_gpa_pages {
    uint64_t target_partition_id;
    uint64_t target_gpa_base;
    uint32_t map_flags;                  /* HV_MAP_GPA_READABLE | WRITABLE | EXECUTABLE */
    uint32_t reserved;
    uint64_t source_gpa_page_list[];
};
#define HV_MAP_GPA_READABLE 0x1
#define HV_MAP_GPA_WRITABLE 0x2
#define HV_MAP_GPA_EXECUTABLE 0xc

struct hv_input_create_vp {              /* HvCallCreateVp */
    uint64_t partition_id;
    uint32_t vp_index;
    uint32_t reserved;
    uint64_t flags;
};

struct hv_input_start_vp {               /* HvCallStartVirtualProcessor (hvsim context: RIP, RSP) */
    uint64_t partition_id;
    uint32_t vp_index;
    uint32_t target_vtl;                 /* 0 */
    uint64_t rip;
    uint64_t rsp;
};

struct hv_input_post_message {           /* HvCallPostMessage */
    uint32_t connection_id;
    uint32_t reserved;
    uint32_t message_type;
    uint32_t payload_size;
    uint64_t payload[30];
};

struct hv_input_flush_space {            /* HvCallFlushVirtualAddressSpace */
    uint64_t address_space;
    uint64_t flags;
    uint64_t processor_mask;
};
#define HV_FLUSH_ALL_PROCESSORS 0x1
#define HV_FLUSH_ALL_VIRTUAL_ADDRESS_SPACES 0x2
#define HV_FLUSH_NON_GLOBAL_MAPPINGS_ONLY 0x4

/* Connections (TLFS "Inter-Partition Communication"; ids are ours): a child's messages and
   events reach the root's SINT HV_SINT_CHILD. The hypervisor's intercept messages reach the
   root's SINT HV_SINT_INTERCEPT. */
#define HV_CONNECTION_ROOT_MESSAGES 1
#define HV_CONNECTION_ROOT_EVENTS 2
#define HV_SINT_INTERCEPT 0
#define HV_SINT_CHILD 1

/* SynIC message slot (TLFS HV_MESSAGE, 256 bytes). */
struct hv_message {
    uint32_t message_type;               /* 0: empty */
    uint8_t payload_size;
    uint8_t flags;                       /* bit 0: MessagePending */
    uint16_t reserved;
    uint64_t origin;                     /* sender partition id */
    uint64_t payload[30];
};
#define HV_MESSAGE_PENDING 0x1
#define HV_MESSAGE_TYPE_NONE 0x00000000
#define HV_MESSAGE_TYPE_UNMAPPED_GPA 0x80000000          /* TLFS HvMessageTypeUnmappedGpa */
#define HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT 0x80010000 /* TLFS HvMessageTypeX64IoPortIntercept */

/* The payload of an I/O-port intercept message: the fields of the TLFS's
   HV_X64_IO_PORT_INTERCEPT_MESSAGE our root needs, in an hvsim layout. */
struct hv_io_port_intercept {
    uint32_t vp_index;
    uint8_t instruction_length;
    uint8_t is_write;
    uint8_t access_size;                 /* 1, 2 or 4 */
    uint8_t reserved;
    uint16_t port;
    uint16_t reserved2[3];
    uint64_t rip;
    uint64_t rax;                        /* the value an OUT writes */
};

#endif /* HV_ABI_PARTITION_H */
