/*
 * The Xen headers bindgen reads (and the layout probe includes): the same
 * set multi.c includes, minus <asm/guest_pt.h> and "types.h", which depend on
 * GUEST_PAGING_LEVELS and are mirrored per level in Rust instead.
 */
#include <xen/types.h>
#include <xen/mm.h>
#include <xen/trace.h>
#include <xen/sched.h>
#include <xen/perfc.h>
#include <xen/domain_page.h>
#include <xen/iocap.h>
#include <asm/page.h>
#include <asm/current.h>
#include <asm/shadow.h>
#include <asm/flushtlb.h>
#include <asm/hvm/hvm.h>
#include <asm/hvm/cacheattr.h>
#include <asm/mtrr.h>
#include <public/sched.h>
#include "private.h"
