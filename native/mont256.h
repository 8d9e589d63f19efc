/*
 * Arithmetic modulo a 254-bit prime in Montgomery form over four 64-bit limbs, shared by
 * zktrust's addons (poseidon-bn254.c over r, msm-bn254.c over q). Every function takes the
 * modulus and -modulus^-1 mod 2^64; the callers pass compile-time constants, so after
 * inlining the code is what a single-modulus version would be. Also the one Node-API helper
 * both addons need. Little-endian limbs; inputs below the modulus unless stated.
 *
 * Two implementations of the multiplication: portable C (128-bit products), and on x86-64
 * an inline-assembly one with BMI2's mulx and ADX's adcx/adox (two independent carry chains,
 * about 1.8x faster on the development machine). mont_init() picks the assembly when the
 * CPU has both extensions, at run time, so an addon built on one x86-64 machine still runs
 * on another; ZKTRUST_NATIVE_ASM=0 forces the portable code. Both give the same results
 * (test/unit/native-poseidon.test.ts and test/prover/engine.test.ts compare them).
 */
#ifndef ZKTRUST_MONT256_H
#define ZKTRUST_MONT256_H
#include <node_api.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

#if defined(__x86_64__) && defined(__GNUC__) && !defined(MONT_NO_ASM)
#define MONT_HAVE_ASM 1
/*
 * The assembly. Every routine is a fixed sequence of rows; in a row, rdx holds one 64-bit
 * word w, and for each limb x[j] of the other operand `mulx` gives the 128-bit w * x[j] as
 * (lo, hi); lo is added at column j by the adcx chain (carry flag) and hi at column j + 1 by
 * the adox chain (overflow flag), so the two carry chains run side by side. A row ends by
 * adding the carry flag into its fifth word A4; where more words follow, the callers add
 * the pending carries upwards (MONT_UP). A row's words A0..A4 are named by the caller, so
 * register roles rotate from row to row instead of words moving. AT&T order:
 * `mulxq src, lo, hi`.
 */
#define MONT_ROW(W, X, A0, A1, A2, A3, A4)                                                       \
  W "xorl %k[lo], %k[lo]\n\t"                                                                    \
  "mulxq 0(%[" X "]), %[lo], %[hi]\n\tadcxq %[lo], %[" A0 "]\n\tadoxq %[hi], %[" A1 "]\n\t"  \
  "mulxq 8(%[" X "]), %[lo], %[hi]\n\tadcxq %[lo], %[" A1 "]\n\tadoxq %[hi], %[" A2 "]\n\t"  \
  "mulxq 16(%[" X "]), %[lo], %[hi]\n\tadcxq %[lo], %[" A2 "]\n\tadoxq %[hi], %[" A3 "]\n\t" \
  "mulxq 24(%[" X "]), %[lo], %[hi]\n\tadcxq %[lo], %[" A3 "]\n\tadoxq %[hi], %[" A4 "]\n\t" \
  "movl $0, %k[lo]\n\tadcxq %[lo], %[" A4 "]\n\t"
/* rdx = a word of the multiplier, or the reduction factor T[i] * inv mod 2^64. */
#define MONT_WORD(OFF, P) "movq " OFF "(%[" P "]), %%rdx\n\t"
#define MONT_QUOT(A0) "movq %[" A0 "], %%rdx\n\timulq %[inv], %%rdx\n\t"
/* Both pending carries into word A (a carry chain that has ended adds 0). */
#define MONT_UP(A) "adcxq %[lo], %[" A "]\n\tadoxq %[lo], %[" A "]\n\t"

/* CIOS: each row adds a times one word of b, then one reduction word's multiple of m, and
 * drops the zero low word. The accumulator is five words in registers, renamed per row
 * instead of moved: with a, b < m < 2^254 it stays below 2m between rows and below
 * (2^65 + 1) m < 2^320 within one, so no sixth word and no carry out of the fifth (which
 * is also why the chains' last carries can be left pending). The word dropped by a row is
 * zero, and becomes the next row's fifth word. */
#define MONT_CIOS_ROW(OFF, A0, A1, A2, A3, A4) \
  MONT_ROW(MONT_WORD(OFF, "a"), "b", A0, A1, A2, A3, A4) MONT_ROW(MONT_QUOT(A0), "m", A0, A1, A2, A3, A4)
static inline void mont_mul_asm(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4], u64 inv) {
  u64 t0 = 0, t1 = 0, t2 = 0, t3 = 0, t4 = 0, lo, hi;
  __asm__(MONT_CIOS_ROW("0", "t0", "t1", "t2", "t3", "t4")
          MONT_CIOS_ROW("8", "t1", "t2", "t3", "t4", "t0")
          MONT_CIOS_ROW("16", "t2", "t3", "t4", "t0", "t1")
          MONT_CIOS_ROW("24", "t3", "t4", "t0", "t1", "t2")
          : [t0] "+&r"(t0), [t1] "+&r"(t1), [t2] "+&r"(t2), [t3] "+&r"(t3), [t4] "+&r"(t4), [lo] "=&r"(lo), [hi] "=&r"(hi)
          : [a] "r"(a), [b] "r"(b), [m] "r"(m), [inv] "rm"(inv)
          : "rdx", "cc", "memory");
  u64 t[4] = {t4, t0, t1, t2};
  if (mont_geq(t, m)) mont_sub_in_place(t, m);
  r[0] = t[0]; r[1] = t[1]; r[2] = t[2]; r[3] = t[3];
}

