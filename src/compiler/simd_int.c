/* The int lane instructions of the 0xFD prefix. */
#include "simd.h"

bool simd_int(fn *f, uint32_t op)
{
    (void)op;
    return fn_unsupported(f, "SIMD instruction");
}
