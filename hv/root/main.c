/* The root OS: says hello on its UART, enables hypercalls and its SynIC (message page, SINTs
   in polling mode), creates a child partition, gives it memory (the pages leave the root's
   own address space), loads the child kernel into them, starts its VP, then serves its
   intercepts until the child reports its end, and ends the machine with the child's status.
   Context: root partition, ring 0, 64-bit, interrupts off except in its wait (STI; HLT: the
   intercepted HLT yields the processor to the hypervisor, which resumes the root with the
   SINT interrupt when a message or event arrives). */
#include "root.h"

#include "../../tests/guest/guest.h"
#include "../abi/demo.h"

_Static_assert(HV_HOSTILE_TARGET == HV_ROOT_BASE + HV_IMAGE_OFFSET, "the hostile child aims at the root's entry");

#define SINT_AUTO_EOI (1ull << 17)
#define SINT_VECTOR 0x50

extern const char hv_child_image[], hv_child_image_end[];      /* images.S: the demo child */
extern const char hv_hostile_image[], hv_hostile_image_end[];  /* images.S: the hostile child */
extern const char hv_spin_image[], hv_spin_image_end[];        /* images.S: the spinlock child */

uint8_t hv_hypercall_page[4096] __attribute__((aligned(4096)));
static volatile struct hv_message message_page[16] __attribute__((aligned(4096)));
static volatile uint8_t event_page[4096] __attribute__((aligned(4096)));
static uint8_t child_memory[4][HV_CHILD_PAGES][4096] __attribute__((aligned(4096)));
static uint64_t input[512] __attribute__((aligned(4096)));
/* The hostile child aims its wild write at the root's first code bytes (HV_HOSTILE_TARGET):
   the root keeps a copy to see that they did not change. */
static uint8_t entry_copy[64];
static uint64_t output[512] __attribute__((aligned(4096)));

static void check(uint16_t status, const char *what) {
    if (status != HV_STATUS_SUCCESS) virt_abort("root: %s: %s", what, hv_status_name(status));
}

volatile uint64_t root_sint_interrupts;
void root_sint_isr(void);  /* interrupts.S */
static uint64_t idt[256 * 2] __attribute__((aligned(16)));

/* A 64-bit interrupt gate (SDM 6.14.1): present, DPL 0, type 0Eh, code selector 08h. */
static void set_gate(unsigned vector, void (*handler)(void)) {
    const uint64_t a = (uint64_t)handler;
    idt[2 * vector] = (a & 0xffff) | (0x08ull << 16) | (0x8eull << 40) | (((a >> 16) & 0xffff) << 48);
    idt[2 * vector + 1] = a >> 32;
}

/* The SINTs interrupt on their vectors with AutoEOI: there is no virtual local APIC to EOI. */
static void synic_enable(void) {
    set_gate(SINT_VECTOR, root_sint_isr);
    set_gate(SINT_VECTOR + 1, root_sint_isr);
    struct __attribute__((packed)) { uint16_t limit; uint64_t base; } idtr = {sizeof idt - 1, (uint64_t)idt};
    __asm__ volatile("lidt %0" : : "m"(idtr));
    hv_guest_wrmsr(HV_MSR_SIMP, (uint64_t)message_page | 1);
    hv_guest_wrmsr(HV_MSR_SIEFP, (uint64_t)event_page | 1);
    hv_guest_wrmsr(HV_MSR_SINT0 + HV_SINT_INTERCEPT, SINT_AUTO_EOI | SINT_VECTOR);
    hv_guest_wrmsr(HV_MSR_SINT0 + HV_SINT_CHILD, SINT_AUTO_EOI | (SINT_VECTOR + 1));
    hv_guest_wrmsr(HV_MSR_SCONTROL, 1);
}

/* A child partition with `memory` (HV_CHILD_PAGES pages of the root's, which leave the root's
   address space) holding `image` at HV_IMAGE_OFFSET, its enlightenment switches `flags`
   (HV_PARTITION_FLAG_*) and `vps` VPs (not started yet). */
