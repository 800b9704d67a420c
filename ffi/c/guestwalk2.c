/* guest_walk_tables_2_levels() for Rust: see guestwalk.h. */
#define GUEST_PAGING_LEVELS 2
#include "guestwalk.h"
