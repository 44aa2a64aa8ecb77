/* Exception delivery in 64-bit mode: an IDT with handlers for #DE, #BP, #UD, #GP, #PF and
   vector 0x40; each handler records (vector, error code, CR2, return RIP) and returns past
   the faulting instruction. Expected results are checked here; 0 on the debug-exit port
   means all passed, otherwise the number of the failed check.
   Context: ring 0, 64-bit, ELF64 entry state (identity map, RSP = 0x80000). */
    .section .text.start, "ax"
    .globl _start
    .code64
_start:
    lea idt(%rip), %rdi
    /* Fill IDT entries 0..0x40 with the common stub address for vectors we test. */
    mov $0, %ecx
1:  lea stubs(%rip), %rax
    mov %ecx, %edx
    shl $4, %edx          /* each stub is 16 bytes */
    add %rdx, %rax
    mov %ecx, %edx
    shl $4, %edx
    lea (%rdi,%rdx), %rsi
    mov %ax, (%rsi)           /* offset 15:0 */
    movw $0x08, 2(%rsi)       /* selector */
    movw $0x8e00, 4(%rsi)     /* present, DPL 0, 64-bit interrupt gate */
    shr $16, %rax
    mov %ax, 6(%rsi)          /* offset 31:16 */
    shr $16, %rax
    mov %eax, 8(%rsi)         /* offset 63:32 */
    movl $0, 12(%rsi)
    inc %ecx
    cmp $0x41, %ecx
    jne 1b
    lidt idtr(%rip)

    /* 1: #DE from div by zero, no error code */
    xor %edx, %edx
    mov $1, %eax
    xor %ecx, %ecx
    lea 2f(%rip), %r15
    div %ecx
2:  mov $1, %ebx
    cmpq $0, last_vector(%rip)
    jne fail
    /* 2: #UD from ud2 */
    lea 3f(%rip), %r15
    ud2
3:  mov $2, %ebx
    cmpq $6, last_vector(%rip)
    jne fail
    mov $10, %ebx                 /* a fault pushes RFLAGS with RF set (SDM Vol. 3A 18.3.1.1) */
    btq $16, last_rflags(%rip)
    jnc fail
    /* 3: #BP from int3: a trap, the return RIP is after the instruction */
    lea 4f(%rip), %r15
    int3
4:  mov $3, %ebx
    cmpq $3, last_vector(%rip)
    jne fail
    /* 4: #PF on a non-canonical... no: a not-present page at 64 GiB (beyond the identity map) */
    lea 5f(%rip), %r15
    movabs $0x1000000000, %rax
    mov (%rax), %rdx
5:  mov $4, %ebx
    cmpq $14, last_vector(%rip)
    jne fail
    mov $5, %ebx
    cmpq $0, last_error(%rip)     /* read, supervisor, not present */
    jne fail
    mov $6, %ebx
    movabs $0x1000000000, %rax
    cmp %rax, last_cr2(%rip)
    jne fail
    /* 7: #GP(0) from a non-canonical address */
    lea 6f(%rip), %r15
    movabs $0x0000800000000000, %rax
    mov (%rax), %rdx
6:  mov $7, %ebx
    cmpq $13, last_vector(%rip)
    jne fail
    mov $8, %ebx
    cmpq $0, last_error(%rip)
    jne fail
    /* 9: INT 0x40: software interrupt, returns after the instruction */
    lea 7f(%rip), %r15
    int $0x40
7:  mov $9, %ebx
    cmpq $0x40, last_vector(%rip)
    jne fail
    /* all passed */
    xor %eax, %eax
    out %eax, $0xf4
fail:
    mov %ebx, %eax
    out %eax, $0xf4
    hlt

/* Stubs: vectors with an error code (8, 10-14, 17) have one pushed by the processor. */
    .balign 16
stubs:
    .set v, 0
    .rept 0x41
    .balign 16
    .if (v == 8) || (v >= 10 && v <= 14) || (v == 17)
    pushq $v
    jmp handler_err
    .else
    pushq $0          /* fake error code */
    pushq $v
    jmp handler_err
    .endif
    .set v, v + 1
    .endr

/* Stack: vector, error code, RIP, CS, RFLAGS, RSP, SS. Record, then resume at R15. */
handler_err:
    pop %rax
    mov %rax, last_vector(%rip)
    pop %rax
    mov %rax, last_error(%rip)
    mov %cr2, %rax
    mov %rax, last_cr2(%rip)
    mov 16(%rsp), %rax
    mov %rax, last_rflags(%rip)
    mov %r15, (%rsp)
    iretq

    .section .data
    .balign 16
idtr:
    .word 0x41 * 16 - 1
    .quad idt
    .balign 8
last_vector: .quad 0xff
last_error:  .quad 0xff
last_cr2:    .quad 0
last_rflags: .quad 0
    .section .bss
    .balign 16
idt: .space 0x41 * 16
