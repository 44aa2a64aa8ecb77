/* One VM entry and its exit (SDM Vol. 3C 28 "VM Entries", 29 "VM Exits"):
   int vmx_enter(struct guest_regs *regs, int launched)
   loads the guest GPRs (RSP and RIP come from the VMCS), then VMRESUME if launched else
   VMLAUNCH. It returns 1 on VMfailInvalid, 2 on VMfailValid, and 0 through the exit stub
   (host RIP): the processor loaded RSP from HOST_RSP, which this function set to its frame,
   so the stub finds `regs` on the stack, stores the guest GPRs and returns for it.
   Context: VMX root operation, ring 0, 64-bit, interrupts off. */
#include "vmcs_fields.h"

    .section .text
    .globl vmx_enter, vmx_exit_stub
vmx_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi                         /* regs, at HOST_RSP */
    mov $VMCS_HOST_RSP, %eax
    vmwrite %rsp, %rax                /* a failure here shows again at VMLAUNCH (CF) */
    test %esi, %esi                   /* MOVs below keep the flags for the jnz */
    mov 0(%rdi), %rax
    mov 8(%rdi), %rbx
    mov 16(%rdi), %rcx
    mov 24(%rdi), %rdx
    mov 32(%rdi), %rsi
    mov 48(%rdi), %rbp
    mov 56(%rdi), %r8
    mov 64(%rdi), %r9
    mov 72(%rdi), %r10
    mov 80(%rdi), %r11
    mov 88(%rdi), %r12
    mov 96(%rdi), %r13
    mov 104(%rdi), %r14
    mov 112(%rdi), %r15
    mov 40(%rdi), %rdi
    jnz 1f
    vmlaunch
    jmp 2f
1:  vmresume
2:  /* VMfail: the guest never ran; CF=1 VMfailInvalid, ZF=1 VMfailValid (31.2). */
    mov $1, %eax
    jc 3f
    mov $2, %eax
3:  add $8, %rsp
    jmp 4f

vmx_exit_stub:
    push %rdi
    mov 8(%rsp), %rdi                 /* regs */
    mov %rax, 0(%rdi)
    mov %rbx, 8(%rdi)
    mov %rcx, 16(%rdi)
    mov %rdx, 24(%rdi)
    mov %rsi, 32(%rdi)
    mov %rbp, 48(%rdi)
    mov %r8, 56(%rdi)
    mov %r9, 64(%rdi)
    mov %r10, 72(%rdi)
    mov %r11, 80(%rdi)
    mov %r12, 88(%rdi)
    mov %r13, 96(%rdi)
    mov %r14, 104(%rdi)
    mov %r15, 112(%rdi)
    pop %rax
    mov %rax, 40(%rdi)
    add $8, %rsp
    xor %eax, %eax
4:  pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .note.GNU-stack, "", @progbits
