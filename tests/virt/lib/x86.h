/* x86 helpers for the virt test library: CPUID, MSRs, control registers, descriptor tables.
   Context: freestanding C, ring 0, 64-bit long mode, interrupts off. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "msrs.h"      /* generated from sim/tables/msrs.toml: MSR_EFER ... */
#include "vmx_msrs.h"  /* sim/tables/vmx_msrs.toml: MSR_FEATURE_CONTROL, MSR_VMX_BASIC ... */
#include "svm_msrs.h"  /* sim/tables/svm_msrs.toml: MSR_VM_CR, MSR_VM_HSAVE_PA */

/* Control-register and EFER bits (SDM Vol. 3A 2.5, APM Vol. 2 3.1.7). */
#define CR0_PE (1ull << 0)
#define CR0_NE (1ull << 5)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_VMXE (1ull << 13)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define EFER_SVME (1ull << 12)
#define RFLAGS_FIXED (1ull << 1)  /* bit 1 reads as 1 */

/* GDT selectors (desc.c): 64-bit code and data, 32-bit code for the entry, the TSS. */
#define SEL_CODE64 0x08u
#define SEL_DATA 0x10u
#define SEL_CODE32 0x18u
#define SEL_TSS 0x20u

static inline void cpuid2(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}
static inline uint64_t rdmsr(uint32_t msr) {
    uint32_t lo, hi;
    __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}
static inline void wrmsr(uint32_t msr, uint64_t v) {
    __asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}
#define DEFINE_CR(n)                                                                                    \
    static inline uint64_t read_cr##n(void) {                                                       \
        uint64_t v;                                                                                 \
        __asm__ volatile("mov %%cr" #n ", %0" : "=r"(v));                                           \
        return v;                                                                                   \
    }                                                                                               \
    static inline void write_cr##n(uint64_t v) { __asm__ volatile("mov %0, %%cr" #n : : "r"(v) : "memory"); }
DEFINE_CR(0)
DEFINE_CR(3)
DEFINE_CR(8)
DEFINE_CR(4)
#undef DEFINE_CR
static inline uint64_t read_dr7(void) {
    uint64_t v;
    __asm__ volatile("mov %%dr7, %0" : "=r"(v));
    return v;
}
static inline uint64_t read_rflags(void) {
    uint64_t v;
    __asm__ volatile("pushfq; popq %0" : "=r"(v));
    return v;
}

/* SGDT/SIDT operand (SDM Vol. 3A 2.4.1). */
struct descriptor_pointer {
    uint16_t limit;
    uint64_t base;
} __attribute__((packed));

static inline struct descriptor_pointer read_gdtr(void) {
    struct descriptor_pointer p;
    __asm__ volatile("sgdt %0" : "=m"(p));
    return p;
}
static inline struct descriptor_pointer read_idtr(void) {
    struct descriptor_pointer p;
    __asm__ volatile("sidt %0" : "=m"(p));
    return p;
}
#define DEFINE_SEG(reg)                                                                                 \
    static inline uint16_t read_##reg(void) {                                                      \
        uint16_t v;                                                                                 \
        __asm__ volatile("mov %%" #reg ", %0" : "=r"(v));                                           \
        return v;                                                                                   \
    }
DEFINE_SEG(cs)
DEFINE_SEG(ss)
DEFINE_SEG(ds)
DEFINE_SEG(es)
DEFINE_SEG(fs)
DEFINE_SEG(gs)
#undef DEFINE_SEG
static inline uint16_t read_tr(void) {
    uint16_t v;
    __asm__ volatile("str %0" : "=r"(v));
    return v;
}
static inline uint16_t read_ldtr(void) {
    uint16_t v;
    __asm__ volatile("sldt %0" : "=r"(v));
    return v;
}

/* The local APIC in x2APIC mode (SDM Vol. 3A 11.12): IA32_APIC_BASE (1Bh) bit 11 = xAPIC
   global enable, bit 10 = x2APIC enable (EXTD); the registers are MSRs 800h + offset / 16
   (Table 11-6). Plain numbers (no suffix): the AP code of vmx_sipi.c uses them in assembly. */
#define MSR_APIC_BASE_NUM 0x1b
#define APIC_BASE_EN_EXTD 0xc00
#define X2APIC_ID 0x802
#define X2APIC_EOI 0x80b
#define X2APIC_SVR 0x80f
#define X2APIC_ICR 0x830
#define X2APIC_LVT_TIMER 0x832
#define X2APIC_TIMER_INITIAL 0x838
#define X2APIC_TIMER_DIVIDE 0x83e
#define X2APIC_SELF_IPI 0x83f

/* Switches this processor's APIC to x2APIC mode and software-enables it (SVR bit 8, spurious
   vector FFh); false without x2APIC (CPUID.1:ECX[21]). */
static inline bool x2apic_enable(void) {
    uint32_t r[4];
    cpuid2(1, 0, r);
    if (!(r[2] & (1u << 21))) return false;
    wrmsr(MSR_APIC_BASE_NUM, rdmsr(MSR_APIC_BASE_NUM) | APIC_BASE_EN_EXTD);
    wrmsr(X2APIC_SVR, 0x1ff);
    return true;
}

static inline uint64_t rdtsc(void) {
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    return ((uint64_t)hi << 32) | lo;
}

/* A segment as the processor holds it, read from the GDT entry of its selector (SDM Vol. 3A
   3.4.5; system descriptors are 16 bytes in IA-32e mode, 7.2.3). `attributes` are descriptor
   bits 55:40 shifted down (type, S, DPL, P in 7:0; AVL, L, D/B, G in 15:12): VMX access rights
   use them as they are, the VMCB packs 15:12 into 11:8. */
struct segment {
    uint16_t selector;
    uint16_t attributes;
    uint32_t limit;
    uint64_t base;
};
struct segment segment_from_gdt(uint16_t selector);

/* The hypervisor we run under, from CPUID 40000000h (EBX, ECX, EDX: a 12-character vendor
   signature) when CPUID.1:ECX[31] says there is one; "" on hardware or hvsim without one.
   QEMU TCG answers "TCGTCGTCGTCG". Used only to name known emulator deviations. */
static inline void hypervisor_signature(char out[13]) {
    uint32_t r[4];
    out[0] = '\0';
    cpuid2(1, 0, r);
    if (!(r[2] & (1u << 31))) return;
    cpuid2(0x40000000, 0, r);
    const uint32_t words[3] = {r[1], r[2], r[3]};
    for (int i = 0; i < 12; ++i) out[i] = (char)(words[i / 4] >> (8 * (i % 4)));
    out[12] = '\0';
}
