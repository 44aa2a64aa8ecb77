/* alu_loop: a load/add/store loop with an integer ALU mix, 13 instructions per iteration.
   bench_main(n = RDI iterations, where = RSI) returns a checksum that bench/speed.cpp
   recomputes on the host (alu_loop_reference). The loop's memory word is on a page of its own
   (RSI = 0), or next to the code, in the 4 KiB page the loop's instructions come from
   (RSI = 1: every store then meets the simulator's self-modifying-code check).
   Context: 64-bit ring 0, called from start.S. */
    .text
    .globl bench_main
bench_main:
    testq %rsi, %rsi
    leaq counter(%rip), %rsi
    leaq near_code(%rip), %rax
    cmovnzq %rax, %rsi
    movq $0, (%rsi)
    movabsq $0x9e3779b97f4a7c15, %rcx
    xorl %edx, %edx
    xorl %r9d, %r9d
    xorl %r10d, %r10d
1:  movq (%rsi), %rax           /* load */
    addq %rdi, %rax             /* add */
    movq %rax, (%rsi)           /* store */
    xorq %rax, %rdx
    leaq 7(%rdx,%rdi,2), %r8
    andl $0xffff, %r8d
    shlq $3, %r8
    subq %r8, %rcx
    orq %rcx, %r9
    cmpq %r9, %rdx              /* CF = rdx < r9 (unsigned) */
    adcq $0, %r10
    decq %rdi
    jnz 1b
    movq (%rsi), %rax
    addq %rdx, %rax
    addq %rcx, %rax
    addq %r9, %rax
    addq %r10, %rax
    ret

    .balign 64
near_code: .quad 0

    .bss
    .balign 4096
counter: .quad 0
    .balign 4096
