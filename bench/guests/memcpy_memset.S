/* memcpy_memset: per iteration, REP STOSB fills a 4 KiB buffer, REP MOVSB copies it, a qword
   loop copies it again (512 x 5 instructions) and a byte loop copies its first 256 bytes
   (256 x 6 instructions): 12,544 bytes written per iteration.
   bench_main(n = RDI iterations) returns the first qword of the byte-loop copy, which is the
   last iteration's fill byte ((n - 1) & 0xff) times 0x0101010101010101.
   Context: 64-bit ring 0, called from start.S; the buffers sit in .bss, one page each. */
    .text
    .globl bench_main
bench_main:
    pushq %rbx
    movq %rdi, %r8              /* iterations left */
    xorl %ebx, %ebx             /* fill byte */
    cld
1:  leaq buf_a(%rip), %rdi      /* memset(buf_a, fill, 4096) */
    movl %ebx, %eax
    movl $4096, %ecx
    rep stosb
    leaq buf_a(%rip), %rsi      /* memcpy(buf_b, buf_a, 4096) */
    leaq buf_b(%rip), %rdi
    movl $4096, %ecx
    rep movsb
    xorl %eax, %eax             /* qword loop: buf_c[i] = buf_b[i], i < 512 */
    leaq buf_b(%rip), %rsi
    leaq buf_c(%rip), %rdi
2:  movq (%rsi,%rax,8), %rdx
    movq %rdx, (%rdi,%rax,8)
    incq %rax
    cmpq $512, %rax
    jne 2b
    leaq buf_c(%rip), %rsi      /* byte loop: buf_d[i] = buf_c[i], i < 256 */
    leaq buf_d(%rip), %rdi
    movl $256, %ecx
3:  movzbl (%rsi), %edx
    movb %dl, (%rdi)
    incq %rsi
    incq %rdi
    decl %ecx
    jnz 3b
    incl %ebx
    decq %r8
    jnz 1b
    movq buf_d(%rip), %rax
    popq %rbx
    ret

    .bss
    .balign 4096
buf_a: .skip 4096
buf_b: .skip 4096
buf_c: .skip 4096
buf_d: .skip 4096
