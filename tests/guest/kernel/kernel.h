/* The system-architecture test kernel: layout constants, shared state and the helpers every
   part uses. Context: freestanding, ring 0, 64-bit long mode, one or two CPUs.
   SDM sections are numbered as in the 2016-2022 editions of Vol. 3A (4 paging, 6 interrupts,
   8 multiple processors, 9 initialization, 10 APIC); other editions number them differently,
   so citations also name the section or the instruction. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "guest.h"

/* GDT selectors (gdt.c). 0x18/0x20/0x28 follow the order SYSRET needs: with STAR[63:48] =
   0x18, SYSRETQ loads CS = 0x18 + 16 and SS = 0x18 + 8 (SDM Vol. 2B "SYSRET"). */
#define SEL_KCODE 0x08u
#define SEL_KDATA 0x10u
#define SEL_UCODE32 0x18u
#define SEL_UDATA 0x20u
#define SEL_UCODE 0x28u
#define SEL_TSS_BSP 0x30u   /* 16 bytes: 0x30 and 0x38 */
#define SEL_KCODE32 0x40u   /* 32-bit code for the AP trampoline */
#define SEL_TSS_AP 0x48u    /* 16 bytes: 0x48 and 0x50 */

/* Interrupt vectors beyond the exceptions. */
#define VEC_TIMER 0x20
#define VEC_PING 0x41      /* BSP -> AP */
#define VEC_PONG 0x42      /* AP -> BSP */
#define VEC_SPURIOUS 0xff

/* Control registers and MSRs (SDM Vol. 3A 2.5, Vol. 4). */
#define CR0_PE (1ull << 0)
#define CR0_WP (1ull << 16)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define MSR_APIC_BASE 0x1bu
#define MSR_TSC_DEADLINE 0x6e0u
#define MSR_EFER 0xc0000080u
#define MSR_STAR 0xc0000081u
#define MSR_LSTAR 0xc0000082u
#define MSR_SFMASK 0xc0000084u
#define MSR_GS_BASE 0xc0000101u
#define MSR_KERNEL_GS_BASE 0xc0000102u
#define EFER_SCE (1ull << 0)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_NXE (1ull << 11)

/* Paging-structure entry bits (SDM Vol. 3A 4.5, tables 4-14 to 4-20). */
#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull

/* Page-fault error code bits (SDM Vol. 3A 4.7). */
#define PF_P 0x1u
#define PF_W 0x2u
#define PF_U 0x4u
#define PF_ID 0x10u

/* The interrupt frame isr.S builds: general registers, vector, error code, then what the
   processor pushed (SDM Vol. 3A 6.14.2 "64-Bit Mode Stack Frame"). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* Callee-saved context for kctx_save/kctx_restore (a kernel setjmp/longjmp, context.S). */
struct kctx {
    uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip;
};
__attribute__((returns_twice)) long kctx_save(struct kctx* c);
__attribute__((noreturn)) void kctx_restore(struct kctx* c, long value);

/* Per-CPU block reached through GS (SWAPGS); user_rsp/kernel_rsp offsets are used by syscall.S. */
struct percpu {
    uint64_t user_rsp;    /* offset 0: scratch for the user RSP at SYSCALL */
    uint64_t kernel_rsp;  /* offset 8: the stack SYSCALL switches to */
    uint64_t self;
    unsigned index;
};

/* console.c */
void console_init(void);
void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void pass(const char* step);
void passf(const char* step, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void fail(const char* step, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void skip(const char* step, const char* why);
bool check(bool ok, const char* step, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
__attribute__((noreturn)) void kernel_finish(void);
__attribute__((noreturn)) void kernel_abort(const char* why);
extern unsigned checks_passed, checks_failed;

/* gdt.c */
extern struct percpu percpu_bsp, percpu_ap;
void gdt_init_bsp(void);
void gdt_load_ap(void);
void tss_set_rsp0(uint64_t rsp0);

/* idt.c */
typedef bool (*trap_hook_fn)(struct trap_frame* f);
extern volatile trap_hook_fn trap_hook;
void idt_init(void);
void idt_load(void);
void idt_set_present(unsigned vector, bool present);
void trap_dispatch(struct trap_frame* f);
void test_exceptions(void);

/* paging.c */
uint64_t alloc_frame(void);
uint64_t* pte_for(uint64_t va, int level, bool create);
void map_page(uint64_t va, uint64_t pa, uint64_t flags, int level);
void invlpg(uint64_t va);
void paging_init(void);
void test_paging(void);
void test_page_faults(void);
extern uint64_t boot_pml4[512];
enum pf_fix { PF_FIX_DEMAND, PF_FIX_WRITE, PF_FIX_EXEC, PF_FIX_USER };
void pf_arm(enum pf_fix fix, uint32_t want_error, uint64_t cr2_lo, uint64_t cr2_hi);
unsigned pf_disarm(uint64_t* cr2, uint64_t* error, uint64_t* rip);
bool pf_hook(struct trap_frame* f);
#define TEST_SUP_VA 0x8080005000ul  /* a supervisor page the user task reads (user.c) */

/* user.c */
void user_init(void);
void test_user(void);

/* apic.c */
uint32_t lapic_read(uint32_t reg);
void lapic_write(uint32_t reg, uint32_t value);
unsigned lapic_id(void);
void lapic_enable(void);
void lapic_eoi(void);
void lapic_send_ipi(unsigned apic_id, uint32_t icr_low);
void lapic_timer_periodic(uint32_t initial, uint32_t divide_code);
void lapic_timer_stop(void);
void apic_on_timer(void);
void test_apic(void);
extern volatile uint64_t timer_ticks[2];

/* smp.c */
void test_smp(unsigned cpus);
void smp_on_ipi(unsigned vector);

/* Small inline helpers. */
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t read_cr0(void) { uint64_t v; __asm__ volatile("mov %%cr0, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr2(void) { uint64_t v; __asm__ volatile("mov %%cr2, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr3(void) { uint64_t v; __asm__ volatile("mov %%cr3, %0" : "=r"(v)); return v; }
static inline uint64_t read_cr4(void) { uint64_t v; __asm__ volatile("mov %%cr4, %0" : "=r"(v)); return v; }
static inline void write_cr3(uint64_t v) { __asm__ volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
static inline uint64_t read_rflags(void) {
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}
static inline void cpu_relax(void) { __asm__ volatile("pause" ::: "memory"); }
/* Waits with interrupts enabled only inside HLT: STI's one-instruction interrupt shadow
   (SDM Vol. 2B "STI") makes "sti; hlt" free of the lost-wakeup race. */
static inline void wait_for_interrupt(void) { __asm__ volatile("sti; hlt; cli" ::: "memory"); }
/* The compiler may emit calls to these even when freestanding; console.c defines them. */
void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
