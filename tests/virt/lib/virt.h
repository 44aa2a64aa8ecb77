/* The virt test library: test hypervisors for VMX and SVM in the shape of kvm-unit-tests.
   A test is {name, arch, init, guest_main, exit_handler, check}; the runner gives each test a
   fresh vCPU (a VMCS or VMCB prepared for a 64-bit guest that shares the host's page tables,
   GDT and IDT, on a stack of its own), runs the guest and hands every exit to the handler.
   Context: freestanding C, ring 0, 64-bit long mode, one CPU, interrupts off. */
#pragma once
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- console (console.c): COM1, polled; printf supports %s %c %d %i %u %x %p, '#', '0',
   a width and the length modifiers l, ll, z. ---- */
void console_init(void);
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);

/* Ends the program through the debug-exit port (0xf4): status 0 is success (QEMU's
   isa-debug-exit and hvsim report it as exit status 1). */
__attribute__((noreturn)) void virt_exit(uint32_t status);
/* Prints "ABORT: why" and ends the program with status 1. */
__attribute__((noreturn)) void virt_abort(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- memory (pages.c): zeroed 4 KiB pages from a pool; identity-mapped, so a page's
   virtual address is its physical address. virt_pages_reset() frees all of them (the runner
   calls it between tests). ---- */
void *virt_alloc_pages(unsigned count);
void virt_pages_reset(void);
static inline uint64_t virt_pa(const void *p) { return (uint64_t)p; }

/* ---- exceptions (desc.c, isr.S): every vector reports itself and aborts the run, unless
   a test installs a hook that handles it (returns true; it may change frame->rip). ---- */
struct exception_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;  /* pushed by the processor (SDM Vol. 3A 6.14.2) */
};
typedef bool (*exception_hook_fn)(struct exception_frame *frame);
extern exception_hook_fn virt_exception_hook;
void desc_init(void);

/* ---- the vCPU and its exits ---- */
enum virt_arch { VIRT_VMX, VIRT_SVM };

/* Guest general registers the VMCS/VMCB does not hold. The runner loads them before every
   entry and stores them after every exit; handlers read and change them here. For SVM the
   runner also copies RAX from and to the VMCB, so `rax` is the guest's RAX on both. The guest
   RSP and RIP live in the VMCS/VMCB (virt_guest_rip(), virt_set_guest_rip()). */
struct guest_regs {
    uint64_t rax, rbx, rcx, rdx, rsi, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
};

enum virt_exit_kind {
    VIRT_EXIT_VM_EXIT,         /* a VM exit (VMX, also an entry failure with reason bit 31) or #VMEXIT (SVM) */
    VIRT_EXIT_VMFAIL_INVALID,  /* VMX: VMLAUNCH/VMRESUME failed with CF=1 (no current VMCS) */
    VIRT_EXIT_VMFAIL_VALID,    /* VMX: failed with ZF=1; vm_instruction_error says why (SDM 31.4) */
};

/* What one exit tells the handler; the same shape for both architectures. */
struct virt_exit {
    enum virt_exit_kind kind;
    uint64_t reason;           /* VMX: basic exit reason (bits 15:0, EXIT_REASON_*); SVM: EXITCODE (SVM_EXIT_*) */
    uint32_t vmx_exit_reason;  /* VMX: the full exit-reason field (bit 31: VM-entry failure) */
    uint32_t vm_instruction_error; /* VMX, VIRT_EXIT_VMFAIL_VALID: the VM-instruction error number */
    uint64_t qualification;    /* VMX: exit qualification; SVM: EXITINFO1 */
    uint64_t info2;            /* VMX: guest-linear address; SVM: EXITINFO2 */
    uint64_t guest_rip;        /* guest RIP at the exit */
    uint32_t instruction_length; /* VMX: VM-exit instruction length; SVM: NRIP - RIP when NRIP
                                    save is supported and NRIP is set, else 0 */
    uint64_t next_rip;         /* guest_rip + instruction_length when that is known, else 0 */
};

struct vcpu {
    enum virt_arch arch;
    const struct virt_test *test;
    struct guest_regs regs;
    struct virt_exit exit;     /* the latest exit */
    unsigned exits;            /* exits so far in this test */
    unsigned max_exits;        /* the runner stops the test beyond this (default 1000) */
    unsigned stage;            /* free for the test: e.g. which guest step comes next */
    void *data;                /* free for the test */
    void *guest_stack_top;
    bool launched;             /* VMX: VMLAUNCH done, VMRESUME next */
    void *vmcs;                /* VMX: the current VMCS region */
    void *vmcb;                /* SVM: the guest's VMCB */
    char fail_reason[160];
};

/* What an exit handler (or check) returns. */
enum virt_action {
    VIRT_RESUME,  /* enter the guest again */
    VIRT_PASS,    /* stop: the test passed */
    VIRT_FAIL,    /* stop: the test failed (virt_fail() wrote the reason) */
    VIRT_SKIP,    /* stop: the test cannot run here (init only; reason from virt_skip()) */
};

struct virt_test {
    const char *name;
    enum virt_arch arch;
    /* After the default VMCS/VMCB setup, before the first entry: set controls and
       intercepts, break a field on purpose ... Returns VIRT_RESUME to run the guest. */
    enum virt_action (*init)(struct vcpu *v);
    /* The guest, in 64-bit ring 0. When it returns, the guest leaves with a VMCALL/VMMCALL
       that the runner recognizes (not shown to the handler) and the test ends with check(). */
    void (*guest_main)(void);
    /* Every exit (and every VMfail) goes here. NULL: any exit fails the test. */
    enum virt_action (*exit_handler)(struct vcpu *v, const struct virt_exit *e);
    /* After guest_main returned: the verdict. NULL: pass. */
    enum virt_action (*check)(struct vcpu *v);
};

/* Runs the tests in order, one line each ("PASS name", "FAIL name: reason", "SKIP name:
   reason"), then a summary line. Returns the debug-exit status: 0 if every test passed,
   1 if any failed, 77 if none failed but some were skipped. */
int virt_run_tests(const struct virt_test *tests, unsigned count);

/* Record why the test fails or is skipped; returns VIRT_FAIL / VIRT_SKIP for `return virt_fail(...)`. */
enum virt_action virt_fail(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
enum virt_action virt_skip(struct vcpu *v, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Inside a handler: fail the test unless `cond` holds. */
#define VIRT_EXPECT(v, cond, ...)                   \
    do {                                            \
        if (!(cond)) return virt_fail((v), __VA_ARGS__); \
    } while (0)

/* Guest RIP in the VMCS/VMCB. */
uint64_t virt_guest_rip(struct vcpu *v);
void virt_set_guest_rip(struct vcpu *v, uint64_t rip);
/* Continue the guest after the exiting instruction (next_rip); false if its length is
   unknown (SVM without NRIP save: then use virt_set_guest_rip with a known length). */
bool virt_skip_instruction(struct vcpu *v, const struct virt_exit *e);
/* A readable name of the exit (from the generated tables). */
const char *virt_exit_name(const struct vcpu *v, const struct virt_exit *e);

/* Entry points of the guest trampoline (guest_entry.S): call guest_main (in RDI), then leave
   with VMCALL (VMX) or VMMCALL (SVM) at virt_guest_done_*. */
extern char virt_guest_entry_vmx[], virt_guest_done_vmx[];
extern char virt_guest_entry_svm[], virt_guest_done_svm[];
