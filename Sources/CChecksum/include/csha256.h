#ifndef CSHA256_H
#define CSHA256_H
#include <stddef.h>
#include <stdint.h>

/// 1 when this CPU has the SHA extensions (x86 SHA-NI with SSE4.1/SSSE3), else 0.
int csha256_accelerated(void);

/// Compresses `blocks` 64-byte blocks into `state` (a, b, ..., h) with SHA-NI.
/// Call only when csha256_accelerated() is 1; the portable rounds live in Swift.
void csha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
