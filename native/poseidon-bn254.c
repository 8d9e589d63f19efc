/*
 * Poseidon over the BN254 scalar field, bit-for-bit equal to circomlib's Poseidon(n) (the
 * optimised evaluation with sparse partial-round matrices, as src/crypto/poseidon.ts), as a
 * Node-API addon for the aggregator's ingestion path, where every record's commitment is
 * recomputed. The round constants are not compiled in: JavaScript passes them once per width
 * (setParams), from the same table src/crypto/poseidon-constants.ts that the reference uses.
 *
 * Field elements cross the boundary as 32-byte big-endian canonical integers (< r); a
 * non-canonical input is refused, never reduced. Inside, arithmetic is Montgomery form over
 * four 64-bit limbs (mont256.h: mulx/adx assembly where the CPU has it, else portable C).
 *
 * hashMany hashes `count` independent inputs synchronously; hashManyAsync does the same on
 * libuv's thread pool and resolves a promise, so the event loop stays free and two calls run
 * on two cores. Built by src/service/native-poseidon.ts with the system C compiler.
 */
#define NAPI_VERSION 8
#include <node_api.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "mont256.h"

/* r = 21888242871839275222246405745257275088548364400416034343698204186575808495617 */
static const u64 MOD[4] = {0x43e1f593f0000001ULL, 0x2833e84879b97091ULL, 0xb85045b68181585dULL, 0x30644e72e131a029ULL};
/* -r^-1 mod 2^64 */
static const u64 INV = 0xc2e1f593efffffffULL;
/* R^2 mod r, R = 2^256 */
static const u64 R2[4] = {0x1bb8e645ae216da7ULL, 0x53fe3ab1e35c59e3ULL, 0x8c49833d53bb8085ULL, 0x0216d0b17f4e44a5ULL};
static const u64 ONE[4] = {1, 0, 0, 0};

#define MAX_T 17
#define FULL_ROUNDS 8

typedef struct { u64 v[4]; } fe;

static inline int geq_mod(const u64 a[4]) { return mont_geq(a, MOD); }
static inline void sub_mod_in_place(u64 a[4]) { mont_sub_in_place(a, MOD); }
/* Over r: the shared Montgomery arithmetic of mont256.h with this file's modulus. */
static inline void fr_mul(u64 r[4], const u64 a[4], const u64 b[4]) { mont_mul(r, a, b, MOD, INV); }
static inline void add_mod(u64 r[4], const u64 a[4], const u64 b[4]) { mont_add(r, a, b, MOD); }

/* Montgomery reduction: r = T * R^-1 mod MOD, for T < MOD * R (so r < 2 MOD before the
 * final subtraction). T is clobbered. */
static inline void redc(u64 r[4], u64 T[8]) {
  u64 top = 0;
  for (int i = 0; i < 4; i++) {
    const u64 m = T[i] * INV;
    u128 c = ((u128)m * MOD[0] + T[i]) >> 64;
    for (int j = 1; j < 4; j++) {
      c += (u128)m * MOD[j] + T[i + j];
      T[i + j] = (u64)c;
      c >>= 64;
    }
    c += (u128)T[i + 4] + top;
    T[i + 4] = (u64)c;
    top = (u64)(c >> 64);
  }
  r[0] = T[4]; r[1] = T[5]; r[2] = T[6]; r[3] = T[7];
  if (geq_mod(r)) sub_mod_in_place(r);
}

/* Sum of products of Montgomery pairs x[j] * y[j * stride], j < n, product-scanning
 * (column by column into a 192-bit accumulator) and reduced once per LAZY terms: each
 * product is below MOD^2 and LAZY * MOD < R (MOD < 2^253.7, so at most 5 terms), which keeps
 * every partial sum within redc's bound. */
