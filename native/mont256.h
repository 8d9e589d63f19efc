/*
 * Arithmetic modulo a 254-bit prime in Montgomery form over four 64-bit limbs, shared by
 * zktrust's addons (poseidon-bn254.c over r, msm-bn254.c over q). Every function takes the
 * modulus and -modulus^-1 mod 2^64; the callers pass compile-time constants, so after
 * inlining the code is what a single-modulus version would be. Also the one Node-API helper
 * both addons need. Little-endian limbs; inputs below the modulus unless stated.
 */
#ifndef ZKTRUST_MONT256_H
#define ZKTRUST_MONT256_H
#include <node_api.h>
#include <stdint.h>

typedef uint64_t u64;
typedef unsigned __int128 u128;

/* a >= m ? */
static inline int mont_geq(const u64 a[4], const u64 m[4]) {
  for (int i = 3; i >= 0; i--) {
    if (a[i] > m[i]) return 1;
    if (a[i] < m[i]) return 0;
  }
  return 1;
}

/* a -= m, for m <= a. */
static inline void mont_sub_in_place(u64 a[4], const u64 m[4]) {
  u128 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 d = (u128)a[i] - m[i] - borrow;
    a[i] = (u64)d;
    borrow = (d >> 64) & 1;
  }
}

/* Multiply-accumulate into the 192-bit column accumulator (acc, hi). */
#define MAC(x, y)                    \
  do {                               \
    const u128 p_ = (u128)(x) * (y); \
    acc += p_;                       \
    hi += acc < p_;                  \
  } while (0)
/* Emit the low word of the accumulator and shift it down one word. */
#define SHIFT(out)                        \
  do {                                    \
    (out) = (u64)acc;                     \
    acc = (acc >> 64) | ((u128)hi << 64); \
    hi = 0;                               \
  } while (0)

/* r = a * b * R^-1 mod m (R = 2^256): Montgomery multiplication in product-scanning form
 * (column by column, the reduction interleaved), one 192-bit accumulator instead of a row
 * of carries. r may alias a or b. */
static inline void mont_mul(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4], u64 inv) {
  u64 q[4], t[4];
  u128 acc = 0;
  u64 hi = 0;
#pragma GCC unroll 4
  for (int k = 0; k < 4; k++) {
#pragma GCC unroll 4
    for (int i = 0; i < k; i++) {
      MAC(a[i], b[k - i]);
      MAC(q[i], m[k - i]);
    }
    MAC(a[k], b[0]);
    q[k] = (u64)acc * inv;
    MAC(q[k], m[0]);
    u64 zero;
    SHIFT(zero);
    (void)zero;
  }
#pragma GCC unroll 4
  for (int k = 4; k < 7; k++) {
#pragma GCC unroll 4
    for (int i = k - 3; i < 4; i++) {
      MAC(a[i], b[k - i]);
      MAC(q[i], m[k - i]);
    }
    SHIFT(t[k - 4]);
  }
  t[3] = (u64)acc;
  /* The result is below 2m < 2^255: the accumulator holds no further word. */
  if (mont_geq(t, m)) mont_sub_in_place(t, m);
  r[0] = t[0]; r[1] = t[1]; r[2] = t[2]; r[3] = t[3];
}

/* r = a + b mod m, branch-free. */
static inline void mont_add(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4]) {
  u64 s[4], d[4];
  u128 c = 0;
  for (int i = 0; i < 4; i++) {
    c += (u128)a[i] + b[i];
    s[i] = (u64)c;
    c >>= 64;
  }
  /* a + b < 2m < 2^256: no carry out of the top limb. Subtract m, keep the difference
   * unless it borrowed. */
  u128 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 x = (u128)s[i] - m[i] - borrow;
    d[i] = (u64)x;
    borrow = (x >> 64) & 1;
  }
  const u64 keep = (u64)0 - (u64)borrow;
  for (int i = 0; i < 4; i++) r[i] = (s[i] & keep) | (d[i] & ~keep);
}

/* r = a - b mod m, branch-free. */
static inline void mont_sub(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4]) {
  u64 d[4];
  u128 borrow = 0;
  for (int i = 0; i < 4; i++) {
    u128 x = (u128)a[i] - b[i] - borrow;
    d[i] = (u64)x;
    borrow = (x >> 64) & 1;
  }
  const u64 mask = (u64)0 - (u64)borrow; /* add m back when it borrowed */
  u128 c = 0;
  for (int i = 0; i < 4; i++) {
    c += (u128)d[i] + (m[i] & mask);
    r[i] = (u64)c;
    c >>= 64;
  }
}

/* The bytes of a Uint8Array argument; 0 for anything else. */
static inline int napi_uint8_bytes(napi_env env, napi_value v, uint8_t **data, size_t *len) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return 0;
  napi_typedarray_type type;
  size_t length, offset;
  void *d;
  napi_value ab;
  if (napi_get_typedarray_info(env, v, &type, &length, &d, &ab, &offset) != napi_ok || type != napi_uint8_array) return 0;
  *data = (uint8_t *)d;
  *len = length;
  return 1;
}

#endif
