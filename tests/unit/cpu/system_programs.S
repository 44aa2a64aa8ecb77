/* Multi-instruction guest programs for tests/unit/cpu/test_system.cpp: the real -> protected
   -> long mode boot path and back, fast system calls, far transfers and call gates. Each
   program lies between <name> and <name>_end; the test copies it to its load address, so any
   absolute address inside is written ABS(load, program, label). Labels a test needs (entry
   points, MSR targets) are global too.
   Context: test data, assembled into the test executable, never executed by the host. */
#define PROGRAM(name) .globl name, name##_end; .balign 16; name:
#define END(name) name##_end:
#define LABEL(name) .globl name; name:
#define ABS(load, base, label) ((load) + (label) - (base))

#define BOOT 0x8000     /* real-mode boot program: CS:IP = 0000:8000 */
#define LM 0x100000     /* long-mode and protected-mode programs (CoreFixture::long_mode) */
#define RM 0x7c00       /* real-mode programs (CoreFixture::real_mode) */

    .section .rodata.system_programs, "a"

/* Real mode -> protected mode -> IA-32e mode, the way SDM Vol. 3A 10.9.1 and 10.8.5 describe
   it: LGDT, CR0.PE, a far jump to 32-bit code, CR4.PAE, CR3, EFER.LME, CR0.PG (compatibility
   mode), a far jump to 64-bit code. The test has built identity-mapping tables at 0x1000. */
PROGRAM(boot_to_long)
    .code16
    cli
    xor %ax, %ax
    mov %ax, %ds
    lgdtl ABS(BOOT, boot_to_long, boot_gdt_ptr)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x08, $ABS(BOOT, boot_to_long, boot_pm32)
    .code32
boot_pm32:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    mov $0x90000, %esp
    mov %cr4, %eax
    or $0x20, %eax                  /* PAE */
    mov %eax, %cr4
    mov $0x1000, %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x100, %eax                 /* LME */
    wrmsr
    mov %cr0, %eax
    or $0x80000000, %eax            /* PG: IA-32e mode is active, in compatibility mode */
    mov %eax, %cr0
    mov $0xc0000080, %ecx
    rdmsr
    mov %eax, %esi                  /* EFER with LMA, read in compatibility mode */
    ljmp $0x18, $ABS(BOOT, boot_to_long, boot_lm64)
    .code64
boot_lm64:
    movabs $0x123456789abcdef0, %rax
    out %al, $0xf4
    .balign 8
boot_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff        /* 0x08: 32-bit code */
    .quad 0x00cf93000000ffff        /* 0x10: data */
    .quad 0x00af9b000000ffff        /* 0x18: 64-bit code */
boot_gdt_ptr:
    .word 4 * 8 - 1
    .long ABS(BOOT, boot_to_long, boot_gdt)
END(boot_to_long)

/* 64-bit mode -> compatibility mode (far JMP m16:32 to the 32-bit code segment 0x30) ->
   paging off, which deactivates IA-32e mode (SDM Vol. 3A 10.8.5.4) -> EFER.LME off. */
PROGRAM(leave_long_mode)
    .code64
    lea leave_ptr(%rip), %rbx
    ljmp *(%rbx)
    .code32
leave_compat:
    mov %cr0, %eax
    and $0x7fffffff, %eax
    mov %eax, %cr0
    mov $0xc0000080, %ecx
    rdmsr
    and $~0x100, %eax
    wrmsr
    mov $0x5a, %al
    out %al, $0xf4
    .balign 8
leave_ptr:
    .long ABS(LM, leave_long_mode, leave_compat)
    .word 0x30
END(leave_long_mode)

/* 64-bit -> compatibility mode -> 64-bit with far JMPs (m16:32, then ptr16:32). */
PROGRAM(far_compat)
    .code64
    lea fc_ptr(%rip), %rbx
    ljmp *(%rbx)
    .code32
fc_compat:
    mov $0x32, %eax
    ljmp $0x08, $ABS(LM, far_compat, fc_back)
    .code64
fc_back:
    out %al, $0xf4
    .balign 8
fc_ptr:
    .long ABS(LM, far_compat, fc_compat)
    .word 0x30
END(far_compat)

/* SYSRET to user mode, SYSCALL back, SYSRET again. The kernel entry (LSTAR) records what
   SYSCALL left: RCX, R11, CS, SS and its RFLAGS (R12-R15, RBX). */
PROGRAM(syscall_round_trip)
    .code64
    lea sc_user(%rip), %rcx
    mov $0x43002, %r11d             /* user RFLAGS: AC, IOPL 3 (the user code may OUT) */
    sysretq
sc_user:
    mov $0x41, %eax
    syscall
LABEL(syscall_return_point)
    out %al, $0xf4
LABEL(syscall_kernel_entry)
    mov %rcx, %r12
    mov %r11, %r13
    mov %cs, %r14
    mov %ss, %r15
    pushfq
    pop %rbx
    inc %eax
    sysretq
END(syscall_round_trip)

/* SYSEXIT to 64-bit user mode, SYSENTER back (SYSENTER_EIP = sysenter_kernel_entry). */
PROGRAM(sysenter_round_trip)
    .code64
    lea se_user(%rip), %rdx
    mov $0x70000, %ecx
    sysexitq
se_user:
    mov %cs, %r13
    sysenter
LABEL(sysenter_kernel_entry)
    mov %rsp, %r12
    mov %cs, %r14
    mov %ss, %r15
    out %al, $0xf4
END(sysenter_round_trip)

/* CPL 3 -> CPL 0 through a 64-bit call gate (selector 0x4b), and RETF back to CPL 3. The
   kernel copies the frame the gate pushed (RIP, CS, RSP, SS) to R12-R15 and loads DS with a
   DPL-0 segment, which the return to CPL 3 must make null. */
PROGRAM(call_gate64)
    .code64
LABEL(call_gate64_user)
    lcall *cg_ptr(%rip)
LABEL(call_gate64_return_point)
    out %al, $0xf4
LABEL(call_gate64_kernel)
    mov %rsp, %rbp
    mov (%rsp), %r12
    mov 8(%rsp), %r13
    mov 16(%rsp), %r14
    mov 24(%rsp), %r15
    mov $0x10, %eax
    mov %eax, %ds
    lretq
    .balign 8
cg_ptr:
    .long 0
    .word 0x4b
END(call_gate64)

/* 32-bit protected mode: CPL 3 pushes two parameters and calls through a 32-bit call gate
   (0x4b, parameter count 2) to CPL 0, which reads its new stack and returns with RETF 8. */
PROGRAM(call_gate32)
    .code32
LABEL(call_gate32_user)
    push $0x11
    push $0x22
    lcall $0x4b, $0
LABEL(call_gate32_return_point)
    out %al, $0xf4
LABEL(call_gate32_kernel)
    mov %esp, %ebp
    mov (%esp), %eax
    mov 4(%esp), %ebx
    mov 8(%esp), %ecx
    mov 12(%esp), %edx
    mov 16(%esp), %esi
    mov 20(%esp), %edi
    lret $8
END(call_gate32)

/* Real mode: far CALL to 07C0:offset (CS base 0x7C00), far RET, far JMP to 0000:done. */
PROGRAM(real_far)
    .code16
    lcall $0x07c0, $(rf_callee - real_far)
    ljmp $0, $ABS(RM, real_far, rf_done)
rf_callee:
    mov %cs, %bx
    mov $0x1234, %cx
    lret
rf_done:
    out %al, $0xf4
END(real_far)

    .section .note.GNU-stack, "", @progbits