static uint64_t create_child(uint8_t (*memory)[4096], const char *image, const char *image_end, uint64_t flags,
                             unsigned vps) {
    memcpy(memory[HV_IMAGE_OFFSET / 4096], image, (uint64_t)(image_end - image));
    input[0] = flags;
    input[1] = 0;
    check(hv_guest_memory(HVCALL_CREATE_PARTITION, input, output), "HvCallCreatePartition");
    const uint64_t id = output[0];
    check(hv_guest_fast(HVCALL_INITIALIZE_PARTITION, id, 0), "HvCallInitializePartition");
    input[0] = id;
    for (unsigned i = 0; i < HV_CHILD_PAGES; ++i) input[1 + i] = (uint64_t)memory[i] >> 12;
    check(hv_guest_rep(HVCALL_DEPOSIT_MEMORY, HV_CHILD_PAGES, input, NULL), "HvCallDepositMemory");
    struct hv_input_map_gpa_pages *map = (struct hv_input_map_gpa_pages *)input;
    map->target_partition_id = id;
    map->target_gpa_base = 0;
    map->map_flags = HV_MAP_GPA_READABLE | HV_MAP_GPA_WRITABLE | HV_MAP_GPA_EXECUTABLE;
    map->reserved = 0;
    for (unsigned i = 0; i < HV_CHILD_PAGES; ++i) map->source_gpa_page_list[i] = (uint64_t)memory[i] >> 12;
    check(hv_guest_rep(HVCALL_MAP_GPA_PAGES, HV_CHILD_PAGES, input, NULL), "HvCallMapGpaPages");
    check(hv_guest_fast(HVCALL_FINALIZE_PARTITION, id, 0), "HvCallFinalizePartition");
    for (unsigned i = 0; i < vps; ++i) {
        struct hv_input_create_vp *vp = (struct hv_input_create_vp *)input;
        memset(vp, 0, sizeof *vp);
        vp->partition_id = id;
        vp->vp_index = i;
        check(hv_guest_memory(HVCALL_CREATE_VP, input, NULL), "HvCallCreateVp");
    }
    return id;
}

/* VP `index` of a child starts at its image with a stack of its own (HV_CHILD_VP_STACK each). */
static void start_vp(uint64_t id, unsigned index) {
    struct hv_input_start_vp *start = (struct hv_input_start_vp *)input;
    memset(start, 0, sizeof *start);
    start->partition_id = id;
    start->vp_index = index;
    start->rip = HV_IMAGE_OFFSET;
    start->rsp = HV_CHILD_STACK_TOP - index * HV_CHILD_VP_STACK;
    check(hv_guest_memory(HVCALL_START_VIRTUAL_PROCESSOR, input, NULL), "HvCallStartVirtualProcessor");
}

/* Take the message out of a slot (TLFS: copy, clear MessageType, EOM if MessagePending). */
static int take_message(unsigned sint, struct hv_message *m) {
    volatile struct hv_message *slot = &message_page[sint];
    if (slot->message_type == HV_MESSAGE_TYPE_NONE) return 0;
    memcpy(m, (const void *)slot, sizeof *m);
    slot->message_type = HV_MESSAGE_TYPE_NONE;
    if (m->flags & HV_MESSAGE_PENDING) hv_guest_wrmsr(HV_MSR_EOM, 0);
    return 1;
}

