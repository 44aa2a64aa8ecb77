/* SVM helpers for test hypervisors: detection, EFER.SVME and the host save area, VMCB field
   access by the generated offsets, intercepts by the generated bit numbers, the default VMCB
   of a test and one VMRUN. Context: ring 0, 64-bit, one CPU, interrupts off (GIF cleared
   around VMRUN). */
#pragma once
#include "svm_exit_codes.h"   /* SVM_EXIT_* (sim/tables/svm_exit_codes.toml) */
#include "svm_intercepts.h"   /* SVM_INTERCEPT_* (sim/tables/svm_intercepts.toml) */
#include "svm_msrs.h"         /* MSR_VM_CR, MSR_VM_HSAVE_PA (sim/tables/svm_msrs.toml) */
#include "vmcb.h"             /* VMCB_* offsets (sim/tables/vmcb.toml) */
#include "virt.h"

/* NULL if this processor can run SVM guests, else why not. */
const char *svm_unsupported_reason(void);
/* EFER.SVME and VM_HSAVE_PA (once); aborts when SVM is unavailable. */
void svm_enable(void);
/* CPUID 8000000Ah:EDX[3]: #VMEXIT stores the next RIP in the VMCB (APM Vol. 2 15.7.1). */
bool svm_has_nrip_save(void);

/* VMCB fields by their VMCB_* offset; the size is VMCB_<NAME>_SIZE. */
static inline uint64_t *vmcb_u64(void *vmcb, unsigned offset) { return (uint64_t *)((char *)vmcb + offset); }
static inline uint32_t *vmcb_u32(void *vmcb, unsigned offset) { return (uint32_t *)((char *)vmcb + offset); }
static inline uint16_t *vmcb_u16(void *vmcb, unsigned offset) { return (uint16_t *)((char *)vmcb + offset); }
static inline uint8_t *vmcb_u8(void *vmcb, unsigned offset) { return (uint8_t *)vmcb + offset; }

/* Intercepts by SVM_INTERCEPT_* number: bit (n % 8) of byte (n / 8) of the VMCB, the same bit
   as bit SVM_INTERCEPT_x_BIT of the 32-bit vector at SVM_INTERCEPT_x_OFFSET (little-endian). */
static inline void svm_intercept_set(void *vmcb, unsigned n) { *vmcb_u8(vmcb, n / 8) |= (uint8_t)(1u << (n % 8)); }
static inline void svm_intercept_clear(void *vmcb, unsigned n) { *vmcb_u8(vmcb, n / 8) &= (uint8_t)~(1u << (n % 8)); }

/* A fresh VMCB for v: guest state copied from this processor (VMSAVE for FS, GS, TR, LDTR and
   the SYSCALL/SYSENTER MSRs, the rest field by field), a 64-bit guest on the host's page
   tables, GDT and IDT that starts at the guest trampoline on its own stack; ASID 1; VMRUN and
   VMMCALL intercepted (VMRUN must be: APM 15.5.1); zeroed I/O and MSR permission maps. */
void svm_vcpu_setup(struct vcpu *v);
/* VMRUN (with VMLOAD/VMSAVE of the guest's and the host's extra state), the exit into v->exit. */
void svm_vcpu_enter(struct vcpu *v);
