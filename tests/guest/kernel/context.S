/* Context switches between the kernel and ring 3: a kernel setjmp/longjmp, the IRETQ into a
   user task, and the SYSCALL entry with its SYSRETQ exit (SDM Vol. 2B "SYSCALL", "SYSRET",
   "SWAPGS"; Vol. 3A 5.8.8 "Fast System Calls in 64-Bit Mode").
   Context: ring 0, 64-bit, interrupts off; syscall_entry is reached from CPL 3. */
    .section .text

/* long kctx_save(struct kctx *c): saves the callee-saved registers, RSP and the return
   address; returns 0, and later the value given to kctx_restore. */
    .globl kctx_save
kctx_save:
    mov %rbx, 0(%rdi)
    mov %rbp, 8(%rdi)
    mov %r12, 16(%rdi)
    mov %r13, 24(%rdi)
    mov %r14, 32(%rdi)
    mov %r15, 40(%rdi)
    lea 8(%rsp), %rax
    mov %rax, 48(%rdi)
    mov (%rsp), %rax
    mov %rax, 56(%rdi)
    xor %eax, %eax
    ret

/* void kctx_restore(struct kctx *c, long value) */
    .globl kctx_restore
kctx_restore:
    mov %rsi, %rax
    mov 0(%rdi), %rbx
    mov 8(%rdi), %rbp
    mov 16(%rdi), %r12
    mov 24(%rdi), %r13
    mov 32(%rdi), %r14
    mov 40(%rdi), %r15
    mov 48(%rdi), %rsp
    jmp *56(%rdi)

/* void enter_user(uint64_t rip, uint64_t rsp, uint64_t rflags): IRETQ to CPL 3 with the
   user selectors (6.14.3). GS base becomes the user's (IA32_KERNEL_GS_BASE). */
    .globl enter_user
enter_user:
    swapgs
    pushq $0x23                       /* SS: user data, RPL 3 */
    pushq %rsi                        /* RSP */
    pushq %rdx                        /* RFLAGS */
    pushq $0x2b                       /* CS: 64-bit user code, RPL 3 */
    pushq %rdi                        /* RIP */
    xor %eax, %eax                    /* leak no kernel values into the task */
    xor %ebx, %ebx
    xor %ecx, %ecx
    xor %edx, %edx
    xor %esi, %esi
    xor %edi, %edi
    xor %ebp, %ebp
    xor %r8d, %r8d
    xor %r9d, %r9d
    xor %r10d, %r10d
    xor %r11d, %r11d
    xor %r12d, %r12d
    xor %r13d, %r13d
    xor %r14d, %r14d
    xor %r15d, %r15d
    iretq

/* SYSCALL: RCX = user RIP, R11 = user RFLAGS, CS/SS from STAR[47:32], RFLAGS &= ~SFMASK;
   RSP is still the user's. Number in RAX, arguments in RDI, RSI, RDX; result in RAX.
   Frame for syscall_dispatch: 13 registers + RCX, R11, user RSP = 128 bytes (aligned). */
    .globl syscall_entry
syscall_entry:
    swapgs
    mov %rsp, %gs:0                   /* percpu.user_rsp */
    mov %gs:8, %rsp                   /* percpu.kernel_rsp */
    pushq %gs:0
    pushq %r11
    pushq %rcx
    pushq %rax
    pushq %rdi
    pushq %rsi
    pushq %rdx
    pushq %r10
    pushq %r8
    pushq %r9
    pushq %rbx
    pushq %rbp
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    call syscall_dispatch             /* returns the result in RAX */
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbp
    popq %rbx
    popq %r9
    popq %r8
    popq %r10
    popq %rdx
    popq %rsi
    popq %rdi
    add $8, %rsp                      /* the saved RAX: the result replaces it */
    popq %rcx
    popq %r11
    popq %rsp                         /* user RSP (POP RSP loads the popped value) */
    swapgs
    sysretq

    .section .note.GNU-stack, "", @progbits
