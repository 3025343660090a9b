#ifndef CSHA256_H
#define CSHA256_H
#include <stddef.h>
#include <stdint.h>

/// The 64 round constants (first 32 bits of the cube roots of the first 64 primes),
/// shared with the portable Swift rounds.
extern const uint32_t csha256_round_constants[64];

/// 1 when this CPU has the SHA extensions (x86 SHA-NI with SSE4.1/SSSE3), else 0.
int csha256_accelerated(void);

/// Compresses `blocks` 64-byte blocks into `state` (a, b, ..., h) with SHA-NI.
/// Call only when csha256_accelerated() is 1; the portable rounds live in Swift.
void csha256_blocks(uint32_t state[8], const uint8_t *data, size_t blocks);

#endif
