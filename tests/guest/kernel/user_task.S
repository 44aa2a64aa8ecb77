/* The user tasks: code and data the kernel maps with U/S=1 and enters with IRETQ at CPL 3.
   System calls: RAX = number (0 exit, 1 write, 2 add, 3 report key=RDI value=RSI), arguments
   in RDI, RSI; result in RAX; SYSCALL clobbers RCX and R11 only.
   Context: ring 3, 64-bit, GS base = user_gs_area. */
#define SYS_EXIT 0
#define SYS_WRITE 1
#define SYS_ADD 2
#define SYS_REPORT 3
#define TEST_SUP_VA 0x8080005000

    .section .user.text, "ax"
    .globl user_task_main
user_task_main:
    mov $1, %edi                      /* report 1: the user GS base is in effect */
    mov %gs:0, %rsi
    mov $SYS_REPORT, %eax
    syscall
    mov $2, %edi                      /* report 2: CS (RPL = CPL 3) */
    mov %cs, %esi
    mov $SYS_REPORT, %eax
    syscall
    lea hello(%rip), %rdi
    mov $hello_len, %esi
    mov $SYS_WRITE, %eax
    syscall
    xor %esi, %esi                    /* report 3: sum of squares 1..20 = 2870 */
    mov $1, %ecx
1:  mov %ecx, %eax
    imul %eax, %eax
    add %eax, %esi
    inc %ecx
    cmp $20, %ecx
    jbe 1b
    push %rsi                         /* through the user stack */
    pop %rsi
    mov $3, %edi
    mov $SYS_REPORT, %eax
    syscall
    mov $0x1234, %ebx                 /* report 4: 40 + 2 by the kernel; RBX, R12 survive */
    mov $0x5678, %r12d
    mov $40, %edi
    mov $2, %esi
    mov $SYS_ADD, %eax
    syscall
    cmp $0x1234, %rbx
    jne bad
    cmp $0x5678, %r12
    jne bad
    mov %rax, %rsi
    mov $4, %edi
    mov $SYS_REPORT, %eax
    syscall
    movabs $TEST_SUP_VA, %rax         /* report 5: a supervisor page: #PF, then retried */
    mov (%rax), %rsi
    mov $5, %edi
    mov $SYS_REPORT, %eax
    syscall
    mov $7, %edi
    mov $SYS_EXIT, %eax
    syscall
    ud2
bad:
    mov $99, %edi
    mov $SYS_EXIT, %eax
    syscall

    /* Privileged at CPL 3: #GP(0) (SDM Vol. 2A "HLT", Vol. 2A "CLI" with IOPL 0). */
    .globl user_task_hlt, user_task_hlt_at
user_task_hlt:
    nop
user_task_hlt_at:
    hlt
    mov $98, %edi
    mov $SYS_EXIT, %eax
    syscall
    .globl user_task_cli, user_task_cli_at
user_task_cli:
    nop
user_task_cli_at:
    cli
    mov $97, %edi
    mov $SYS_EXIT, %eax
    syscall

hello:
    .ascii "user: hello from ring 3\n"
    .set hello_len, . - hello

    .section .user.data, "aw"
    .balign 16
    .globl user_gs_area
user_gs_area:
    .quad 0x7573657267730000          /* "usergs" */
    .balign 16
    .skip 8192
    .globl user_stack_top
user_stack_top:

    .section .note.GNU-stack, "", @progbits
