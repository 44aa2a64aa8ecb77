/* A guest that triple-faults: no IDT (limit 0), so #UD cannot be delivered, which becomes
   #GP, then #DF, then shutdown. The simulator must report a triple fault and stop.
   Context: ring 0, 64-bit, ELF64 entry state. */
    .section .text.start, "ax"
    .globl _start
_start:
    ud2