#define LAZY 5
static inline void dot(u64 r[4], const fe *x, const fe *y, int n, int stride) {
  u64 out[4] = {0, 0, 0, 0};
#ifdef MONT_HAVE_ASM
  if (mont_asm) {
    /* The same lazy sums, with the assembly's multiply-accumulate and reduction. */
    for (int j0 = 0; j0 < n; j0 += LAZY) {
      const int j1 = j0 + LAZY < n ? j0 + LAZY : n;
      u64 T[8] = {0, 0, 0, 0, 0, 0, 0, 0}, part[4];
      for (int j = j0; j < j1; j++) mont_mul_acc_asm(T, x[j].v, y[j * stride].v);
      mont_redc_asm(part, T, MOD, INV);
      add_mod(out, out, part);
    }
    memcpy(r, out, sizeof out);
    return;
  }
#endif
  for (int j0 = 0; j0 < n; j0 += LAZY) {
    const int j1 = j0 + LAZY < n ? j0 + LAZY : n;
    u64 T[8], part[4];
    /* Two accumulators (even and odd terms), merged per column: two independent carry
     * chains instead of one long one (about 12% faster here). */
    u128 acc = 0, acc2 = 0;
    u64 hi = 0, hi2 = 0;
#pragma GCC unroll 8
    for (int k = 0; k < 7; k++) {
      for (int j = j0; j < j1; j++) {
        const u64 *a = x[j].v, *b = y[j * stride].v;
        if (j & 1) {
#pragma GCC unroll 4
          for (int i = (k > 3 ? k - 3 : 0); i <= (k < 3 ? k : 3); i++) {
            const u128 p = (u128)a[i] * b[k - i];
            acc2 += p;
            hi2 += acc2 < p;
          }
        } else {
#pragma GCC unroll 4
          for (int i = (k > 3 ? k - 3 : 0); i <= (k < 3 ? k : 3); i++) MAC(a[i], b[k - i]);
        }
      }
      acc += acc2;
      hi += hi2 + (acc < acc2);
      acc2 = 0;
      hi2 = 0;
      SHIFT(T[k]);
    }
    T[7] = (u64)acc;
    redc(part, T);
    add_mod(out, out, part);
  }
  memcpy(r, out, sizeof out);
}

static inline void pow5(u64 a[4]) {
  u64 a2[4], a4[4];
  fr_mul(a2, a, a);
  fr_mul(a4, a2, a2);
  fr_mul(a, a4, a);
}

/* Parameters of one width, in Montgomery form. m and p are stored as m[j][i] (row j). */
typedef struct {
  int ready;
  int t;
  int partial;
  fe *c;
  fe *s;
  fe *m;
  fe *p;
} params_t;

static params_t PARAMS[MAX_T + 1]; /* indexed by the number of inputs */

static void to_mont(u64 out[4], const u64 in[4]) { fr_mul(out, in, R2); }
static void from_mont(u64 out[4], const u64 in[4]) { fr_mul(out, in, ONE); }

/* 32 big-endian bytes <-> four little-endian-ordered 64-bit limbs. */
static void load_be(u64 out[4], const uint8_t *b) {
  for (int i = 0; i < 4; i++) {
    u64 x = 0;
    for (int k = 0; k < 8; k++) x = (x << 8) | b[8 * (3 - i) + k];
    out[i] = x;
  }
}

static void store_be(uint8_t *b, const u64 in[4]) {
  for (int i = 0; i < 4; i++)
    for (int k = 0; k < 8; k++) b[8 * (3 - i) + k] = (uint8_t)(in[i] >> (8 * (7 - k)));
}

/* state' = state x M: out[i] = sum_j m[j][i] * state[j]. */
static void mix(fe *state, const fe *m, int t) {
  fe out[MAX_T];
  for (int i = 0; i < t; i++) dot(out[i].v, state, m + i, t, t);
  memcpy(state, out, sizeof(fe) * t);
}

/* Poseidon of n inputs (Montgomery form) -> out (Montgomery form). */
static void permute(const params_t *pp, const fe *in, u64 out[4]) {
  const int t = pp->t, half = FULL_ROUNDS / 2;
  fe st[MAX_T];
  memset(st[0].v, 0, sizeof st[0].v);
  for (int i = 1; i < t; i++) st[i] = in[i - 1];
  for (int i = 0; i < t; i++) add_mod(st[i].v, st[i].v, pp->c[i].v);
  for (int r = 0; r < half - 1; r++) {
    for (int i = 0; i < t; i++) {
      pow5(st[i].v);
      add_mod(st[i].v, st[i].v, pp->c[(r + 1) * t + i].v);
    }
    mix(st, pp->m, t);
  }
  for (int i = 0; i < t; i++) {
    pow5(st[i].v);
    add_mod(st[i].v, st[i].v, pp->c[half * t + i].v);
  }
  mix(st, pp->p, t);
  const int base = (half + 1) * t;
  for (int r = 0; r < pp->partial; r++) {
    pow5(st[0].v);
    add_mod(st[0].v, st[0].v, pp->c[base + r].v);
    const fe *s = pp->s + (2 * t - 1) * r;
    u64 s0[4], prod[4];
    dot(s0, st, s, t, 1);
    for (int k = 1; k < t; k++) {
      fr_mul(prod, st[0].v, s[t + k - 1].v);
      add_mod(st[k].v, st[k].v, prod);
    }
    memcpy(st[0].v, s0, sizeof s0);
  }
  for (int r = 0; r < half - 1; r++) {
    for (int i = 0; i < t; i++) {
      pow5(st[i].v);
      add_mod(st[i].v, st[i].v, pp->c[base + pp->partial + r * t + i].v);
    }
    mix(st, pp->m, t);
  }
  for (int i = 0; i < t; i++) pow5(st[i].v);
  /* Only the first output of the last mix is needed. */
  dot(out, st, pp->m, t, t);
}