static void serve(struct child_state *child) {
    struct hv_message m;
    while (!child->finished) {
        /* Wait for a SINT interrupt: HLT in the STI shadow, so none slips in before it. */
        __asm__ volatile("sti; hlt; cli" : : : "memory");
        if (take_message(HV_SINT_CHILD, &m)) ++child->messages;
        for (unsigned i = 0; i < 256; ++i)  /* SINT HV_SINT_CHILD's 2048 flags */
            if (event_page[HV_SINT_CHILD * 256 + i]) {
                for (uint8_t b = event_page[HV_SINT_CHILD * 256 + i]; b; b &= (uint8_t)(b - 1)) ++child->events;
                event_page[HV_SINT_CHILD * 256 + i] = 0;
            }
        if (!take_message(HV_SINT_INTERCEPT, &m)) continue;
        if (m.message_type == HV_MESSAGE_TYPE_UNMAPPED_GPA) {
            printf("root: child %lu stopped: access to GPA %#lx outside its memory\n", m.origin, m.payload[1]);
            child->finished = 1;
            child->status = HV_CHILD_STOPPED;
            break;
        }
        if (m.message_type != HV_MESSAGE_TYPE_X64_IO_PORT_INTERCEPT) virt_abort("root: message type %#x", m.message_type);
        const struct hv_io_port_intercept *io = (const struct hv_io_port_intercept *)m.payload;
        uint64_t value;
        const int complete = root_emulate_io(io, &value, child);
        /* A two-VP child announces its scenario from VP 0: then the root starts VP 1. */
        if (io->port == HV_DEMO_SCENARIO_PORT && io->is_write && child->vps > 1 && !child->started_second) {
            child->started_second = 1;
            start_vp(child->partition_id, 1);
        }
        if (complete)
            check(hv_guest_fast(HVCALL_HVSIM_COMPLETE_INTERCEPT, m.origin | ((uint64_t)io->vp_index << 32), value),
                  "HvsimCompleteIntercept");
    }
}

/* Starts a created child and serves it to its end; returns its status (0: it passed its own
   checks, HV_CHILD_STOPPED: the hypervisor stopped it). */
static uint32_t run_child(uint64_t id, unsigned vps) {
    struct child_state child;
    memset(&child, 0, sizeof child);
    child.partition_id = id;
    child.vps = vps;
    start_vp(id, 0);
    printf("root: child partition %lu started\n", id);
    serve(&child);
    printf("root: child %lu finished with status %u after %lu emulated accesses, %lu messages, %lu events\n",
           child.partition_id, child.status, child.intercepts, child.messages, child.events);
    return child.status;
}

void kernel_main(uint64_t partition_id, uint64_t vp_index);
void kernel_main(uint64_t partition_id, uint64_t vp_index) {
    console_init();
    printf("root: hello (partition %lu, VP %lu)\n", partition_id, vp_index);
    memcpy(entry_copy, (const void *)HV_HOSTILE_TARGET, sizeof entry_copy);
    hv_guest_enable_hypercalls();
    synic_enable();
    /* The children are created at boot and run one after the other, so each scenario's counts
       are the running child's and the root's serving it. The two spinlock children run the
       same kernel with two VPs, one with the spin-wait and TLB-flush enlightenments, one
       without. */
    const uint64_t demo_id = create_child(child_memory[0], hv_child_image, hv_child_image_end, 0, 1);
    const uint64_t hostile_id = create_child(child_memory[1], hv_hostile_image, hv_hostile_image_end, 0, 1);
    const uint64_t spin_id = create_child(child_memory[2], hv_spin_image, hv_spin_image_end, 0, 2);
    const uint64_t plain_id =
        create_child(child_memory[3], hv_spin_image, hv_spin_image_end,
                     HV_PARTITION_FLAG_NO_SPIN_HINT | HV_PARTITION_FLAG_NO_FLUSH_HINT, 2);
    const uint32_t demo = run_child(demo_id, 1);
    /* The hostile child ends stopped by the hypervisor at its write outside its memory. */
    const uint32_t hostile = run_child(hostile_id, 1);
    const uint32_t spin = run_child(spin_id, 2) | run_child(plain_id, 2);
    int intact = 1;
    for (unsigned i = 0; i < sizeof entry_copy; ++i) intact &= entry_copy[i] == ((volatile uint8_t *)HV_HOSTILE_TARGET)[i];
    printf("root: %lu SynIC interrupts\n", root_sint_interrupts);
    printf("root: the hostile child was %s; the root's memory is %s\n", hostile == HV_CHILD_STOPPED ? "stopped" : "NOT stopped",
           intact ? "intact" : "CHANGED");
    const int isolated = hostile == HV_CHILD_STOPPED && intact;
    virt_exit(demo == 0 && spin == 0 && isolated ? 0 : 1);
}
