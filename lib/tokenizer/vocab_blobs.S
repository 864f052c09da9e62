/* Embeds the rank tables built from lib/data/ (see scripts/mkvocab.c) into libhr,
 * so installed programs need no data files at run time. */
    .section .rodata
    .balign 64
    .globl hr__vocab_blob_cl100k_base
    .hidden hr__vocab_blob_cl100k_base
hr__vocab_blob_cl100k_base:
    .incbin "cl100k_base.bin"
    .balign 64
    .globl hr__vocab_blob_o200k_base
    .hidden hr__vocab_blob_o200k_base
hr__vocab_blob_o200k_base:
    .incbin "o200k_base.bin"
    .section .note.GNU-stack,"",@progbits
