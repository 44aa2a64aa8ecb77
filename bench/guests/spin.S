/* spin: endless code for decode-cache micro-benchmarks; the host stops it by instruction
   count. bench_main(kind = RDI):
     0  one cached block of 63 ADDs and a backward JMP (dispatch inside a block)
     1  64 blocks of one JMP each, chained in a ring (block-to-block lookup on every
        instruction)
   Context: 64-bit ring 0, called from start.S; never returns. */
    .text
    .globl bench_main
bench_main:
    testq %rdi, %rdi
    jnz 2f
1:  .rept 63
    addq $1, %rax
    .endr
    jmp 1b
2:  .rept 63
    jmp 3f
3:
    .endr
    jmp 2b
