/* One VMRUN and its #VMEXIT (AMD APM Vol. 2 15.5 "VMRUN Instruction", 15.6 "#VMEXIT"):
   void svm_enter(struct guest_regs *regs, uint64_t vmcb_pa, uint64_t host_save_pa)
   With GIF clear: VMSAVE the host's FS/GS/TR/LDTR/KernelGSbase/STAR.../SYSENTER state (which
   VMRUN does not switch) to host_save_pa, VMLOAD the guest's from its VMCB, load the guest
   GPRs the VMCB does not hold (all but RAX and RSP), VMRUN. The #VMEXIT restores the host's
   RAX, RSP and RIP from the host save area (VM_HSAVE_PA), so here RAX is vmcb_pa again and the
   stack is ours; the other GPRs are the guest's: store them, VMSAVE the guest's extra state,
   VMLOAD the host's, set GIF. Context: ring 0, 64-bit, EFER.SVME set, interrupts off. */
    .section .text
    .globl svm_enter
svm_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    push %rdi                         /* 16(%rsp): regs */
    push %rdx                         /*  8(%rsp): host save area */
    push %rsi                         /*  0(%rsp): guest VMCB */
    clgi                              /* no interrupts between here and the guest (15.17) */
    mov %rdx, %rax
    vmsave %rax
    mov %rsi, %rax
    vmload %rax
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
    vmrun %rax
    push %rdi
    mov 24(%rsp), %rdi                /* regs */
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
    pop %rax                          /* guest VMCB */
    vmsave %rax
    pop %rax                          /* host save area */
    vmload %rax
    stgi
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret

    .section .note.GNU-stack, "", @progbits