/*
 * Hashes `count` inputs of `n` elements each from `in` (big-endian, canonical) into `out`.
 * Returns the index of the first non-canonical input element plus one, or 0.
 */
static size_t hash_many(const params_t *pp, int n, const uint8_t *in, uint8_t *out, size_t count) {
  fe x[MAX_T];
  for (size_t k = 0; k < count; k++) {
    for (int i = 0; i < n; i++) {
      u64 raw[4];
      load_be(raw, in + (k * n + i) * 32);
      if (geq_mod(raw)) return k * n + i + 1;
      to_mont(x[i].v, raw);
    }
    u64 h[4], canon[4];
    permute(pp, x, h);
    from_mont(canon, h);
    store_be(out + k * 32, canon);
  }
  return 0;
}

/* ---- Node-API glue ---- */

#define CHECK(call)                                                         \
  do {                                                                      \
    if ((call) != napi_ok) {                                                \
      napi_throw_error(env, NULL, "poseidon-bn254: Node-API call failed"); \
      return NULL;                                                          \
    }                                                                       \
  } while (0)

static int get_int(napi_env env, napi_value v, int32_t *out) { return napi_get_value_int32(env, v, out) == napi_ok; }

#define get_bytes napi_uint8_bytes

/* Loads `len` elements from a byte array into Montgomery form; 0 on a non-canonical value. */
static int load_table(fe **dst, const uint8_t *b, size_t len) {
  fe *t = (fe *)malloc(sizeof(fe) * (len ? len : 1));
  if (!t) return 0;
  for (size_t i = 0; i < len; i++) {
    u64 raw[4];
    load_be(raw, b + 32 * i);
    if (geq_mod(raw)) {
      free(t);
      return 0;
    }
    to_mont(t[i].v, raw);
  }
  *dst = t;
  return 1;
}

/* setParams(n, partialRounds, C, S, M, P): byte arrays of 32-byte big-endian elements. */
static napi_value set_params(napi_env env, napi_callback_info info) {
  size_t argc = 6;
  napi_value argv[6];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  int32_t n, partial;
  uint8_t *c, *s, *m, *p;
  size_t lc, ls, lm, lp;
  if (argc != 6 || !get_int(env, argv[0], &n) || !get_int(env, argv[1], &partial) || !get_bytes(env, argv[2], &c, &lc) ||
      !get_bytes(env, argv[3], &s, &ls) || !get_bytes(env, argv[4], &m, &lm) || !get_bytes(env, argv[5], &p, &lp)) {
    napi_throw_type_error(env, NULL, "setParams(n, partialRounds, C, S, M, P) expects two integers and four Uint8Arrays");
    return NULL;
  }
  const int t = n + 1;
  if (n < 1 || n >= MAX_T || partial < 1 || partial > 1000) {
    napi_throw_range_error(env, NULL, "setParams: unsupported width or round count");
    return NULL;
  }
  const size_t nc = (size_t)t * FULL_ROUNDS + partial, ns = (size_t)(2 * t - 1) * partial, nm = (size_t)t * t;
  if (lc != 32 * nc || ls != 32 * ns || lm != 32 * nm || lp != 32 * nm) {
    napi_throw_range_error(env, NULL, "setParams: constant tables have the wrong sizes");
    return NULL;
  }
  params_t pp = {1, t, partial, NULL, NULL, NULL, NULL};
  if (!load_table(&pp.c, c, nc) || !load_table(&pp.s, s, ns) || !load_table(&pp.m, m, nm) || !load_table(&pp.p, p, nm)) {
    free(pp.c); free(pp.s); free(pp.m); free(pp.p);
    napi_throw_range_error(env, NULL, "setParams: a constant is not a canonical field element");
    return NULL;
  }
  params_t *old = &PARAMS[n];
  if (old->ready) {
    free(old->c); free(old->s); free(old->m); free(old->p);
  }
  PARAMS[n] = pp;
  return NULL;
}

typedef struct {
  int n;
  uint8_t *in;
  uint8_t *out;
  size_t count;
  size_t bad;
  napi_ref in_ref, out_ref;
  napi_deferred deferred;
  napi_async_work work;
} job_t;

