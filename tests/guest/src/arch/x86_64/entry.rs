//! Assembly for the 64-bit image: Xen ELF notes, the hypercall page, both
//! entry points, exception stubs and the probe helpers.

core::arch::global_asm!(
    r#"
/* ------------------------------------------------------------------------
 * Xen ELF notes (xen/include/public/elfnote.h).  Each note: namesz=4,
 * descsz, type, "Xen\0", then the descriptor padded to 4 bytes.
 * ---------------------------------------------------------------------- */
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

    /* PVH: XEN_ELFNOTE_PHYS32_ENTRY, 32-bit physical entry point. */
    XEN_NOTE 18, .long pvh_start
    /* PV: XEN_ELFNOTE_ENTRY, XEN_ELFNOTE_HYPERCALL_PAGE. */
    XEN_NOTE 1, .quad pv_start
    XEN_NOTE 2, .quad hypercall_page
    /* PV: VIRT_BASE = PADDR_OFFSET = 0, i.e. virtual == "physical". */
    XEN_NOTE 3, .quad 0
    XEN_NOTE 4, .quad 0
    /* PV: the loader only takes "generic" images built for "xen-3.0". */
    XEN_NOTE 5, .asciz "xen-3.0"
    XEN_NOTE 6, .asciz "xen-shadow-rs-guest"
    XEN_NOTE 8, .asciz "generic"

/* ------------------------------------------------------------------------
 * Hypercall page.  Filled with int3 so a call before it is set up traps.
 * ---------------------------------------------------------------------- */
    .pushsection .text.hypercall_page, "ax", @progbits
    .balign 4096
    .globl hypercall_page
hypercall_page:
    .fill 4096, 1, 0xcc
    .popsection

/* ------------------------------------------------------------------------
 * Boot data: GDT, stack, boot page tables, the PV flag.
 * ---------------------------------------------------------------------- */
    .pushsection .data.boot, "aw", @progbits
    .balign 16
boot_gdt:
    .quad 0                     /* 0x00: null */
    .quad 0x00af9a000000ffff    /* 0x08: 64-bit code, DPL0 */
    .quad 0x00cf92000000ffff    /* 0x10: flat data, DPL0 */
    .quad 0x00cf9a000000ffff    /* 0x18: flat 32-bit code, DPL0 */
boot_gdt_end:
    .balign 8
    .word 0
boot_gdt_ptr:                   /* 6 bytes used by LGDT in 32-bit mode */
    .word boot_gdt_end - boot_gdt - 1
    .long boot_gdt
    .long 0

    .globl running_pv
running_pv:
    .byte 0
    .popsection

    .pushsection .bss.boot, "aw", @nobits
    .balign 4096
boot_stack:
    .skip 65536
    .globl boot_stack_top
boot_stack_top:
    /* PML4, PDPT and 4 page directories: identity map of 0-4 GiB with
     * 2 MiB pages, used only until paging::setup() builds real tables. */
    .balign 4096
boot_pt:
    .skip 6 * 4096
    .popsection

/* ------------------------------------------------------------------------
 * PVH entry (XEN_ELFNOTE_PHYS32_ENTRY).
 * Xen starts us in 32-bit flat protected mode, paging off, interrupts off,
 * %ebx = physical address of struct hvm_start_info.  No stack.
 * ---------------------------------------------------------------------- */
    .pushsection .text.entry, "ax", @progbits
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    movl %ebx, %esi             /* keep hvm_start_info across the setup */

    lgdt boot_gdt_ptr

    /* Zero the boot page tables (6 pages). */
    movl $boot_pt, %edi
    xorl %eax, %eax
    movl $(6 * 4096 / 4), %ecx
    rep stosl

    /* PML4[0] -> PDPT (at boot_pt + 4K); flags P|RW. */
    movl $boot_pt, %edi
    leal (4096 + 3)(%edi), %eax
    movl %eax, (%edi)

    /* PDPT[0..3] -> PD0..PD3 (at boot_pt + 8K ...). */
    leal 4096(%edi), %edx
    leal (8192 + 3)(%edi), %eax
    movl $4, %ecx
1:  movl %eax, (%edx)
    addl $4096, %eax
    addl $8, %edx
    loop 1b

    /* 2048 PDEs: 2 MiB pages, P|RW|PS, identity 0-4 GiB. */
    leal 8192(%edi), %edx
    movl $0x83, %eax
    movl $2048, %ecx
2:  movl %eax, (%edx)
    addl $0x200000, %eax
    addl $8, %edx
    loop 2b

    /* Enter long mode: CR4.PAE, CR3, EFER.LME, then CR0.PG (with WP). */
    movl %cr4, %eax
    orl $0x20, %eax
    movl %eax, %cr4
    movl %edi, %cr3
    movl $0xc0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr
    movl %cr0, %eax
    orl $0x80010001, %eax
    movl %eax, %cr0

    ljmp $0x08, $pvh_long

    .code64
pvh_long:
    movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    movw %ax, %fs
    movw %ax, %gs
    leaq boot_stack_top(%rip), %rsp
    movl %esi, %edi             /* zero-extends: hvm_start_info pa */
    call rust_pvh_entry
    ud2

/* ------------------------------------------------------------------------
 * PV entry (XEN_ELFNOTE_ENTRY).  64-bit, Xen's initial page tables,
 * %rsi = virtual address of start_info.
 * ---------------------------------------------------------------------- */
    .globl pv_start
pv_start:
    cld
    leaq boot_stack_top(%rip), %rsp
    movq %rsi, %rdi
    call rust_pv_entry
    ud2
    .popsection

/* ------------------------------------------------------------------------
 * Second vCPU entries (see smp.rs); %rsp = top of the AP stack.
 * PVH (VCPU_HVM_MODE_64B): Xen gives flat 64-bit segments with null
 * selectors and no GDT, so load ours and reload CS (an IRETQ from an
 * exception handler would otherwise pop the null CS).
 * ---------------------------------------------------------------------- */
    .globl ap_start_hvm64
ap_start_hvm64:
    lgdt boot_gdt_ptr(%rip)
    pushq $0x08
    leaq 1f(%rip), %rax
    pushq %rax
    lretq
1:  movl $0x10, %eax
    movw %ax, %ds
    movw %ax, %es
    movw %ax, %ss
    call rust_ap_entry
    ud2

    /* PV: Xen loaded FLAT_KERNEL_CS/SS and our trap table. */
    .globl ap_start_pv64
ap_start_pv64:
    call rust_ap_entry
    ud2

/* ------------------------------------------------------------------------
 * Hypercalls: xen_hypercall(nr, a1..a5) with the SysV ABI.  Xen takes the
 * arguments in rdi, rsi, rdx, r10, r8 and may clobber them (debug builds
 * do); all are caller-saved here.
 * ---------------------------------------------------------------------- */
    .text
    .globl xen_hypercall
xen_hypercall:
    movq %rdi, %rax
    shlq $5, %rax
    leaq hypercall_page(%rip), %r11
    addq %r11, %rax
    movq %rsi, %rdi
    movq %rdx, %rsi
    movq %rcx, %rdx
    movq %r8, %r10
    movq %r9, %r8
    call *%rax
    ret

/* ------------------------------------------------------------------------
 * Probes: memory accesses whose fault is expected.  Each faulting
 * instruction has an entry (fault ip, resume ip) in .extable; the exception
 * handler records the fault and resumes at the second address.
 * ---------------------------------------------------------------------- */
    .globl probe_read32
probe_read32:
1:  movl (%rdi), %eax
    ret
2:  xorl %eax, %eax
    ret
    .pushsection .extable, "a"
    .balign 8
    .quad 1b, 2b
    .popsection

    .globl probe_write32
probe_write32:
1:  movl %esi, (%rdi)
2:  ret
    .pushsection .extable, "a"
    .balign 8
    .quad 1b, 2b
    .popsection

/* probe_exec(target): call code at `target` (which should just `ret`).
 * An instruction-fetch fault happens at ip == target, which no table can
 * list; the handler recognises the target (see exceptions::exec) and
 * resumes at probe_exec_landing with the return address still pushed. */
    .globl probe_exec
probe_exec:
    call *%rdi
    ret
    .globl probe_exec_landing
probe_exec_landing:
    addq $8, %rsp               /* drop the return address of the call */
    ret

/* ------------------------------------------------------------------------
 * Exception entry.
 *
 * Native (hvm64) frame on entry: [error code], rip, cs, rflags, rsp, ss.
 * The CPU aligns rsp to 16 bytes first.
 *
 * PV (pv64) frame built by Xen: rcx, r11, [error code], rip, cs, rflags,
 * rsp, ss (Xen may return to us with SYSRET, hence rcx/r11).  The PV stubs
 * pop rcx/r11 and continue in the native stub.
 *
 * Every stub is 16 bytes so the Rust side computes addresses as
 * base + 16 * vector.
 * ---------------------------------------------------------------------- */
    .balign 16
    .globl exc_stubs
exc_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    /* Vectors 8, 10-14, 17, 21, 29, 30 push an error code; push a dummy
     * one for the others so the frame layout is uniform. */
    .if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
    .else
    pushq $0
    .endif
    pushq $\vec
    jmp exc_common
.endr

    .balign 16
    .globl pv_exc_stubs
pv_exc_stubs:
.irp vec, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
    .balign 16
    popq %rcx
    popq %r11
    jmp exc_stubs + 16 * \vec
.endr

exc_common:
    pushq %rax
    pushq %rbx
    pushq %rcx
    pushq %rdx
    pushq %rsi
    pushq %rdi
    pushq %rbp
    pushq %r8
    pushq %r9
    pushq %r10
    pushq %r11
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, %rdi             /* &mut TrapFrame */
    movq %rsp, %rbp
    andq $-16, %rsp             /* SysV call alignment, whatever we came with */
    call exception_dispatch
    movq %rbp, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %r11
    popq %r10
    popq %r9
    popq %r8
    popq %rbp
    popq %rdi
    popq %rsi
    popq %rdx
    popq %rcx
    popq %rbx
    popq %rax
    addq $16, %rsp              /* vector, error code */
    cmpb $0, running_pv(%rip)
    jne 1f
    iretq
1:  /* PV: HYPERVISOR_iret.  Stack: flags (0: not returning from a
     * syscall), rip, cs, rflags, rsp, ss; the hypercall page's iret stub
     * pushes rax/rcx/r11 itself. */
    pushq $0
    jmp hypercall_page + 23 * 32
"#,
    options(att_syntax)
);
