//! Assembly for the 32-bit image: Xen ELF notes, hypercall page, PVH and PV
//! entries, exception stubs and probe helpers.  All functions use the cdecl
//! ABI.

core::arch::global_asm!(
    r#"
.macro XEN_NOTE type:req, payload:vararg
    .pushsection .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 2f - 1f
    .long \type
    .asciz "Xen"
1:  \payload
2:  .balign 4
    .popsection
.endm

    /* PVH: XEN_ELFNOTE_PHYS32_ENTRY. */
    XEN_NOTE 18, .long pvh_start32
    /* PV (pv32pae): entry, hypercall page, VIRT_BASE = PADDR_OFFSET = 0,
     * loader/version strings, and PAE_MODE: 64-bit Xen only runs PAE
     * 32-bit PV guests. */
    XEN_NOTE 1, .long pv_start32
    XEN_NOTE 2, .long hypercall_page
    XEN_NOTE 3, .long 0
    XEN_NOTE 4, .long 0
    XEN_NOTE 5, .asciz "xen-3.0"
    XEN_NOTE 6, .asciz "xen-shadow-rs-guest"
    XEN_NOTE 8, .asciz "generic"
    XEN_NOTE 9, .asciz "yes"

    .pushsection .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
    .popsection

    .pushsection .data.boot, "aw", @progbits
    .balign 16
boot_gdt:
    .quad 0                     /* 0x00: null */
    .quad 0x00cf9a000000ffff    /* 0x08: flat 32-bit code, DPL0 */
    .quad 0x00cf92000000ffff    /* 0x10: flat data, DPL0 */
boot_gdt_end:
    .balign 8
    .word 0
boot_gdt_ptr:
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .popsection

    .pushsection .bss.boot, "aw", @nobits
    .balign 4096
boot_stack:
    .skip 65536
boot_stack_top:
    .popsection

/* ------------------------------------------------------------------------
 * PVH entry: 32-bit flat protected mode, paging off, interrupts off,
 * %ebx = physical address of struct hvm_start_info.  Rust runs with paging
 * off until paging::setup() turns it on.
 * ---------------------------------------------------------------------- */
    .pushsection .text.entry, "ax", @progbits
    .globl pvh_start32
pvh_start32:
    cli
    cld
    movl $boot_stack_top, %esp
    lgdt boot_gdt_ptr
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    subl $12, %esp              /* keep 16-byte alignment at the call */
    pushl %ebx
    call rust_pvh32_entry
    ud2

/* ------------------------------------------------------------------------
 * PV entry (pv32pae): ring 1, Xen's flat segments and PAE page tables,
 * %esi = virtual address of start_info.  Exceptions arrive through the
 * trap table with a native-looking same-ring frame, and a plain IRET
 * returns from ring 1 to ring 1, so the stubs below serve PV as well.
 * ---------------------------------------------------------------------- */
    .globl pv_start32
pv_start32:
    cld
    movl $boot_stack_top, %esp
    subl $12, %esp
    pushl %esi
    call rust_pv32_entry
    ud2
    .popsection

/* ------------------------------------------------------------------------
 * Second vCPU entries (see smp.rs); %esp = top of the AP stack.
 * PVH (VCPU_HVM_MODE_32B): flat segments with null selectors and no GDT;
 * load ours and reload the selectors (an IRET would pop the null CS).
 * ---------------------------------------------------------------------- */
    .globl ap_start_hvm32
ap_start_hvm32:
    lgdt boot_gdt_ptr
    ljmp $0x08, $1f
1:  movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    call rust_ap_entry
    ud2

    /* PV: Xen loaded the flat ring-1 selectors and our trap table. */
    .globl ap_start_pv32
ap_start_pv32:
    call rust_ap_entry
    ud2

/* ------------------------------------------------------------------------
 * xen_hypercall(nr, a1..a5): Xen takes ebx, ecx, edx, esi, edi.
 * ---------------------------------------------------------------------- */
    .text
    .globl xen_hypercall
xen_hypercall:
    pushl %ebp
    movl %esp, %ebp
    pushl %ebx
    pushl %esi
    pushl %edi
    movl 8(%ebp), %eax
    shll $5, %eax
    addl $hypercall_page, %eax
    movl 12(%ebp), %ebx
    movl 16(%ebp), %ecx
    movl 20(%ebp), %edx
    movl 24(%ebp), %esi
    movl 28(%ebp), %edi
    call *%eax
    popl %edi
    popl %esi
    popl %ebx
    popl %ebp
    ret

/* Probes (see the 64-bit version for the protocol). */
    .globl probe_read32
probe_read32:
    movl 4(%esp), %ecx
1:  movl (%ecx), %eax
    ret
2:  xorl %eax, %eax
    ret
    .pushsection .extable, "a"
    .balign 4
    .long 1b, 2b
    .popsection

    .globl probe_write32
probe_write32:
    movl 4(%esp), %ecx
    movl 8(%esp), %edx
1:  movl %edx, (%ecx)
2:  ret
    .pushsection .extable, "a"
    .balign 4
    .long 1b, 2b
    .popsection

    .globl probe_exec
probe_exec:
    movl 4(%esp), %ecx
    call *%ecx
    ret
    .globl probe_exec_landing
probe_exec_landing:
    addl $4, %esp               /* drop the return address of the call */
    ret

/* ------------------------------------------------------------------------
 * Exception stubs, 16 bytes apart.  Frame on entry (same privilege level):
 * [error code], eip, cs, eflags.
 * ---------------------------------------------------------------------- */
    .balign 16
    .globl exc_stubs
exc_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushl $0
    .endif
    pushl $\vec
    jmp exc_common
.endr

exc_common:
    pushal
    movl %esp, %eax
    movl %esp, %ebp
    andl $-16, %esp
    subl $12, %esp
    pushl %eax                  /* &mut TrapFrame */
    call exception_dispatch
    movl %ebp, %esp
    popal
    addl $8, %esp               /* vector, error code */
    iretl
"#,
    options(att_syntax)
);
