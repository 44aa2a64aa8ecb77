/* Enter and leave one native differential case. Context: host user mode, called from C++
   (NativeRunner) with the case already written to the frame page (native_frame.h).

   Every GPR, RSP included, belongs to the case, so the trampoline addresses the frame only
   through absolute 32-bit displacements and reaches the snippet through a memory-indirect
   jump. The exit stubs in the code region save RAX, load their offset into RAX and jump to
   diff_native_exit; a faulting case reaches diff_native_resume from the signal handler. */
#include "native_frame.h"

#define F(slot) (HVSIM_DIFF_FRAME + (slot))

        .intel_syntax noprefix
        .text

        .globl diff_native_enter
        .type diff_native_enter, @function
diff_native_enter:
        push rbx
        push rbp
        push r12
        push r13
        push r14
        push r15
        mov qword ptr [F(HVSIM_DIFF_F_HOST_RSP)], rsp
        stmxcsr dword ptr [F(HVSIM_DIFF_F_HOST_MXCSR)]
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqa xmm\n, xmmword ptr [F(HVSIM_DIFF_F_XMM + 16 * \n)]
        .endr
        ldmxcsr dword ptr [F(HVSIM_DIFF_F_MXCSR)]
        /* RFLAGS through the frame's own stack: POPFQ needs one. */
        mov rsp, F(HVSIM_DIFF_F_STACK_TOP)
        push qword ptr [F(HVSIM_DIFF_F_RFLAGS)]
        popfq
        mov rax, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 0)]
        mov rcx, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 1)]
        mov rdx, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 2)]
        mov rbx, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 3)]
        mov rbp, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 5)]
        mov rsi, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 6)]
        mov rdi, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 7)]
        mov r8, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 8)]
        mov r9, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 9)]
        mov r10, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 10)]
        mov r11, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 11)]
        mov r12, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 12)]
        mov r13, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 13)]
        mov r14, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 14)]
        mov r15, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 15)]
        mov rsp, qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 4)]
        /* AT&T for this one: clang's Intel-syntax parser reads "jmp [abs]" as a direct jump. */
        .att_syntax prefix
        jmp *F(HVSIM_DIFF_F_ENTRY)
        .intel_syntax noprefix
        .size diff_native_enter, . - diff_native_enter

        /* Reached from an exit stub: the case's RAX is saved, RAX holds the stub's offset. */
        .globl diff_native_exit
        .type diff_native_exit, @function
diff_native_exit:
        mov qword ptr [F(HVSIM_DIFF_F_RIP_OFFSET)], rax
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 1)], rcx
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 2)], rdx
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 3)], rbx
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 4)], rsp
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 5)], rbp
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 6)], rsi
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 7)], rdi
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 8)], r8
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 9)], r9
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 10)], r10
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 11)], r11
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 12)], r12
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 13)], r13
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 14)], r14
        mov qword ptr [F(HVSIM_DIFF_F_GPR + 8 * 15)], r15
        mov rsp, F(HVSIM_DIFF_F_STACK_TOP)
        pushfq
        pop qword ptr [F(HVSIM_DIFF_F_RFLAGS)]
        .irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
        movdqa xmmword ptr [F(HVSIM_DIFF_F_XMM + 16 * \n)], xmm\n
        .endr
        stmxcsr dword ptr [F(HVSIM_DIFF_F_MXCSR)]
        mov qword ptr [F(HVSIM_DIFF_F_FAULT)], -1
        /* Fall through: the way back to C++ is shared with faulted cases. */
        .size diff_native_exit, . - diff_native_exit

        /* Reached with any RSP and RFLAGS; the signal handler has saved the case already. */
        .globl diff_native_resume
        .type diff_native_resume, @function
diff_native_resume:
        cld
        ldmxcsr dword ptr [F(HVSIM_DIFF_F_HOST_MXCSR)]
        mov rsp, qword ptr [F(HVSIM_DIFF_F_HOST_RSP)]
        pop r15
        pop r14
        pop r13
        pop r12
        pop rbp
        pop rbx
        ret
        .size diff_native_resume, . - diff_native_resume

        .section .note.GNU-stack, "", @progbits