/* Shared argument checks of hashMany / hashManyAsync: (n, inputs, output). */
static int parse_job(napi_env env, napi_callback_info info, job_t *job, napi_value *in_v, napi_value *out_v) {
  size_t argc = 3;
  napi_value argv[3];
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return 0;
  int32_t n;
  size_t lin, lout;
  if (argc != 3 || !get_int(env, argv[0], &n) || !get_bytes(env, argv[1], &job->in, &lin) || !get_bytes(env, argv[2], &job->out, &lout)) {
    napi_throw_type_error(env, NULL, "expects (n, inputs: Uint8Array, output: Uint8Array)");
    return 0;
  }
  if (n < 1 || n >= MAX_T || !PARAMS[n].ready) {
    napi_throw_range_error(env, NULL, "no parameters for this number of inputs (setParams first)");
    return 0;
  }
  if (lin % (32 * (size_t)n) != 0 || lout != lin / n) {
    napi_throw_range_error(env, NULL, "inputs must be count * n * 32 bytes and output count * 32 bytes");
    return 0;
  }
  job->n = n;
  job->count = lin / (32 * (size_t)n);
  *in_v = argv[1];
  *out_v = argv[2];
  return 1;
}

static void throw_non_canonical(napi_env env, size_t bad) {
  char msg[128];
  snprintf(msg, sizeof msg, "input element %zu is not a canonical field element", bad - 1);
  napi_throw_range_error(env, "ERR_NON_CANONICAL", msg);
}

/* hashMany(n, inputs, output): synchronous. */
static napi_value hash_many_sync(napi_env env, napi_callback_info info) {
  job_t job;
  napi_value in_v, out_v;
  if (!parse_job(env, info, &job, &in_v, &out_v)) return NULL;
  size_t bad = hash_many(&PARAMS[job.n], job.n, job.in, job.out, job.count);
  if (bad) throw_non_canonical(env, bad);
  return NULL;
}

static void execute(napi_env env, void *data) {
  (void)env;
  job_t *job = (job_t *)data;
  job->bad = hash_many(&PARAMS[job->n], job->n, job->in, job->out, job->count);
}

static void complete(napi_env env, napi_status status, void *data) {
  job_t *job = (job_t *)data;
  napi_value result;
  if (status != napi_ok) {
    napi_value msg;
    napi_create_string_utf8(env, "poseidon-bn254: job cancelled", NAPI_AUTO_LENGTH, &msg);
    napi_create_error(env, NULL, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else if (job->bad) {
    char text[128];
    snprintf(text, sizeof text, "input element %zu is not a canonical field element", job->bad - 1);
    napi_value msg, code;
    napi_create_string_utf8(env, text, NAPI_AUTO_LENGTH, &msg);
    napi_create_string_utf8(env, "ERR_NON_CANONICAL", NAPI_AUTO_LENGTH, &code);
    napi_create_range_error(env, code, msg, &result);
    napi_reject_deferred(env, job->deferred, result);
  } else {
    napi_get_undefined(env, &result);
    napi_resolve_deferred(env, job->deferred, result);
  }
  napi_delete_reference(env, job->in_ref);
  napi_delete_reference(env, job->out_ref);
  napi_delete_async_work(env, job->work);
  free(job);
}

/* hashManyAsync(n, inputs, output) -> Promise<void>, on the libuv thread pool. The caller
 * must not touch either array until the promise settles. */
static napi_value hash_many_async(napi_env env, napi_callback_info info) {
  job_t *job = (job_t *)calloc(1, sizeof(job_t));
  if (!job) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  napi_value in_v, out_v, promise, name;
  if (!parse_job(env, info, job, &in_v, &out_v)) {
    free(job);
    return NULL;
  }
  if (napi_create_reference(env, in_v, 1, &job->in_ref) != napi_ok || napi_create_reference(env, out_v, 1, &job->out_ref) != napi_ok ||
      napi_create_promise(env, &job->deferred, &promise) != napi_ok ||
      napi_create_string_utf8(env, "poseidon-bn254", NAPI_AUTO_LENGTH, &name) != napi_ok ||
      napi_create_async_work(env, NULL, name, execute, complete, job, &job->work) != napi_ok || napi_queue_async_work(env, job->work) != napi_ok) {
    napi_throw_error(env, NULL, "poseidon-bn254: could not queue the job");
    return NULL;
  }
  return promise;
}

static napi_value init(napi_env env, napi_value exports) {
  mont_init();
  napi_property_descriptor props[] = {
    {"useAsm", NULL, mont_napi_use_asm, NULL, NULL, NULL, napi_default, NULL},
    {"setParams", NULL, set_params, NULL, NULL, NULL, napi_default, NULL},
    {"hashMany", NULL, hash_many_sync, NULL, NULL, NULL, napi_default, NULL},
    {"hashManyAsync", NULL, hash_many_async, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
