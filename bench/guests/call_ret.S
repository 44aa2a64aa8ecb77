/* call_ret: recursive Fibonacci, call/ret and push/pop heavy. fib(k) makes 2 F(k+1) - 1
   calls (F: the Fibonacci numbers); a call with k >= 2 retires 13 instructions, a leaf 4,
   so one fib(k) retires 17 F(k+1) - 13 (6 more per repetition in bench_main's loop).
   bench_main(n = RDI repetitions, k = RSI) returns n * fib(k).
   Context: 64-bit ring 0, called from start.S; stack below 0x80000. */
    .text
    .globl bench_main
bench_main:
    pushq %rbx
    pushq %r12
    pushq %r13
    movq %rdi, %r12
    movq %rsi, %r13
    xorl %ebx, %ebx
1:  movq %r13, %rdi
    call fib
    addq %rax, %rbx
    decq %r12
    jnz 1b
    movq %rbx, %rax
    popq %r13
    popq %r12
    popq %rbx
    ret

/* fib(rdi) -> rax */
fib:
    cmpq $2, %rdi
    jb 2f
    pushq %rbx
    movq %rdi, %rbx
    leaq -1(%rdi), %rdi
    call fib
    pushq %rax
    leaq -2(%rbx), %rdi
    call fib
    popq %rcx
    addq %rcx, %rax
    popq %rbx
    ret
2:  movq %rdi, %rax
    ret
