/* Ring 3: IRETQ into user tasks, SYSCALL/SYSRETQ with SWAPGS (STAR/LSTAR/SFMASK, SDM Vol. 3A
   5.8.8), a user read of a supervisor page (#PF with U/S, fixed and retried), and tasks that
   execute HLT or CLI, which #GP and are killed while the kernel carries on.
   Context: ring 0, 64-bit, interrupts off; syscall_dispatch runs on the syscall stack. */
#include "kernel.h"

#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_ADD 2
#define SYS_REPORT 3
#define USER_GS_MAGIC 0x7573657267730000ull
#define RFLAGS_IF 0x200ull

/* syscall.S's frame, lowest address first. */
struct syscall_frame {
    uint64_t r15, r14, r13, r12, rbp, rbx, r9, r8, r10, rdx, rsi, rdi, rax, rcx, r11, user_rsp;
};

__attribute__((noreturn)) void enter_user(uint64_t rip, uint64_t rsp, uint64_t rflags);
void syscall_entry(void);
uint64_t syscall_dispatch(struct syscall_frame* f);
void user_killed(struct trap_frame* f);
extern char user_task_main[], user_task_hlt[], user_task_hlt_at[], user_task_cli[], user_task_cli_at[];
extern char user_stack_top[], user_gs_area[];
extern char __user_text_start[], __user_data_end[];
struct kctx user_return;  /* where the kernel resumes when a task exits or is killed */

static struct {
    bool killed, entry_state_bad;
    uint64_t vector, error, rip, cs;
    uint64_t exit_code, syscalls, gs_after;
    uint64_t reports[8];
    uint64_t bad_rflags, bad_user_rflags;
    uint16_t bad_cs, bad_ss;
} run;

void user_init(void) {
    wrmsr(MSR_STAR, ((uint64_t)(SEL_UCODE32 | 3) << 48) | ((uint64_t)SEL_KCODE << 32));
    wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
    wrmsr(MSR_SFMASK, 0x47700);  /* clear TF, IF, DF, IOPL, NT, AC on entry */
}

static void user_write(const char* p, uint64_t n) {
    if ((uint64_t)p < (uint64_t)__user_text_start || (uint64_t)p + n > (uint64_t)__user_data_end || n > 200) {
        kprintf("kernel: write syscall with a bad buffer %p+%lu\n", p, n);
        return;
    }
    char line[201];
    memcpy(line, p, n);
    line[n] = 0;
    kprintf("%s", line);
}

uint64_t syscall_dispatch(struct syscall_frame* f) {
    ++run.syscalls;
    uint16_t cs, ss;
    __asm__ volatile("mov %%cs, %0; mov %%ss, %1" : "=r"(cs), "=r"(ss));
    const uint64_t rflags = read_rflags();
    if ((rflags & RFLAGS_IF) || cs != SEL_KCODE || ss != SEL_KDATA || !(f->r11 & RFLAGS_IF)) {
        run.entry_state_bad = true;
        run.bad_rflags = rflags;
        run.bad_user_rflags = f->r11;
        run.bad_cs = cs;
        run.bad_ss = ss;
    }
    switch (f->rax) {
    case SYS_EXIT:
        run.exit_code = f->rdi;
        kctx_restore(&user_return, 1);
    case SYS_WRITE: user_write((const char*)f->rdi, f->rsi); return 0;
    case SYS_ADD: return f->rdi + f->rsi;
    case SYS_REPORT:
        if (f->rdi < 8) run.reports[f->rdi] = f->rsi;
        return 0;
    default: return (uint64_t)-1;
    }
}

static const char* vector_name(uint64_t v) { return v == 13 ? "#GP" : v == 14 ? "#PF" : v == 6 ? "#UD" : "exception"; }

void user_killed(struct trap_frame* f) {
    run.killed = true;
    run.vector = f->vector;
    run.error = f->error;
    run.rip = f->rip;
    run.cs = f->cs;
    kprintf("kernel: user task killed: %s(%#lx) at %#lx\n", vector_name(f->vector), f->error, f->rip);
    kctx_restore(&user_return, 2);
}

static void run_user(void* entry) {
    memset(&run, 0, sizeof run);
    if (kctx_save(&user_return) == 0) {
        wrmsr(MSR_KERNEL_GS_BASE, (uint64_t)user_gs_area);
        enter_user((uint64_t)entry, (uint64_t)user_stack_top, RFLAGS_IF | 2);
    }
    /* An interrupt from CPL 3 left SS null (6.14.4); reload it for the rest of the kernel. */
    __asm__ volatile("mov %0, %%ss" : : "r"(SEL_KDATA));
    run.gs_after = rdmsr(MSR_GS_BASE);
}

static void check_killed(const char* step, const char* insn, const char* at) {
    check(run.killed && run.vector == 13 && run.error == 0 && run.rip == (uint64_t)at && run.cs == (SEL_UCODE | 3) &&
              run.gs_after == (uint64_t)&percpu_bsp,
          step, "%s at CPL 3: killed %d by vector %lu error %#lx at %#lx:%#lx (want #GP(0) at %p), exit code %lu",
          insn, run.killed, run.vector, run.error, run.cs, run.rip, at, run.exit_code);
}

void test_user(void) {
    const uint64_t frame = alloc_frame();
    *(volatile uint64_t*)frame = 0x5ec0de;
    map_page(TEST_SUP_VA, frame, PTE_W | PTE_NX, 1);

    pf_arm(PF_FIX_USER, PF_P | PF_U, TEST_SUP_VA, TEST_SUP_VA + 1);
    run_user(user_task_main);
    uint64_t cr2, error, rip;
    const unsigned faults = pf_disarm(&cr2, &error, &rip);

    if (run.killed) fail("user-task", "killed by vector %lu error %#lx at %#lx", run.vector, run.error, run.rip);
    check(run.exit_code == 7 && run.syscalls == 8 && !run.entry_state_bad, "syscall",
          "exit code %lu after %lu syscalls; in the kernel RFLAGS %#lx CS %#x SS %#x, user R11 %#lx", run.exit_code,
          run.syscalls, run.bad_rflags, run.bad_cs, run.bad_ss, run.bad_user_rflags);
    check(run.reports[2] == (SEL_UCODE | 3), "user-cpl3", "CS in the task %#lx", run.reports[2]);
    check(run.reports[1] == USER_GS_MAGIC && run.gs_after == (uint64_t)&percpu_bsp, "swapgs",
          "GS:0 in the task %#lx (want %#llx), kernel GS base after %#lx (want %p)", run.reports[1], USER_GS_MAGIC,
          run.gs_after, (void*)&percpu_bsp);
    check(run.reports[3] == 2870 && run.reports[4] == 42, "user-compute", "sum of squares %lu (want 2870), 40+2 = %lu",
          run.reports[3], run.reports[4]);
    check(faults == 1 && run.reports[5] == 0x5ec0de, "pf-user-supervisor",
          "%u faults (1000+: wrong CR2 or error), CR2 %#lx error %#lx RIP %#lx, read %#lx", faults, cr2, error, rip,
          run.reports[5]);

    run_user(user_task_hlt);
    check_killed("user-hlt-killed", "HLT", user_task_hlt_at);
    run_user(user_task_cli);
    check_killed("user-cli-killed", "CLI", user_task_cli_at);
}