#define MONT_WIDE_OPERANDS                                                                                        \
  [T0] "+&r"(T[0]), [T1] "+&r"(T[1]), [T2] "+&r"(T[2]), [T3] "+&r"(T[3]), [T4] "+&r"(T[4]), [T5] "+&r"(T[5]), \
  [T6] "+&r"(T[6]), [T7] "+&r"(T[7]), [lo] "=&r"(lo), [hi] "=&r"(hi)
/* T += a * b over eight words; the caller keeps the sum below 2^512. */
static inline void mont_mul_acc_asm(u64 T[8], const u64 a[4], const u64 b[4]) {
  u64 lo, hi;
  __asm__(MONT_ROW(MONT_WORD("0", "b"), "a", "T0", "T1", "T2", "T3", "T4") MONT_UP("T5") MONT_UP("T6") MONT_UP("T7")
          MONT_ROW(MONT_WORD("8", "b"), "a", "T1", "T2", "T3", "T4", "T5") MONT_UP("T6") MONT_UP("T7")
          MONT_ROW(MONT_WORD("16", "b"), "a", "T2", "T3", "T4", "T5", "T6") MONT_UP("T7")
          MONT_ROW(MONT_WORD("24", "b"), "a", "T3", "T4", "T5", "T6", "T7")
          : MONT_WIDE_OPERANDS
          : [a] "r"(a), [b] "r"(b)
          : "rdx", "cc", "memory");
}
/* r = T * R^-1 mod m for T < m * R (T is clobbered). */
static inline void mont_redc_asm(u64 r[4], u64 T[8], const u64 m[4], u64 inv) {
  u64 lo, hi;
  __asm__(MONT_ROW(MONT_QUOT("T0"), "m", "T0", "T1", "T2", "T3", "T4") MONT_UP("T5") MONT_UP("T6") MONT_UP("T7")
          MONT_ROW(MONT_QUOT("T1"), "m", "T1", "T2", "T3", "T4", "T5") MONT_UP("T6") MONT_UP("T7")
          MONT_ROW(MONT_QUOT("T2"), "m", "T2", "T3", "T4", "T5", "T6") MONT_UP("T7")
          MONT_ROW(MONT_QUOT("T3"), "m", "T3", "T4", "T5", "T6", "T7")
          : MONT_WIDE_OPERANDS
          : [m] "r"(m), [inv] "rm"(inv)
          : "rdx", "cc", "memory");
  u64 t[4] = {T[4], T[5], T[6], T[7]};
  if (mont_geq(t, m)) mont_sub_in_place(t, m);
  r[0] = t[0]; r[1] = t[1]; r[2] = t[2]; r[3] = t[3];
}
#endif

/* Whether mont_mul uses the assembly (set by mont_init, or by mont_set_asm for the tests). */
static int mont_asm;

/* Picks the implementation for this CPU; call once when the addon loads. */
static inline void mont_init(void) {
#ifdef MONT_HAVE_ASM
  const char *env = getenv("ZKTRUST_NATIVE_ASM");
  __builtin_cpu_init();
  mont_asm = __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("adx") && !(env && strcmp(env, "0") == 0);
#endif
}

/* Asks for the assembly (1) or the portable code (0); returns what is in use after. */
static inline int mont_set_asm(int on) {
  if (!on) mont_asm = 0;
  else mont_init();
  return mont_asm;
}

/* r = a * b * R^-1 mod m (R = 2^256). r may alias a or b. */
static inline void mont_mul_c(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4], u64 inv);
static inline void mont_mul(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4], u64 inv) {
#ifdef MONT_HAVE_ASM
  if (mont_asm) {
    mont_mul_asm(r, a, b, m, inv);
    return;
  }
#endif
  mont_mul_c(r, a, b, m, inv);
}

/* The portable multiplication, in product-scanning form (column by column, the reduction
 * interleaved), one 192-bit accumulator instead of a row of carries. */
static inline void mont_mul_c(u64 r[4], const u64 a[4], const u64 b[4], const u64 m[4], u64 inv) {
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

/* The addons' useAsm(on?: boolean) -> boolean: asks for the assembly arithmetic (true) or
 * the portable one (false), for tests and comparisons, and returns whether the assembly is
 * in use after (false where the CPU lacks it); without an argument, only reports. */
static napi_value mont_napi_use_asm(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], result;
  bool on;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc > 1 || (argc == 1 && napi_get_value_bool(env, argv[0], &on) != napi_ok)) {
    napi_throw_type_error(env, NULL, "useAsm(on?) expects a boolean");
    return NULL;
  }
  if (napi_get_boolean(env, argc == 1 ? mont_set_asm(on) : mont_asm, &result) != napi_ok) return NULL;
  return result;
}

#endif
