/* Exception entry: 32 stubs of 16 bytes (isr_stubs + 16 * vector) that give every vector the
   same frame (a zero error code where the processor pushes none: SDM Vol. 3A Table 6-1), then
   one path that saves the general registers and calls exception_dispatch(frame).
   Context: ring 0, 64-bit, entered through interrupt gates (interrupts off). */
    .section .text
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 32
    .balign 16
    /* #DF 8, #TS 10, #NP 11, #SS 12, #GP 13, #PF 14, #AC 17, #CP 21, #VC 29, #SX 30 push one */
    .if (vec == 8) || ((vec >= 10) && (vec <= 14)) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr
    .balign 16
    .globl isr_stubs_end
isr_stubs_end:

isr_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    mov %rsp, %rdi
    cld
    call exception_dispatch
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    add $16, %rsp                     /* vector and error code */
    iretq

    .section .note.GNU-stack, "", @progbits
