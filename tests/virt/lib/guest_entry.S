/* The guest trampoline: the runner starts a guest at virt_guest_entry_{vmx,svm} with
   guest_main in RDI; when guest_main returns, the guest leaves with VMCALL (VMX) or VMMCALL
   (SVM) at virt_guest_done_*, which the runner recognizes by its RIP as "guest finished".
   Context: the guest, 64-bit ring 0, on its own stack (16-byte aligned at entry). */
    .section .text
    .globl virt_guest_entry_vmx, virt_guest_done_vmx
virt_guest_entry_vmx:
    call *%rdi
virt_guest_done_vmx:
    vmcall
    ud2                               /* the runner never resumes a finished guest */

    .globl virt_guest_entry_svm, virt_guest_done_svm
virt_guest_entry_svm:
    call *%rdi
virt_guest_done_svm:
    vmmcall
    ud2

    .section .note.GNU-stack, "", @progbits
