/* pointer_chase: follows a chain of pointers the host wrote into guest memory (a random
   cyclic permutation of 64-byte nodes, bench/speed.cpp), 3 instructions per step.
   bench_main(n = RDI steps, start = RSI first node) returns the node reached.
   Context: 64-bit ring 0, called from start.S; all RAM is identity-mapped with 2 MiB pages. */
    .text
    .globl bench_main
bench_main:
    movq %rsi, %rax
1:  movq (%rax), %rax
    decq %rdi
    jnz 1b
    ret
