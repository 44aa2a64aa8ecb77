/* The child kernels' images (hv/child: the demo child and the hostile child, flat binaries
   linked at child GPA HV_IMAGE_OFFSET), carried in the root OS, which loads each into its
   child's memory. Context: data only. */
    .section .rodata
    .balign 16
    .globl hv_child_image, hv_child_image_end
hv_child_image:
    .incbin HV_CHILD_IMAGE_PATH
hv_child_image_end:
    .balign 16
    .globl hv_hostile_image, hv_hostile_image_end
hv_hostile_image:
    .incbin HV_HOSTILE_IMAGE_PATH
hv_hostile_image_end:
    .balign 16
    .globl hv_spin_image, hv_spin_image_end
hv_spin_image:
    .incbin HV_SPIN_IMAGE_PATH
hv_spin_image_end:
    .section .note.GNU-stack, "", @progbits
