/* The root partition's image (hv/root, a flat binary linked at HV_ROOT_BASE + HV_IMAGE_OFFSET)
   carried in the hypervisor's image; main.c copies it into the root's memory.
   Context: data only. */
    .section .rodata
    .balign 4096
    .globl hv_root_image, hv_root_image_end
hv_root_image:
    .incbin HV_ROOT_IMAGE_PATH
hv_root_image_end:
    .section .note.GNU-stack, "", @progbits
