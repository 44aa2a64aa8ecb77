/* The SIPI VM exit (exit reason 4; SDM Vol. 3C 26.2 "Other Causes of VM Exits", 28.2.1: the
   exit qualification is the SIPI vector) needs a second processor: the boot processor (BSP)
   VMLAUNCHes a guest in the wait-for-SIPI activity state (27.7 / 24.4.2, advertised by
   IA32_VMX_MISC[8], A.6), and the application processor (AP), started with INIT-SIPI
   (Vol. 3A 9.4.4.1), sends the BSP startup IPIs from real mode until the BSP has taken one.
   A SIPI that arrives while the BSP is not waiting for one (VMX root, or an active guest) is
   discarded (26.6.2), so the AP repeats it. Both local APICs are in x2APIC mode (the AP cannot
   reach the xAPIC page from real mode; the ICR is MSR 830h, Vol. 3A 11.12.9).
   Run: hvsim run vmx_sipi.elf --vendor intel --virt modern --cpus 2 --serial stdio.
   Context: the test hypervisor on the BSP, ring 0, 64-bit; ap_sipi_start on the AP. */
#include "vmx_test.h"

#define AP_START_PA 0x8000ull        /* below 1 MiB, page-aligned: SIPI vector 08h */
#define AP_APIC_ID 1ull
#define AP_TIMEOUT_CYCLES (1ull << 26)
#define BSP_SIPI_VECTOR 0x42         /* what the AP sends; any 8-bit value */
#define ACTIVITY_WAIT_FOR_SIPI 3     /* 24.4.2 */
#define ICR_INIT_ASSERT 0x4500u      /* delivery mode INIT, level assert (11.6.1) */
#define ICR_STARTUP 0x4600u          /* delivery mode start-up, level assert, | vector */
#define STR(x) #x
#define XSTR(x) STR(x)

/* The AP's code, copied to AP_START_PA (real mode, CS = 0800h, IP = 0; position-independent).
   It turns on x2APIC mode (IA32_APIC_BASE EN|EXTD) and sends SIPI vector 42h to x2APIC ID 0
   (the BSP) until the BSP sets ap_sipi_done in the copy; then it halts with interrupts off.
   ap_sipi_started tells the BSP that there is an AP at all. */
__asm__(".section .rodata.ap_sipi, \"a\"\n"
        ".code16\n"
        ".globl ap_sipi_start, ap_sipi_started, ap_sipi_done, ap_sipi_end\n"
        "ap_sipi_start:\n"
        "    cli\n"
        "    movb $1, %cs:(ap_sipi_started - ap_sipi_start)\n"
        "    mov $" XSTR(MSR_APIC_BASE_NUM) ", %ecx\n"
        "    rdmsr\n"
        "    or $" XSTR(APIC_BASE_EN_EXTD) ", %eax\n"
        "    wrmsr\n"
        "1:  mov $" XSTR(X2APIC_ICR) ", %ecx\n"
        "    xor %edx, %edx\n"
        "    mov $(" XSTR(ICR_STARTUP) " | " XSTR(BSP_SIPI_VECTOR) "), %eax\n"
        "    wrmsr\n"
        "    mov $0x400, %cx\n"
        "2:  pause\n"
        "    dec %cx\n"
        "    jnz 2b\n"
        "    cmpb $0, %cs:(ap_sipi_done - ap_sipi_start)\n"
        "    je 1b\n"
        "3:  cli\n"
        "    hlt\n"
        "    jmp 3b\n"
        "ap_sipi_started: .byte 0\n"
        "ap_sipi_done: .byte 0\n"
        "ap_sipi_end:\n"
        ".code64\n"
        ".previous\n");
extern const char ap_sipi_start[], ap_sipi_started[], ap_sipi_done[], ap_sipi_end[];

/* A flag byte of the AP code, in the copy the AP runs. */
static volatile uint8_t *ap_flag(const char *flag) {
    return (volatile uint8_t *)(AP_START_PA + (uint64_t)(flag - ap_sipi_start));
}

static void delay_cycles(uint64_t n) {
    const uint64_t end = rdtsc() + n;
    while (rdtsc() < end) __asm__ volatile("pause");
}

/* INIT-SIPI-SIPI to the AP (Vol. 3A 9.4.4.1; the second SIPI is ignored by a started AP);
   false if no AP answers (a machine with one processor). */
static bool start_ap(void) {
    memcpy((void *)AP_START_PA, ap_sipi_start, (size_t)(ap_sipi_end - ap_sipi_start));
    __asm__ volatile("mfence" ::: "memory");
    wrmsr(X2APIC_ICR, (AP_APIC_ID << 32) | ICR_INIT_ASSERT);
    delay_cycles(100000);
    for (int k = 0; k < 2; ++k) {
        wrmsr(X2APIC_ICR, (AP_APIC_ID << 32) | ICR_STARTUP | (uint32_t)(AP_START_PA >> 12));
        delay_cycles(20000);
    }
    const uint64_t end = rdtsc() + AP_TIMEOUT_CYCLES;
    while (!*ap_flag(ap_sipi_started))
        if (rdtsc() > end) return false;
    return true;
}

static enum virt_action init_sipi(struct vcpu *v) {
    if (!(rdmsr(MSR_VMX_MISC) & (1ull << 8))) return virt_skip(v, "IA32_VMX_MISC[8] clear: no wait-for-SIPI state");
    if (!x2apic_enable()) return virt_skip(v, "no x2APIC (CPUID.1:ECX[21])");
    if (rdmsr(X2APIC_ID) != 0) return virt_skip(v, "the BSP's x2APIC ID is %lu, the AP sends to 0", rdmsr(X2APIC_ID));
    if (!start_ap()) return virt_skip(v, "no AP started (run with --cpus 2)");
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, ACTIVITY_WAIT_FOR_SIPI);
    return VIRT_RESUME;
}

/* The exit saves the activity state before it, wait-for-SIPI (28.3.4), and the guest RIP the
   entry loaded (the waiting guest ran nothing). The test then resumes the guest as active. */
static enum virt_action handle_sipi(struct vcpu *v, const struct virt_exit *e) {
    *ap_flag(ap_sipi_done) = 1;
    EXPECT_REASON(v, e, EXIT_REASON_SIPI);
    VIRT_EXPECT(v, e->qualification == BSP_SIPI_VECTOR, "qualification %#lx, expected the SIPI vector %#x",
                e->qualification, BSP_SIPI_VECTOR);
    VIRT_EXPECT(v, vmcs_read(VMCS_GUEST_ACTIVITY_STATE) == ACTIVITY_WAIT_FOR_SIPI,
                "saved activity state %lu, expected wait-for-SIPI (3)", vmcs_read(VMCS_GUEST_ACTIVITY_STATE));
    VIRT_EXPECT(v, e->guest_rip == (uint64_t)virt_guest_entry_vmx, "the waiting guest ran to %#lx", e->guest_rip);
    VIRT_EXPECT(v, v->stage++ == 0, "a second SIPI exit");
    vmcs_write(VMCS_GUEST_ACTIVITY_STATE, 0);
    return VIRT_RESUME;
}

static const struct virt_test tests[] = {
    {"vmx_sipi_exit_wait_for_sipi_guest", VIRT_VMX, init_sipi, guest_nothing, handle_sipi, check_one},
};

int main(void) {
    printf("vmx_sipi: %u tests\n", (unsigned)ARRAY_SIZE(tests));
    return virt_run_tests(tests, ARRAY_SIZE(tests));
}
