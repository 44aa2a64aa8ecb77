/* VMX helpers for test hypervisors: detection and VMXON, VMCS instructions with their VMfail
   status, controls adjusted to the capability MSRs, the default VMCS of a test, and one guest
   entry. Context: ring 0, 64-bit, one CPU, interrupts off; VMX root operation after vmx_enable(). */
#pragma once
#include "virt.h"
#include "vmcs_fields.h"       /* VMCS_* encodings (sim/tables/vmcs_fields.toml) */
#include "vmx_controls.h"      /* VMX_PROC_HLT_EXITING ... (sim/tables/vmx_controls.toml) */
#include "vmx_exit_reasons.h"  /* EXIT_REASON_* (sim/tables/vmx_exit_reasons.toml) */

#include "vmx_controls.h"    /* VMX_PROC_*, VMX_EXIT_*, VMX_ENTRY_* (sim/tables/vmx_controls.toml) */

/* Outcome of a VMX instruction (SDM Vol. 3C 31.2 "Conventions"): VMsucceed clears CF and ZF,
   VMfailInvalid sets CF (no current VMCS), VMfailValid sets ZF (error in VM_INSTRUCTION_ERROR). */
enum vmx_status { VMX_SUCCEED = 0, VMX_FAIL_INVALID = 1, VMX_FAIL_VALID = 2 };
const char *vmx_status_name(enum vmx_status s);

/* NULL if this processor can enter VMX operation, else why not. */
const char *vmx_unsupported_reason(void);
/* CPUID, IA32_FEATURE_CONTROL, CR0/CR4 fixed bits, CR4.VMXE and VMXON (once); aborts on failure. */
void vmx_enable(void);

enum vmx_status vmxon(uint64_t region_pa);
enum vmx_status vmclear(uint64_t vmcs_pa);
enum vmx_status vmptrld(uint64_t vmcs_pa);
enum vmx_status vmread(uint64_t field, uint64_t *value);
enum vmx_status vmwrite(uint64_t field, uint64_t value);
/* vmread/vmwrite that abort the run on VMfail (with the field and error number). */
uint64_t vmcs_read(uint64_t field);
void vmcs_write(uint64_t field, uint64_t value);

/* Control fields (pin, primary/secondary processor, exit, entry) set within what the
   capability MSRs allow (SDM Vol. 3C A.3-A.5: bits 31:0 of the MSR are the allowed 0-settings,
   a 1 there forces the control to 1; bits 63:32 the allowed 1-settings). Returns false (and
   leaves the field unchanged) when a wanted 1 is not allowed or a wanted 0 is forced to 1. */
bool vmx_controls_set(uint64_t field, uint32_t set, uint32_t clear);
/* The capability MSR that governs a control field (TRUE_* when IA32_VMX_BASIC[55] says so). */
uint32_t vmx_capability_msr(uint64_t field);

/* A fresh VMCS for v (VMCLEAR, VMPTRLD) with host state from this processor (host RIP at the
   exit stub) and guest state for a 64-bit guest on the host's page tables, GDT and IDT that
   starts at the guest trampoline on its own stack; controls at their allowed minimum plus
   "host address-space size" and "IA-32e mode guest". */
void vmx_vcpu_setup(struct vcpu *v);
/* VMLAUNCH or VMRESUME, and the exit (or VMfail) into v->exit. */
void vmx_vcpu_enter(struct vcpu *v);
/* VMCLEAR the vCPU's VMCS (the runner calls it after the test). */
void vmx_vcpu_release(struct vcpu *v);

/* ---- vmx_ept.c: EPT (SDM Vol. 3C 29.3) ---- */
/* An identity map of the first 4 GiB (1 GiB pages, WB, read/write/execute); returns the EPTP
   (4-level walk, WB). */
uint64_t ept_identity_map(void);
/* The 4 KiB EPT entry that maps gpa, splitting the large pages on the way. */
uint64_t *ept_entry_4k(uint64_t eptp, uint64_t gpa);
/* "Activate secondary controls" plus "enable EPT" with this EPTP; false if not allowed. */
bool vmx_use_ept(uint64_t eptp);
/* "Activate secondary controls" plus the given secondary controls; false if not allowed. */
bool vmx_secondary_set(uint32_t set);
