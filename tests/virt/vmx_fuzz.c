/* VMX fuzzer: FUZZ_ITERATIONS times, a fresh default VMCS gets 1-8 random fields mutated
   (encodings from sim/tables/vmcs_fields.toml through the generated vmcs_name(); controls,
   guest state and read-only fields, whose VMWRITE must fail cleanly), then VMLAUNCH. Host-state
   fields stay intact: a valid but different host state would send the exit elsewhere, and the
   host checks have their own table-driven test (tests/unit/vmx). Exceptions, I/O and HLT always
   exit, so a guest that does enter cannot reach the machine's devices. The simulator must
   survive every attempt; the outcomes are counted. Acceptance of issue 4: 100,000 launches. */
#include "fuzz.h"
#include "vmx.h"
#include "vmx_controls.h"  /* VMX_PROC_* (sim/tables/vmx_controls.toml) */

#define MAX_FIELDS 512
static uint32_t fields[MAX_FIELDS];
static unsigned field_count;

/* Every encoding the table names, except host state (type bits 11:10 = 3, SDM Vol. 3C
   Table 25-21), the guest RIP/RSP (a flipped bit would run host code as the guest), and the
   fields whose architectural outcome ends the whole run rather than the attempt: the VM-exit
   MSR-store/load counts (a list the exit cannot read is a VMX abort, SDM 28.7: the processor
   shuts down) and the guest activity state (HLT or wait-for-SIPI with nothing to wake the
   guest halts the machine for good). */
static bool mutable_field(uint32_t e) {
    const uint32_t kept[] = {VMCS_GUEST_RIP, VMCS_GUEST_RSP, VMCS_VM_EXIT_MSR_STORE_COUNT,
                             VMCS_VM_EXIT_MSR_LOAD_COUNT, VMCS_GUEST_ACTIVITY_STATE};
    if (((e >> 10) & 3) == 3) return false;
    for (unsigned i = 0; i < ARRAY_SIZE(kept); ++i)
        if (e == kept[i]) return false;
    return true;
}

static void collect_fields(void) {
    for (uint32_t e = 0; e < 0x8000 && field_count < MAX_FIELDS; ++e) {
        if (!mutable_field(e)) continue;
        const char *name = vmcs_name(e);
        if (name[0] == 'u' && name[1] == 'n' && name[2] == 'k') continue;  /* "unknown" */
        fields[field_count++] = e;
    }
}

static void guest_returns(void) {}
void fuzz_guest_leaves(void);
__asm__(".globl fuzz_guest_leaves\nfuzz_guest_leaves: vmcall\n ud2\n");

static void contain_guest(void) {
    vmcs_write(VMCS_EXCEPTION_BITMAP, 0xffffffffu);
    uint64_t proc = 0;
    vmread(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS, &proc);
    vmwrite(VMCS_PRIMARY_PROCESSOR_BASED_VM_EXECUTION_CONTROLS,
            proc | VMX_PROC_HLT_EXITING | VMX_PROC_UNCONDITIONAL_IO_EXITING);
}

int main(void) {
    const char *why = vmx_unsupported_reason();
    if (why) {
        printf("SKIP vmx_fuzz: %s\n", why);
        return 77;
    }
    vmx_enable();
    collect_fields();
    printf("vmx_fuzz: %u fields, %u iterations\n", field_count, FUZZ_ITERATIONS);
    static struct vcpu v;
    static struct fuzz_histogram outcomes;
    uint64_t rng = FUZZ_SEED, writes_failed = 0;
    const uint64_t guest_idt = fuzz_guest_idt(fuzz_guest_leaves);
    for (unsigned i = 0; i < FUZZ_ITERATIONS; ++i) {
        virt_pages_reset();
        memset(&v, 0, sizeof v);
        v.arch = VIRT_VMX;
        v.guest_stack_top = (char *)virt_alloc_pages(1) + 4096;
        v.regs.rdi = (uint64_t)guest_returns;
        vmx_vcpu_setup(&v);
        vmcs_write(VMCS_GUEST_IDTR_BASE, guest_idt);
        vmcs_write(VMCS_GUEST_IDTR_LIMIT, 256 * 16 - 1);
        const unsigned mutations = 1 + fuzz_next(&rng) % 8;
        for (unsigned k = 0; k < mutations; ++k) {
            const uint32_t f = fields[fuzz_next(&rng) % field_count];
            uint64_t value = 0;
            vmread(f, &value);
            if (vmwrite(f, fuzz_mutate(&rng, value)) != VMX_SUCCEED) ++writes_failed;
        }
        contain_guest();
        vmx_vcpu_enter(&v);
        switch (v.exit.kind) {
        case VIRT_EXIT_VMFAIL_INVALID: fuzz_count(&outcomes, "VMfailInvalid", 0); break;
        case VIRT_EXIT_VMFAIL_VALID: fuzz_count(&outcomes, "VMfailValid error", v.exit.vm_instruction_error); break;
        default:
            fuzz_count(&outcomes, (v.exit.vmx_exit_reason >> 31) ? "entry failure reason" : "exit reason",
                       v.exit.reason);
        }
        vmx_vcpu_release(&v);
    }
    printf("vmx_fuzz: %u launches done, %llu VMWRITEs refused; outcomes:\n", FUZZ_ITERATIONS,
           (unsigned long long)writes_failed);
    fuzz_print(&outcomes);
    printf("SUMMARY: vmx_fuzz survived %u iterations\n", FUZZ_ITERATIONS);
    return 0;
}
