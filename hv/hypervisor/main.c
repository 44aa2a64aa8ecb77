/* The hypervisor's start: entered from the virt library's multiboot entry (tests/virt/lib/
   entry.S: long mode, first GiB identity-mapped) on the boot processor. It picks VT-x or AMD-V
   by the CPUID vendor, turns it on, builds the root partition (identity SLAT over
   [HV_ROOT_BASE, +HV_ROOT_SIZE), the root image copied to HV_ROOT_BASE + HV_IMAGE_OFFSET, the
   boot area) and schedules VPs from then on. It never prints unless it has to stop: the UART
   belongs to the root partition. Context: ring 0, 64-bit, one CPU, interrupts off; VMX root
   operation / SVM host mode once enabled. */
#include "hv.h"

#include "x86.h"

extern const char hv_root_image[], hv_root_image_end[];  /* images.S */

const struct hv_backend *hv_backend;

/* 8259A interrupt mask registers (OCW1 at the odd port of each controller). */
#define PIC_MASTER_IMR 0x21
#define PIC_SLAVE_IMR 0xa1

/* No device interrupt is routed anywhere: firmware may have left the PIT ticking through the
   8259s, and a physical interrupt not intercepted would be delivered into whichever partition
   runs with RFLAGS.IF set (APM 15.21.1; VMX without external-interrupt exiting, SDM 26.2). The
   root drives its devices by polling. */
static void mask_legacy_interrupts(void) {
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)0xff), "Nd"((uint16_t)PIC_MASTER_IMR));
    __asm__ volatile("outb %0, %1" : : "a"((uint8_t)0xff), "Nd"((uint16_t)PIC_SLAVE_IMR));
}

static int is_intel(void) {
    uint32_t r[4];
    cpuid2(0, 0, r);
    return r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e;  /* "GenuineIntel" */
}

static void launch_root(void) {
    struct hv_partition *root = hv_partition_create(0);
    if (!root || root->id != HV_ROOT_PARTITION_ID) virt_abort("hv: cannot create the root partition");
    for (uint64_t a = HV_ROOT_BASE; a < HV_ROOT_BASE + HV_ROOT_SIZE; a += HV_PAGE_SIZE) hv_partition_map(root, a, a);
    const uint64_t size = (uint64_t)(hv_root_image_end - hv_root_image);
    if (HV_IMAGE_OFFSET + size > HV_ROOT_ZEROED) virt_abort("hv: the root image (%lu bytes) is too large", size);
    memset((void *)HV_ROOT_BASE, 0, HV_ROOT_ZEROED);  /* the image, its .bss and the boot area */
    memcpy((void *)(HV_ROOT_BASE + HV_IMAGE_OFFSET), hv_root_image, size);
    if (!hv_partition_write_boot_area(root, HV_ROOT_BASE)) virt_abort("hv: cannot write the root's boot area");
    struct hv_vp *vp = &root->vps[0];
    hv_backend->vp_setup(vp, HV_ROOT_BASE + HV_IMAGE_OFFSET, HV_ROOT_BASE + HV_ROOT_SIZE, 1);
    vp->state = HV_VP_RUNNABLE;
}

void virt_start(void);
void virt_start(void) {
    desc_init();
    mask_legacy_interrupts();
    hv_backend = is_intel() ? &hv_vmx_backend : &hv_svm_backend;
    const char *why = hv_backend->enable();
    if (why) {
        console_init();
        virt_abort("hv: cannot use %s: %s", hv_backend->name, why);
    }
    launch_root();
    hv_scheduler_run();
}
