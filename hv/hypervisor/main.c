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
    hv_backend = is_intel() ? &hv_vmx_backend : &hv_svm_backend;
    const char *why = hv_backend->enable();
    if (why) {
        console_init();
        virt_abort("hv: cannot use %s: %s", hv_backend->name, why);
    }
    launch_root();
    hv_scheduler_run();
}
