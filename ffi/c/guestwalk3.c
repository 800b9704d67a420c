/* guest_walk_tables_3_levels() for Rust: see guestwalk.h. */
#define GUEST_PAGING_LEVELS 3
#include "guestwalk.h"
