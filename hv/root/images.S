/* The child kernel's image (hv/child, a flat binary linked at child GPA HV_IMAGE_OFFSET),
   carried in the root OS, which loads it into the child's memory. Context: data only. */
    .section .rodata
    .balign 16
    .globl hv_child_image, hv_child_image_end
hv_child_image:
    .incbin HV_CHILD_IMAGE_PATH
hv_child_image_end:
    .section .note.GNU-stack, "", @progbits
